//! The services every channel talks to, built once at start and cheap to clone.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Accounts;
use crate::bus::Events;
use crate::channels::mqtt::MqttHealth;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::notices::Notices;
use crate::reports::Intake;
use crate::triage::Triage;
use crate::zones::ZoneDirectory;

#[derive(Clone)]
pub struct Hub {
    pub config: Arc<Config>,
    pub zones: ZoneDirectory,
    /// The zones as vector tiles for maps, cut on demand and cached.
    pub zone_tiles: crate::tiles::ZoneTileService,
    /// The office's offline basemap, if it configured one.
    pub basemap: Option<crate::tiles::Basemap>,
    pub intake: Intake,
    pub accounts: Accounts,
    pub notices: Notices,
    /// Deliveries beyond the live connections: webhooks, Web Push, e-mail.
    pub outbox: crate::outbox::Outbox,
    /// The office's Web Push (VAPID) key, when push is on.
    pub push_key: Option<Arc<crate::channels::webpush::VapidKey>>,
    /// Conversations with citizens in chats.
    pub conversations: crate::chat::Conversations,
    /// The Telegram bot's inbound side, when Telegram is on.
    pub telegram: Option<crate::channels::telegram::TelegramBot>,
    /// The WhatsApp number's inbound side, when WhatsApp is on.
    pub whatsapp: Option<crate::channels::whatsapp::WhatsAppBot>,
    /// Report handling after intake: statuses, incidents, teams, feedback.
    pub triage: Triage,
    /// WebSocket sessions subscribed to notices, served by one fan-out task.
    pub sessions: crate::channels::ws::Sessions,
    /// WebSocket sessions following reports, each sent only its own reporter updates.
    pub followers: crate::channels::ws::Followers,
    /// Committed events, to listen to (only the store's writer publishes).
    pub events: Events,
    /// What the hub counts, served at `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Base of the links in feeds and CAP documents (`public_url`, or the bound address).
    pub public_url: Arc<str>,
    pub clock: SharedClock,
    /// The MQTT connection state and how intake over it moves, for `/readyz` and `/metrics`.
    pub mqtt: MqttHealth,
    /// Cancelled once when the hub starts shutting down; long-lived tasks watch it.
    pub shutdown: CancellationToken,
    /// Long-lived tasks (WebSocket sessions, MQTT); shutdown waits for them before the store closes.
    pub tasks: TaskTracker,
}
