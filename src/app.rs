//! Building the hub from its configuration, serving it, and shutting it down in order.

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
use crate::clock::{self, SharedClock};
use crate::config::Config;
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::notices::{
    NoticeEventKind, NoticeSettings, Notices, Signer, flush_deliveries_periodically, run_expiry,
};
use crate::reports::{
    CategoryCatalog, DeviceBudget, Intake, IntakeLimiter, IntakeRules, SubmissionLimits,
};
use crate::store::{self, Store};
use crate::triage::{Grouping, Targets, Triage, TriageSettings, run_overdue, run_retention};
use crate::zones::{ZoneDirectory, ZoneIndex, demo_zone_sets};
use crate::{channels, http};

/// How long shutdown waits for open connections and sessions before closing the store anyway.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A started hub. Dropping it does not stop it: call [`RunningApp::shutdown`].
pub struct RunningApp {
    http_addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    hub: Hub,
    server: JoinHandle<std::io::Result<()>>,
}

/// Starts the hub with the system clock.
pub async fn start(config: Config) -> anyhow::Result<RunningApp> {
    start_with_clock(config, clock::system()).await
}

/// Starts the hub: opens the store, loads zones, connects MQTT, binds the listener.
pub async fn start_with_clock(config: Config, clock: SharedClock) -> anyhow::Result<RunningApp> {
    let config = Arc::new(config);
    let bus = Bus::new();
    let store = Store::open(&config.data_dir, bus.clone())
        .with_context(|| format!("cannot open the database in {}", config.data_dir.display()))?;
    let metrics = Metrics::new(store.writer_metrics());
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let http_addr = listener.local_addr()?;
    let zones = ZoneDirectory::new(load_zones(&store, &config, &clock).await?);
    let intake = Intake::new(
        store.clone(),
        zones.clone(),
        intake_rules(&config)?,
        limiter(&config, &store, &metrics).await?,
        clock.clone(),
    );
    let notices = notices(&config, &store, &zones, &clock)?;
    let triage = Triage::new(
        store.clone(),
        clock.clone(),
        notices.clone(),
        triage_settings(&config)?,
    );
    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    let deps = MqttDeps {
        intake: intake.clone(),
        notices: notices.clone(),
        store: store.clone(),
        triage: triage.clone(),
        bus: bus.clone(),
    };
    let (mqtt, _mqtt_link) = channels::mqtt::start(&config, deps, shutdown.clone(), &tasks)?;
    let hub = Hub {
        public_url: config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{http_addr}"))
            .into(),
        accounts: Accounts::new(
            store.clone(),
            clock.clone(),
            AccountSettings::from_config(&config),
            metrics.clone(),
        ),
        metrics,
        config: config.clone(),
        store,
        zones,
        intake,
        notices,
        triage,
        sessions: Default::default(),
        followers: Default::default(),
        bus,
        clock,
        mqtt,
        shutdown,
        tasks,
    };
    spawn_background_work(&hub);
    let metrics_addr = serve_metrics(&hub).await?;
    tracing::info!(%http_addr, "listening on http://{http_addr}");
    let options = http::SocketOptions {
        send_buffer_bytes: config.ws.send_buffer_bytes,
        header_read_timeout: Duration::from_secs(config.http.header_read_timeout_secs),
        max_header_bytes: config.http.max_header_bytes,
    };
    let limits = crate::net::ConnectionLimits::new(
        config.http.max_connections,
        config.http.max_connections_per_ip,
        hub.metrics.clone(),
    );
    let connections = TaskTracker::new();
    let server = http::serve(
        listener,
        http::router(hub.clone()),
        options,
        limits,
        hub.shutdown.clone(),
        connections.clone(),
    );
    let server = async move {
        server.await;
        connections.close();
        connections.wait().await;
        Ok(())
    };
    Ok(RunningApp {
        http_addr,
        metrics_addr,
        hub,
        server: tokio::spawn(server),
    })
}

fn notices(
    config: &Config,
    store: &Store,
    zones: &ZoneDirectory,
    clock: &SharedClock,
) -> anyhow::Result<Notices> {
    let signer = Signer::load_or_create(&config.data_dir)?;
    let settings = NoticeSettings {
        office: config.office.clone(),
        sender: config.cap_sender(),
        sender_name: config.cap_sender_name(),
        max_import_bytes: config.notices.max_import_bytes,
    };
    Ok(Notices::new(
        store.clone(),
        zones.clone(),
        clock.clone(),
        signer,
        settings,
    ))
}

fn intake_rules(config: &Config) -> anyhow::Result<IntakeRules> {
    Ok(IntakeRules {
        catalog: CategoryCatalog::new(config.categories.clone()),
        limits: SubmissionLimits {
            max_text_chars: config.intake.max_text_chars,
            max_photo_bytes: config.intake.max_photo_bytes,
        },
        reject_outside_zones: config.intake.reject_outside_zones,
        targets: Targets::from_config(config)?,
        grouping: grouping(config),
    })
}

fn triage_settings(config: &Config) -> anyhow::Result<TriageSettings> {
    Ok(TriageSettings {
        targets: Targets::from_config(config)?,
        grouping: grouping(config),
        max_note_chars: config.triage.max_note_chars,
        open_data_decimals: config.open_data.precision_decimals,
        retention_days: config.retention.personal_data_days,
        categories: CategoryCatalog::new(config.categories.clone()),
    })
}

