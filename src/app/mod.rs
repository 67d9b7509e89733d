//! Building the hub from its configuration, serving it, and shutting it down in order.

mod background;
mod couriers;
mod services;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::{AccountSettings, Accounts};
use crate::bus::Bus;
use crate::channels::mqtt::MqttDeps;
use crate::channels::telegram::TelegramBot;
use crate::channels::whatsapp::WhatsAppBot;
use crate::clock::{self, SharedClock};
use crate::config::Config;
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::net::ConnectionLimits;
use crate::reports::Intake;
use crate::store::{self, Store};
use crate::triage::Triage;
use crate::zones::{ZoneDirectory, ZoneIndex};
use crate::{channels, http};

use self::background::{serve_metrics, spawn_background_work};

/// How long shutdown waits for open connections and sessions before closing the store anyway.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A started hub. Dropping it does not stop it: call [`RunningApp::shutdown`].
pub struct RunningApp {
    http_addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    hub: Hub,
    /// Kept here, not in the hub: the channels reach data only through the domain.
    store: Store,
    server: JoinHandle<std::io::Result<()>>,
}

/// Starts the hub with the system clock.
pub async fn start(config: Config) -> anyhow::Result<RunningApp> {
    start_with_clock(config, clock::system()).await
}

/// Starts the hub: opens the store, loads zones, connects MQTT, binds the listener.
pub async fn start_with_clock(config: Config, clock: SharedClock) -> anyhow::Result<RunningApp> {
    let config = Arc::new(config);
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let http_addr = listener.local_addr()?;
    let (hub, store) = build_hub(config, clock, http_addr).await?;
    spawn_background_work(&hub);
    if hub.telegram.is_some() {
        hub.outbox
            .configure_telegram_channels(&hub.config.telegram.channels)
            .await
            .map_err(|problem| anyhow::anyhow!("telegram.channels: {}", problem.message))?;
    }
    couriers::spawn_outbox_workers(&hub)?;
    couriers::spawn_cap_sources(&hub)?;
    let metrics_addr = serve_metrics(&hub).await?;
    tracing::info!(%http_addr, "listening on http://{http_addr}");
    Ok(RunningApp {
        http_addr,
        metrics_addr,
        server: tokio::spawn(serve_http(listener, hub.clone())),
        hub,
        store,
    })
}

/// Opens the store and builds every service, MQTT included.
async fn build_hub(
    config: Arc<Config>,
    clock: SharedClock,
    http_addr: SocketAddr,
) -> anyhow::Result<(Hub, Store)> {
    let bus = Bus::new();
    let store = Store::open(&config.data_dir, bus.clone())
        .with_context(|| format!("cannot open the database in {}", config.data_dir.display()))?;
    let metrics = Metrics::new(store.writer_metrics());
    let zones = ZoneDirectory::new(services::load_zones(&store, &config, &clock).await?);
    let limiter = services::limiter(&config, &store, &metrics).await?;
    let rules = services::intake_rules(&config)?;
    let settings = services::triage_settings(&config, &rules);
    let intake = Intake::new(store.clone(), zones.clone(), rules, limiter, clock.clone());
    let notices = services::notices(&config, &store, &zones, &clock)?;
    let triage = Triage::new(store.clone(), clock.clone(), notices.clone(), settings);
    let (shutdown, tasks) = (CancellationToken::new(), TaskTracker::new());
    let deps = MqttDeps {
        intake: intake.clone(),
        notices: notices.clone(),
        triage: triage.clone(),
        bus: bus.events(),
    };
    let (mqtt, _link) = channels::mqtt::start(&config, deps, shutdown.clone(), &tasks)?;
    let accounts_settings = AccountSettings::from_config(&config);
    let accounts = Accounts::new(
        store.clone(),
        clock.clone(),
        accounts_settings,
        metrics.clone(),
    );
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{http_addr}"));
    let basemap = services::basemap(&config)?;
    let outbox = services::outbox(&config, &store, &zones, &clock, &public_url)?;
    let push_key = services::vapid_key(&config)?;
    let conversations = services::conversations(
        &config,
        &store,
        (intake.clone(), outbox.clone(), notices.clone()),
        &zones,
        &clock,
    );
    let telegram = config
        .telegram
        .enabled
        .then(|| TelegramBot::new(&config.telegram, conversations.clone()))
        .transpose()?;
    let whatsapp = config
        .whatsapp
        .enabled
        .then(|| WhatsAppBot::new(&config.whatsapp, conversations.clone()))
        .transpose()?;
    if whatsapp.is_some() && config.categories.len() > 10 {
        tracing::warn!(
            categories = config.categories.len(),
            "WhatsApp lists show ten choices: only the first ten categories are offered there"
        );
    }
    let hub = Hub {
        conversations,
        telegram,
        whatsapp,
        public_url: public_url.into(),
        outbox,
        push_key,
        config,
        zone_tiles: crate::tiles::ZoneTileService::new(zones.clone()),
        zones,
        basemap,
        intake,
        accounts,
        notices,
        triage,
        sessions: Default::default(),
        followers: Default::default(),
        events: bus.events(),
        metrics,
        clock,
        mqtt,
        shutdown,
        tasks,
    };
    Ok((hub, store))
}

