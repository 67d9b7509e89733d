//! MQTT: the hub as a client of the office broker, with a persistent session and manual acks.
//!
//! The hub subscribes at QoS 1 under a fixed client id with `clean_session = false`, so the
//! broker keeps reports that devices publish while the hub is away. It acknowledges a PUBLISH
//! only after the report is committed: a crash before that makes the broker deliver it again,
//! and the idempotency key stores it once.
//!
//! Every PUBACK and every answer to a device is queued with a wait for room, never dropped:
//! the broker lends the hub a small window of unacknowledged messages, and one PUBACK lost
//! would keep its slot until the next reconnection (see `progress`).

mod field;
mod handled;
mod inbound;
mod notices;
mod progress;
mod reports;
mod runner;
pub mod topics;

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, LastWill, MqttOptions, Publish, QoS};
use serde::Serialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use self::field::FieldSync;
use self::inbound::Inbound;
use self::notices::NoticeSync;
use self::runner::Runner;
use crate::bus::Bus;
use crate::config::{Config, ConfigError};
use crate::notices::Notices;
use crate::reports::Intake;
use crate::store::Store;
use crate::triage::Triage;
pub use progress::{IntakeProgress, IntakeSnapshot};
pub use topics::Topics;

/// Requests (publishes, acks) queued for the event loop. Senders wait for room when it is full;
/// only the event loop itself never waits on it, since it is the one that empties it.
const REQUEST_QUEUE: usize = 4096;
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

impl BrokerState {
    pub const ALL: [BrokerState; 4] = [
        BrokerState::Disabled,
        BrokerState::Connecting,
        BrokerState::Connected,
        BrokerState::Disconnected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BrokerState::Disabled => "disabled",
            BrokerState::Connecting => "connecting",
            BrokerState::Connected => "connected",
            BrokerState::Disconnected => "disconnected",
        }
    }
}

/// What `/readyz` and `/metrics` read of the MQTT link.
#[derive(Clone)]
pub struct MqttHealth {
    pub state: watch::Receiver<BrokerState>,
    pub intake: Arc<IntakeProgress>,
}

/// A handle for publishing to the broker.
#[derive(Clone)]
pub struct MqttLink {
    pub client: AsyncClient,
    pub topics: Arc<Topics>,
}

impl MqttLink {
    /// Queues a QoS 1 publish, waiting for room in the request queue. False only once the
    /// event loop is gone (the hub is stopping).
    pub async fn send(&self, topic: String, retain: bool, payload: Vec<u8>) -> bool {
        let sent = self
            .client
            .publish(topic, QoS::AtLeastOnce, retain, payload)
            .await;
        if sent.is_err() {
            tracing::debug!("the MQTT event loop is gone; a publish was not queued");
        }
        sent.is_ok()
    }

    /// Queues the PUBACK of a message, waiting for room in the request queue.
    async fn settle(&self, ticket: &AckTicket) {
        if self.client.ack(&ticket.0).await.is_err() {
            tracing::debug!("the MQTT event loop is gone; the broker will deliver again");
        }
    }
}

/// What acknowledging a message needs, without its payload: a handler drops the payload
/// before waiting for room to acknowledge.
struct AckTicket(Publish);

impl AckTicket {
    fn of(publish: &Publish) -> AckTicket {
        let mut stub = Publish::new("", publish.qos, Vec::new());
        stub.pkid = publish.pkid;
        AckTicket(stub)
    }
}

/// What the MQTT channel works with.
pub struct MqttDeps {
    pub intake: Intake,
    pub notices: Notices,
    pub store: Store,
    pub triage: Triage,
    pub bus: Bus,
}

/// Starts the MQTT client if enabled. The hub serves HTTP and WebSocket whatever the broker does.
pub fn start(
    config: &Config,
    deps: MqttDeps,
    shutdown: CancellationToken,
    tasks: &TaskTracker,
) -> Result<(MqttHealth, Option<MqttLink>), ConfigError> {
    if !config.mqtt.enabled {
        let (_, state) = watch::channel(BrokerState::Disabled);
        let intake = Arc::new(IntakeProgress::default());
        return Ok((MqttHealth { state, intake }, None));
    }
    let progress = Arc::new(IntakeProgress::new(Duration::from_secs(
        config.mqtt.stall_after_secs,
    )));
    let topics = Arc::new(Topics::new(config.mqtt_prefix()));
    let (client, eventloop) = AsyncClient::new(options(config, &topics)?, REQUEST_QUEUE);
    let (state_tx, state) = watch::channel(BrokerState::Connecting);
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
    let inbound = Inbound {
        link: link.clone(),
        intake: deps.intake,
        notice_sync,
        field_sync,
        max_payload: config.intake.max_body_bytes,
        progress: progress.clone(),
        shutdown: shutdown.clone(),
    };
    let runner = Runner::new(inbound, state_tx, shutdown, tasks.clone());
    tasks.spawn(runner.run(eventloop));
    let health = MqttHealth {
        state,
        intake: progress,
    };
    Ok((health, Some(link)))
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
