//! The MQTT event loop: connects and reconnects with backoff, hands each message to a handler,
//! and counts PUBACKs as they leave.
//!
//! The loop never waits on the request queue: it is what empties it. The only thing it waits
//! for besides the network is a handler permit, and handlers give theirs back before they wait
//! on the queue, so the two can never wait on each other.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::{ConnectionError, Event, EventLoop, Outgoing, Packet, QoS};
use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::inbound::Inbound;
use super::{BrokerState, hub_state};

/// Messages being stored at once. When all are busy the loop stops reading, TCP pushes back,
/// and the broker holds the rest: nothing is dropped.
const MAX_IN_FLIGHT: usize = 256;
const MIN_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How long a clean shutdown waits for the DISCONNECT to leave.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(2);

pub(super) struct Runner {
    inbound: Inbound,
    state_tx: watch::Sender<BrokerState>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    /// Bounds concurrent message handling, see `MAX_IN_FLIGHT`.
    permits: Arc<Semaphore>,
}

impl Runner {
    pub(super) fn new(
        inbound: Inbound,
        state_tx: watch::Sender<BrokerState>,
        shutdown: CancellationToken,
        tasks: TaskTracker,
    ) -> Runner {
        Runner {
            inbound,
            state_tx,
            shutdown,
            tasks,
            permits: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        }
    }

    pub(super) async fn run(self, mut eventloop: EventLoop) {
        let mut backoff = MIN_BACKOFF;
        let mut outage_since: Option<Instant> = None;
        loop {
            let polled = tokio::select! {
                _ = self.shutdown.cancelled() => break,
                polled = eventloop.poll() => polled,
            };
            match polled {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    self.on_connected(outage_since.take());
                    backoff = MIN_BACKOFF;
                }
                Ok(Event::Incoming(Packet::Publish(publish))) => {
                    if publish.qos != QoS::AtMostOnce {
                        self.inbound.progress.received();
                    }
                    let Some(permit) = self
                        .shutdown
                        .run_until_cancelled(self.permits.clone().acquire_owned())
                        .await
                    else {
                        break;
                    };
                    let permit = permit.expect("the semaphore is never closed");
                    let inbound = self.inbound.clone();
                    self.tasks.spawn(inbound.handle(publish, permit));
                }
                Ok(Event::Outgoing(Outgoing::PubAck(_))) => self.inbound.progress.acked(),
                Ok(_) => {}
                Err(err) => {
                    self.on_connection_error(&err, &mut outage_since);
                    if self
                        .shutdown
                        .run_until_cancelled(tokio::time::sleep(backoff))
                        .await
                        .is_none()
                    {
                        break;
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        self.say_goodbye(&mut eventloop).await;
    }

    fn on_connected(&self, outage_since: Option<Instant>) {
        self.inbound.progress.reconnected();
        // Subscribing on every connect is harmless and covers a broker that lost our session.
        // From a task of its own: the queue may be full, and only this loop empties it.
        let inbound = self.inbound.clone();
        self.tasks.spawn(async move { inbound.announce().await });
        self.state_tx.send_replace(BrokerState::Connected);
        match outage_since {
            Some(since) => tracing::info!(
                after_secs = since.elapsed().as_secs(),
                "MQTT broker reachable again"
            ),
            None => tracing::info!("connected to the MQTT broker"),
        }
    }

    /// Logs the first failure of an outage as a warning and the retries quietly.
    fn on_connection_error(&self, err: &ConnectionError, outage_since: &mut Option<Instant>) {
        self.inbound.progress.reconnected();
        self.state_tx.send_replace(BrokerState::Disconnected);
        if outage_since.is_none() {
            *outage_since = Some(Instant::now());
            tracing::warn!(%err, "MQTT broker unreachable; HTTP and WebSocket keep serving, retrying with backoff");
        } else {
            tracing::debug!(%err, "MQTT broker still unreachable");
        }
    }

    /// Marks the hub offline and disconnects cleanly, so the broker does not fire the Last Will.
    async fn say_goodbye(&self, eventloop: &mut EventLoop) {
        if *self.state_tx.borrow() != BrokerState::Connected {
            return;
        }
        let link = &self.inbound.link;
        let _ = link.client.try_publish(
            link.topics.hub_state(),
            QoS::AtLeastOnce,
            true,
            hub_state("offline"),
        );
        let _ = link.client.try_disconnect();
        let flush = async {
            while let Ok(event) = eventloop.poll().await {
                if matches!(event, Event::Outgoing(Outgoing::Disconnect)) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(GOODBYE_TIMEOUT, flush).await;
    }
}