/// Serves HTTP and WebSocket until shutdown, then waits for every connection to finish.
async fn serve_http(listener: TcpListener, hub: Hub) -> std::io::Result<()> {
    let config = &hub.config;
    let options = http::SocketOptions {
        send_buffer_bytes: config.ws.send_buffer_bytes,
        header_read_timeout: Duration::from_secs(config.http.header_read_timeout_secs),
        max_header_bytes: config.http.max_header_bytes,
    };
    let limits = ConnectionLimits::new(
        config.http.max_connections,
        config.http.max_connections_per_ip,
        hub.metrics.clone(),
    );
    let connections = TaskTracker::new();
    let shutdown = hub.shutdown.clone();
    let router = http::router(hub);
    http::serve(
        listener,
        router,
        options,
        limits,
        shutdown,
        connections.clone(),
    )
    .await;
    connections.close();
    connections.wait().await;
    Ok(())
}

impl RunningApp {
    /// The address the HTTP and WebSocket listener is bound to.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The address of the metrics-only listener, if `metrics.listen` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The running services, for tests and tools.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// How the store's writer is doing (batches, queue), for benchmarks.
    pub fn writer_metrics(&self) -> &crate::metrics::WriterMetrics {
        self.store.writer_metrics()
    }

    /// Rebuilds the zone index from the store, after `vedetta zones import` ran beside the hub.
    pub async fn reload_zones(&self) -> anyhow::Result<usize> {
        let zones = self.store.read(store::zones::load_all).await?;
        let count = zones.len();
        self.hub.zones.replace(ZoneIndex::new(zones));
        tracing::info!(zones = count, "zone index reloaded");
        Ok(count)
    }

    /// Serves until SIGINT or SIGTERM, reloading zones on SIGHUP; then shuts down.
    pub async fn run_until_signal(self) -> anyhow::Result<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut hangup = signal(SignalKind::hangup())?;
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                _ = terminate.recv() => break,
                _ = hangup.recv() => {
                    if let Err(err) = self.reload_zones().await {
                        tracing::error!(error = %err, "zone reload failed; keeping the previous zones");
                    }
                }
            }
        }
        tracing::info!("shutting down");
        self.shutdown().await
    }

    /// Stops accepting, ends sessions, lets the writer commit everything queued, then returns.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.hub.shutdown.cancel();
        match tokio::time::timeout(DRAIN_TIMEOUT, self.server).await {
            Ok(joined) => joined.context("the HTTP server task failed")??,
            Err(_) => tracing::warn!(
                "HTTP connections still open after {DRAIN_TIMEOUT:?}; closing anyway"
            ),
        }
        self.hub.tasks.close();
        if tokio::time::timeout(DRAIN_TIMEOUT, self.hub.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("sessions still open after {DRAIN_TIMEOUT:?}; closing anyway");
        }
        self.store.shutdown().await;
        tracing::info!("stopped; every accepted write is committed");
        Ok(())
    }
}