fn grouping(config: &Config) -> Grouping {
    Grouping {
        radius_m: config.incidents.radius_m,
        window: chrono::Duration::minutes(config.incidents.window_minutes.into()),
    }
}

async fn limiter(
    config: &Config,
    store: &Store,
    metrics: &Arc<Metrics>,
) -> anyhow::Result<IntakeLimiter> {
    let known = store.read(store::field::known_devices).await?;
    Ok(IntakeLimiter::new(
        config.limits.reports_per_minute_per_ip,
        config.limits.reports_per_minute_per_device,
        DeviceBudget::new(config.limits.new_mqtt_devices_per_minute, known),
        metrics.clone(),
    ))
}

/// Binds `metrics.listen`, if set, and serves `GET /metrics` there without a login.
async fn serve_metrics(hub: &Hub) -> anyhow::Result<Option<SocketAddr>> {
    let Some(listen) = hub.config.metrics.listen else {
        return Ok(None);
    };
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen for metrics on {listen}"))?;
    let addr = listener.local_addr()?;
    let shutdown = hub.shutdown.clone();
    let serving = axum::serve(listener, http::metrics_router(hub.clone()))
        .with_graceful_shutdown(shutdown.cancelled_owned());
    hub.tasks.spawn(async move {
        if let Err(err) = serving.await {
            tracing::error!(%err, "the metrics listener failed");
        }
    });
    tracing::info!(%addr, "metrics on http://{addr}/metrics");
    Ok(Some(addr))
}

/// Counts published notices as the bus announces them.
async fn count_published(hub: Hub) {
    let mut notices = hub.bus.subscribe_notices();
    while let Some(event) = hub.shutdown.run_until_cancelled(notices.recv()).await {
        match event {
            Ok(event) => {
                if let NoticeEventKind::Published(msg_type) = event.kind {
                    let labels = [("msg_type", msg_type.as_str())];
                    hub.metrics.notices_published.get_or_create(&labels).inc();
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Housekeeping every minute, notice expiry on time, delivery counts saved.
fn spawn_background_work(hub: &Hub) {
    hub.tasks.spawn(count_published(hub.clone()));
    let (intake, accounts, shutdown) = (
        hub.intake.clone(),
        hub.accounts.clone(),
        hub.shutdown.clone(),
    );
    hub.tasks.spawn(async move {
        let mut every_minute = tokio::time::interval(Duration::from_secs(60));
        while shutdown
            .run_until_cancelled(every_minute.tick())
            .await
            .is_some()
        {
            intake.limiter().prune();
            if let Err(err) = accounts.prune().await {
                tracing::warn!(%err, "could not remove expired sessions");
            }
        }
    });
    hub.tasks.spawn(
        hub.sessions
            .clone()
            .run(hub.bus.clone(), hub.shutdown.clone()),
    );
    hub.tasks.spawn(
        hub.followers
            .clone()
            .run(hub.bus.clone(), hub.shutdown.clone()),
    );
    let (notices, clock, bus) = (hub.notices.clone(), hub.clock.clone(), hub.bus.clone());
    hub.tasks.spawn(run_expiry(
        notices.clone(),
        clock,
        bus,
        hub.shutdown.clone(),
    ));
    hub.tasks
        .spawn(flush_deliveries_periodically(notices, hub.shutdown.clone()));
    hub.tasks.spawn(run_overdue(
        hub.triage.clone(),
        hub.bus.clone(),
        hub.shutdown.clone(),
    ));
    let purge_every = Duration::from_secs(u64::from(hub.config.retention.purge_every_hours) * 3600);
    hub.tasks.spawn(run_retention(
        hub.triage.clone(),
        purge_every,
        hub.shutdown.clone(),
    ));
}

/// Reads every zone from the store, installing the demo district first on an empty database.
async fn load_zones(
    store: &Store,
    config: &Config,
    clock: &SharedClock,
) -> anyhow::Result<ZoneIndex> {
    let stored = store.read(store::zones::count).await?;
    if stored == 0 && config.zones.load_demo {
        install_demo_zones(store, clock.now().timestamp_millis()).await?;
    }
    let zones = store.read(store::zones::load_all).await?;
    tracing::info!(zones = zones.len(), "zone index ready");
    Ok(ZoneIndex::new(zones))
}

async fn install_demo_zones(store: &Store, now_ms: i64) -> anyhow::Result<()> {
    let sets = demo_zone_sets().context("the embedded demo zones are invalid")?;
    store
        .write(move |ctx| -> Result<(), anyhow::Error> {
            for (spec, records) in &sets {
                store::zones::replace_level(ctx.conn(), &spec.level, records, now_ms)?;
            }
            Ok(())
        })
        .await?;
    tracing::info!("installed the demo zones from maps/demo (set zones.load_demo = false to skip)");
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

    /// Rebuilds the zone index from the store, after `vedetta zones import` ran beside the hub.
    pub async fn reload_zones(&self) -> anyhow::Result<usize> {
        let zones = self.hub.store.read(store::zones::load_all).await?;
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
        self.hub.store.shutdown().await;
        tracing::info!("stopped; every accepted write is committed");
        Ok(())
    }
}
