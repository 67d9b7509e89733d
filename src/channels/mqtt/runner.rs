//! Keeping a connection to the broker: the state it reports, outages logged once, and
//! reconnection with backoff; and the publisher connection's rumqttc event loop.

use std::time::{Duration, Instant};

use rumqttc::{Event, EventLoop, Outgoing, Packet};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::BrokerState;
use super::publisher::PublisherDriver;

const MIN_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How long a clean shutdown waits for the DISCONNECT to leave.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(2);

/// One connection's state and outages: logs the first failure of an outage as a warning and
/// the retries quietly, and waits a little longer before each retry.
pub(super) struct Outage {
    /// `intake` or `publisher`, for the logs.
    name: &'static str,
    state_tx: watch::Sender<BrokerState>,
    since: Option<Instant>,
    backoff: Duration,
}

impl Outage {
    pub(super) fn new(name: &'static str, state_tx: watch::Sender<BrokerState>) -> Outage {
        Outage {
            name,
            state_tx,
            since: None,
            backoff: MIN_BACKOFF,
        }
    }

    pub(super) fn connected(&mut self) {
        self.state_tx.send_replace(BrokerState::Connected);
        self.backoff = MIN_BACKOFF;
        let name = self.name;
        match self.since.take() {
            Some(since) => tracing::info!(
                connection = name,
                after_secs = since.elapsed().as_secs(),
                "MQTT broker reachable again"
            ),
            None => tracing::info!(connection = name, "connected to the MQTT broker"),
        }
    }

    /// Records a failure and waits before the next try; false if the hub stopped meanwhile.
    pub(super) async fn failed(&mut self, why: &str, shutdown: &CancellationToken) -> bool {
        self.state_tx.send_replace(BrokerState::Disconnected);
        let name = self.name;
        if self.since.is_none() {
            self.since = Some(Instant::now());
            tracing::warn!(
                connection = name,
                why,
                "MQTT broker unreachable; HTTP and WebSocket keep serving, retrying with backoff"
            );
        } else {
            tracing::debug!(connection = name, why, "MQTT broker still unreachable");
        }
        let wait = self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        shutdown
            .run_until_cancelled(tokio::time::sleep(wait))
            .await
            .is_some()
    }

    pub(super) fn is_connected(&self) -> bool {
        *self.state_tx.borrow() == BrokerState::Connected
    }
}

/// Polls the publisher connection's event loop until the hub stops; rumqttc reconnects on
/// the next poll after a failure.
pub(super) async fn run_publisher(
    driver: PublisherDriver,
    mut eventloop: EventLoop,
    mut outage: Outage,
    shutdown: CancellationToken,
) {
    loop {
        let polled = tokio::select! {
            _ = shutdown.cancelled() => break,
            polled = eventloop.poll() => polled,
        };
        match polled {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                driver.connected();
                outage.connected();
            }
            Ok(_) => {}
            Err(err) => {
                if !outage.failed(&err.to_string(), &shutdown).await {
                    break;
                }
            }
        }
    }
    if outage.is_connected() {
        say_goodbye(&driver, &mut eventloop).await;
    }
}

/// Marks the hub offline and disconnects cleanly, so the broker does not fire the Last Will.
async fn say_goodbye(driver: &PublisherDriver, eventloop: &mut EventLoop) {
    driver.goodbye();
    let flush = async {
        while let Ok(event) = eventloop.poll().await {
            if matches!(event, Event::Outgoing(Outgoing::Disconnect)) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(GOODBYE_TIMEOUT, flush).await;
}
