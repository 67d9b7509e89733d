//! MQTT: the hub as a client of the office broker, with a persistent session and manual acks.
//!
//! The hub subscribes at QoS 1 under a fixed client id with `clean_session = false`, so the
//! broker keeps reports that devices publish while the hub is away. It acknowledges a PUBLISH
//! only after the report is committed: a crash before that makes the broker deliver it again,
//! and the idempotency key stores it once.

mod field;
mod notices;
mod reports;
pub mod topics;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, ConnectionError, Event, EventLoop, LastWill, MqttOptions, Packet, QoS};
use serde::Serialize;
use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use self::field::FieldSync;
use self::notices::NoticeSync;
use crate::bus::Bus;
use crate::config::{Config, ConfigError};
use crate::notices::Notices;
use crate::reports::Intake;
use crate::store::Store;
use crate::triage::Triage;
pub use topics::Topics;

/// Reports being stored at once from MQTT. When all are busy, the event loop stops reading,
/// TCP pushes back, and the broker holds the rest: nothing is dropped.
const MAX_IN_FLIGHT_REPORTS: usize = 256;
/// Requests (publishes, acks) queued for the event loop. Larger than two per in-flight report,
/// so `try_publish`/`try_ack` from report handlers never find it full.
const REQUEST_QUEUE: usize = 4096;
const MIN_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Packets beyond the message limit: headroom for the topic and headers.
const PACKET_HEADROOM: usize = 64 * 1024;

/// The hub's connection to the broker, as `/readyz` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BrokerState {
    Disabled,
    Connecting,
    Connected,
    Disconnected,
}

/// A handle for publishing to the broker.
#[derive(Clone)]
pub struct MqttLink {
    pub client: AsyncClient,
    pub topics: Arc<Topics>,
}

/// What the MQTT channel works with.
pub struct MqttDeps {
    pub intake: Intake,
    pub notices: Notices,
    pub store: Store,
    pub triage: Triage,
    pub bus: Bus,
}

/// Everything the event loop task needs.
struct Runner {
    link: MqttLink,
    intake: Intake,
    notice_sync: NoticeSync,
    field_sync: FieldSync,
    max_payload: usize,
    state_tx: watch::Sender<BrokerState>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    /// Bounds concurrent report handling, see `MAX_IN_FLIGHT_REPORTS`.
    permits: Arc<Semaphore>,
}

/// Starts the MQTT client if enabled. The hub serves HTTP and WebSocket whatever the broker does.
pub fn start(
    config: &Config,
    deps: MqttDeps,
    shutdown: CancellationToken,
    tasks: &TaskTracker,
) -> Result<(watch::Receiver<BrokerState>, Option<MqttLink>), ConfigError> {
    if !config.mqtt.enabled {
        let (_, state_rx) = watch::channel(BrokerState::Disabled);
        return Ok((state_rx, None));
    }
    let topics = Arc::new(Topics::new(config.mqtt_prefix()));
    let (client, eventloop) = AsyncClient::new(options(config, &topics)?, REQUEST_QUEUE);
    let (state_tx, state_rx) = watch::channel(BrokerState::Connecting);
    let link = MqttLink { client, topics };
    let notice_sync = NoticeSync {
        link: link.clone(),
        store: deps.store,
        deliveries: deps.notices.deliveries().clone(),
    };
    tasks.spawn(
        notice_sync
            .clone()
            .follow(deps.bus.clone(), shutdown.clone()),
    );
    let field_sync = FieldSync {
        link: link.clone(),
        triage: deps.triage,
    };
    tasks.spawn(field_sync.clone().follow(deps.bus, shutdown.clone()));
    let runner = Runner {
        link: link.clone(),
        intake: deps.intake,
        notice_sync,
        field_sync,
        max_payload: config.intake.max_body_bytes,
        state_tx,
        shutdown,
        tasks: tasks.clone(),
        permits: Arc::new(Semaphore::new(MAX_IN_FLIGHT_REPORTS)),
    };
    tasks.spawn(runner.run(eventloop));
    Ok((state_rx, Some(link)))
}

