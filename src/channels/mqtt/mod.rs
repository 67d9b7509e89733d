//! MQTT: the hub as a client of the office broker, with a persistent session and manual acks.
//!
//! The hub subscribes at QoS 1 under a fixed client id with `clean_session = false`, so the
//! broker keeps reports that devices publish while the hub is away. It acknowledges a PUBLISH
//! only after the report is committed: a crash before that makes the broker deliver it again,
//! and the idempotency key stores it once.
//!
//! Two connections: the intake connection (`intake`) carries the subscriptions in and only
//! acknowledgements out; the publisher connection (`publisher`) carries everything the hub
//! says. A PUBACK therefore never waits behind answers, notices or tasks, and none is ever
//! dropped: one lost would keep its slot in the broker's window until the next reconnection
//! (see `progress`). PUBACKs leave in the order their messages came (`ack_order`), and the
//! hub bounds the messages it holds unacknowledged itself (`intake::MAX_UNACKED`).

mod ack_order;
mod field;
mod handled;
mod inbound;
mod intake;
mod notices;
mod progress;
mod publisher;
mod reports;
mod runner;
pub mod topics;

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, EventLoop, LastWill, MqttOptions, QoS};
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use self::ack_order::AckOrder;
use self::field::FieldSync;
use self::inbound::Inbound;
use self::intake::{IntakeConnection, IntakeOptions};
use self::notices::NoticeSync;
use self::publisher::PublisherDriver;
use self::runner::{Outage, run_publisher};
use crate::bus::Events;
use crate::channels::outbound;
use crate::config::{Config, ConfigError};
use crate::notices::Notices;
use crate::reports::Intake;
use crate::triage::Triage;
pub use progress::{IntakeProgress, IntakeSnapshot};
pub use topics::Topics;

/// Publishes queued for the publisher connection's event loop; senders wait for room.
const REQUEST_QUEUE: usize = 4096;
/// The hub's own QoS 1 publishes (answers, updates, notices) awaiting the broker's PUBACK.
/// While it is full, rumqttc reads no request, acknowledgements included: keep it wide.
const OUTGOING_WINDOW: u16 = 1000;
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
    /// Connected when both connections are.
    pub state: watch::Receiver<BrokerState>,
    pub intake: Arc<IntakeProgress>,
}

/// A handle for publishing to the broker (on the publisher connection).
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
}

/// What the MQTT channel works with.
pub struct MqttDeps {
    pub intake: Intake,
    pub notices: Notices,
    pub triage: Triage,
    pub bus: Events,
}

/// Starts the MQTT connections if enabled. The hub serves HTTP and WebSocket whatever the
/// broker does.
pub fn start(
    config: &Config,
    deps: MqttDeps,
    shutdown: CancellationToken,
    tasks: &TaskTracker,
) -> Result<(MqttHealth, Option<MqttLink>), ConfigError> {
    if !config.mqtt.enabled {
        return Ok((MqttHealth::disabled(), None));
    }
    let topics = Arc::new(Topics::new(config.mqtt_prefix()));
    let (publish_client, publish_loop) = publisher(config, &topics)?;
    let link = MqttLink {
        client: publish_client,
        topics,
    };
    let (notice_sync, field_sync) = spawn_syncs(&link, &deps, &shutdown, tasks);
    let progress = Arc::new(IntakeProgress::new(Duration::from_secs(
        config.mqtt.stall_after_secs,
    )));
    let inbound = |acks| Inbound {
        link: link.clone(),
        acks,
        intake: deps.intake,
        notice_sync: notice_sync.clone(),
        field_sync: field_sync.clone(),
        max_payload: config.intake.max_body_bytes,
        progress: progress.clone(),
        order: Arc::new(AckOrder::default()),
        shutdown: shutdown.clone(),
    };
    let (intake_state, publish_state) = (state_channel(), state_channel());
    spawn_intake(config, inbound, intake_state.0, tasks)?;
    let driver = PublisherDriver {
        link: link.clone(),
        notice_sync,
        field_sync,
        tasks: tasks.clone(),
    };
    let outage = Outage::new("publisher", publish_state.0);
    tasks.spawn(run_publisher(
        driver,
        publish_loop,
        outage,
        shutdown.clone(),
    ));
    let state = both_connected(intake_state.1, publish_state.1, tasks, shutdown);
    Ok((
        MqttHealth {
            state,
            intake: progress,
        },
        Some(link),
    ))
}

/// Starts the intake connection, which reads devices' messages and acknowledges them in order.
/// `inbound` builds the message handler around the sending side of the acknowledgements.
fn spawn_intake(
    config: &Config,
    inbound: impl FnOnce(mpsc::UnboundedSender<intake::Ack>) -> Inbound,
    state: watch::Sender<BrokerState>,
    tasks: &TaskTracker,
) -> Result<(), ConfigError> {
    let (acks_tx, acks_rx) = mpsc::unbounded_channel();
    let intake = IntakeConnection {
        options: intake_options(config)?,
        inbound: inbound(acks_tx),
        acks_rx,
        outage: Outage::new("intake", state),
        tasks: tasks.clone(),
    };
    tasks.spawn(intake.run());
    Ok(())
}

fn state_channel() -> (watch::Sender<BrokerState>, watch::Receiver<BrokerState>) {
    watch::channel(BrokerState::Connecting)
}

/// One state for both connections: connected when both are, else the worse of the two.
fn both_connected(
    mut intake: watch::Receiver<BrokerState>,
    mut publisher: watch::Receiver<BrokerState>,
    tasks: &TaskTracker,
    shutdown: CancellationToken,
) -> watch::Receiver<BrokerState> {
    let (combined_tx, combined) = state_channel();
    tasks.spawn(async move {
        loop {
            let states = (*intake.borrow_and_update(), *publisher.borrow_and_update());
            combined_tx.send_replace(match states {
                (BrokerState::Connected, BrokerState::Connected) => BrokerState::Connected,
                (BrokerState::Disconnected, _) | (_, BrokerState::Disconnected) => {
                    BrokerState::Disconnected
                }
                _ => BrokerState::Connecting,
            });
            let changed = async {
                tokio::select! {
                    changed = intake.changed() => changed,
                    changed = publisher.changed() => changed,
                }
            };
            match shutdown.run_until_cancelled(changed).await {
                Some(Ok(())) => {}
                _ => return,
            }
        }
    });
    combined
}

/// The intake connection: the hub's persistent session (`mqtt.client_id`), which the broker
/// keeps reports in while the hub is away.
fn intake_options(config: &Config) -> Result<IntakeOptions, ConfigError> {
    Ok(IntakeOptions {
        address: config.mqtt_broker()?,
        client_id: config.mqtt_client_id(),
        login: config.mqtt_credentials(),
        max_packet: config.intake.max_body_bytes + PACKET_HEADROOM,
    })
}

/// The publisher connection (`<client_id>-out`), persistent too, so that publishes in flight
/// when the broker restarts are sent again; its Last Will says the hub is offline. Nagle is
/// off: answers are small packets that must leave at once.
fn publisher(config: &Config, topics: &Topics) -> Result<(AsyncClient, EventLoop), ConfigError> {
    let mut options = base_options(config, format!("{}-out", config.mqtt_client_id()))?;
    options
        .set_inflight(OUTGOING_WINDOW)
        .set_last_will(LastWill::new(
            topics.hub_state(),
            hub_state("offline"),
            QoS::AtLeastOnce,
            true,
        ));
    let (client, mut eventloop) = AsyncClient::new(options, REQUEST_QUEUE);
    let mut network = eventloop.network_options();
    network.set_tcp_nodelay(true);
    eventloop.set_network_options(network);
    Ok((client, eventloop))
}

fn base_options(config: &Config, client_id: String) -> Result<MqttOptions, ConfigError> {
    let (host, port) = config.mqtt_broker()?;
    let mut options = MqttOptions::new(client_id, host, port);
    let packet_limit = config.intake.max_body_bytes + PACKET_HEADROOM;
    options
        .set_clean_session(false)
        .set_keep_alive(Duration::from_secs(30))
        .set_max_packet_size(packet_limit, packet_limit);
    if let Some((user, password)) = config.mqtt_credentials() {
        options.set_credentials(user, password);
    }
    Ok(options)
}

fn hub_state(state: &str) -> Vec<u8> {
    format!(r#"{{"state":"{state}"}}"#).into_bytes()
}

/// Starts mirroring committed notices and field events onto the broker.
fn spawn_syncs(
    link: &MqttLink,
    deps: &MqttDeps,
    shutdown: &CancellationToken,
    tasks: &TaskTracker,
) -> (NoticeSync, FieldSync) {
    let notice_sync = NoticeSync {
        link: link.clone(),
        notices: deps.notices.clone(),
    };
    tasks.spawn(outbound::serve(
        notice_sync.clone(),
        deps.bus.clone(),
        shutdown.clone(),
    ));
    let field_sync = FieldSync {
        link: link.clone(),
        triage: deps.triage.clone(),
    };
    tasks.spawn(
        field_sync
            .clone()
            .follow(deps.bus.clone(), shutdown.clone()),
    );
    (notice_sync, field_sync)
}

impl MqttHealth {
    /// The health of a hub that runs without MQTT (`mqtt.enabled = false`).
    fn disabled() -> MqttHealth {
        let (_, state) = watch::channel(BrokerState::Disabled);
        MqttHealth {
            state,
            intake: Arc::new(IntakeProgress::default()),
        }
    }
}