fn options(config: &Config, topics: &Topics) -> Result<MqttOptions, ConfigError> {
    let (host, port) = config.mqtt_broker()?;
    let mut options = MqttOptions::new(config.mqtt_client_id(), host, port);
    let packet_limit = config.intake.max_body_bytes + PACKET_HEADROOM;
    options
        .set_clean_session(false)
        .set_manual_acks(true)
        .set_keep_alive(Duration::from_secs(30))
        .set_max_packet_size(packet_limit, packet_limit)
        .set_last_will(LastWill::new(
            topics.hub_state(),
            hub_state("offline"),
            QoS::AtLeastOnce,
            true,
        ));
    if let Some((user, password)) = config.mqtt_credentials() {
        options.set_credentials(user, password);
    }
    Ok(options)
}

fn hub_state(state: &str) -> Vec<u8> {
    format!(r#"{{"state":"{state}"}}"#).into_bytes()
}

impl Runner {
    async fn run(self, mut eventloop: EventLoop) {
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
                    let Some(permit) = self
                        .shutdown
                        .run_until_cancelled(self.permits.clone().acquire_owned())
                        .await
                    else {
                        break;
                    };
                    let permit = permit.expect("the semaphore is never closed");
                    self.dispatch(publish, permit);
                }
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

    /// Reports go to intake; the hub's own notices coming back go to the notice sync; what
    /// devices say about themselves and their tasks goes to the field sync.
    fn dispatch(&self, publish: rumqttc::Publish, permit: tokio::sync::OwnedSemaphorePermit) {
        if self.link.topics.parse_device(&publish.topic).is_some() {
            let (sync, client) = (self.field_sync.clone(), self.link.client.clone());
            self.tasks.spawn(async move {
                if sync.on_device_message(&publish).await {
                    let _ = client.try_ack(&publish);
                }
                drop(permit);
            });
            return;
        }
        if self.link.topics.parse_notice(&publish.topic).is_some() {
            let (sync, client) = (self.notice_sync.clone(), self.link.client.clone());
            self.tasks.spawn(async move {
                sync.on_echo(&publish).await;
                let _ = client.try_ack(&publish);
                drop(permit);
            });
            return;
        }
        let (link, intake) = (self.link.clone(), self.intake.clone());
        self.tasks.spawn(reports::handle(
            link,
            intake,
            publish,
            self.max_payload,
            permit,
        ));
    }

    fn on_connected(&self, outage_since: Option<Instant>) {
        let topics = &self.link.topics;
        // Subscribing on every connect is harmless and covers a broker that lost our session.
        let _ = self
            .link
            .client
            .try_subscribe(topics.reports_filter(), QoS::AtLeastOnce);
        let _ = self
            .link
            .client
            .try_subscribe(topics.notices_filter(), QoS::AtLeastOnce);
        for filter in topics.device_filters() {
            let _ = self.link.client.try_subscribe(filter, QoS::AtLeastOnce);
        }
        let sync = self.notice_sync.clone();
        self.tasks.spawn(async move { sync.republish_all().await });
        let field = self.field_sync.clone();
        self.tasks.spawn(async move { field.republish_all().await });
        let _ = self.link.client.try_publish(
            topics.hub_state(),
            QoS::AtLeastOnce,
            true,
            hub_state("online"),
        );
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
        let topics = &self.link.topics;
        let _ = self.link.client.try_publish(
            topics.hub_state(),
            QoS::AtLeastOnce,
            true,
            hub_state("offline"),
        );
        let _ = self.link.client.try_disconnect();
        let flush = async {
            while let Ok(event) = eventloop.poll().await {
                if matches!(event, Event::Outgoing(rumqttc::Outgoing::Disconnect)) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(2), flush).await;
    }
}
