//! The services the hub is made of, built from the configuration and the store.

use std::sync::Arc;

use std::time::Duration;

use anyhow::Context;

use crate::channels::webpush::VapidKey;
use crate::chat::{ChatSettings, Conversations};
use crate::clock::SharedClock;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::notices::{CapSigner, NoticeSettings, Notices, Signer, TrustStore};
use crate::outbox::{AddressPolicy, LinkKey, Outbox, OutboxSettings};
use crate::reports::{
    CategoryCatalog, DeviceBudget, Intake, IntakeLimiter, IntakeRules, SubmissionLimits,
};
use crate::store::{self, Store};
use crate::triage::{Grouping, PublicStatsSettings, Targets, TriageSettings};
use crate::zones::{ZoneDirectory, ZoneIndex, demo_zone_sets};

pub(super) fn notices(
    config: &Config,
    store: &Store,
    zones: &ZoneDirectory,
    clock: &SharedClock,
) -> anyhow::Result<Notices> {
    let signer = Signer::load_or_create(&config.data_dir)?;
    let cap_signer = CapSigner::load_or_create(&config.data_dir, &config.cap_sender_name())?;
    let settings = NoticeSettings {
        office: config.office.clone(),
        sender: config.cap_sender(),
        sender_name: config.cap_sender_name(),
        max_import_bytes: config.notices.max_import_bytes,
        import_default_validity: chrono::Duration::hours(i64::from(
            config.notices.import_default_validity_hours,
        )),
        wide_area_zones: config.notices.wide_area_zones,
        cap_sources: config.cap_sources.clone(),
        trust: TrustStore::load(config.notices.trusted_cap_certificates.as_deref())?,
    };
    Ok(Notices::new(
        store.clone(),
        zones.clone(),
        clock.clone(),
        (signer, cap_signer),
        settings,
    ))
}

pub(super) fn intake_rules(config: &Config) -> anyhow::Result<IntakeRules> {
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

/// Triage's settings, sharing intake's reading of the targets, grouping and categories: one
/// reading of the configuration, so the two can never disagree.
pub(super) fn triage_settings(config: &Config, rules: &IntakeRules) -> TriageSettings {
    TriageSettings {
        targets: rules.targets.clone(),
        grouping: rules.grouping,
        max_note_chars: config.triage.max_note_chars,
        open_data_decimals: config.open_data.precision_decimals,
        open_data_public: config.open_data.public,
        retention_days: config.retention.personal_data_days,
        public_report_days: config.privacy.public_report_days,
        public_stats: PublicStatsSettings {
            min_count: config.privacy.public_stats_min_count,
            level: config.privacy.public_stats_level.clone(),
        },
        categories: rules.catalog.clone(),
    }
}

fn grouping(config: &Config) -> Grouping {
    Grouping {
        radius_m: config.incidents.radius_m,
        window: chrono::Duration::minutes(config.incidents.window_minutes.into()),
    }
}

pub(super) async fn limiter(
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

/// Reads every zone from the store, installing the demo district first on an empty database.
pub(super) async fn load_zones(
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

/// The office's offline basemap, checked at start, if it configured one.
pub(super) fn basemap(config: &Config) -> anyhow::Result<Option<crate::tiles::Basemap>> {
    Ok(config
        .ui
        .basemap
        .as_deref()
        .map(crate::tiles::Basemap::open)
        .transpose()?)
}

/// The conversation engine behind the chat services.
pub(super) fn conversations(
    config: &Config,
    store: &Store,
    services: (Intake, Outbox, Notices),
    zones: &ZoneDirectory,
    clock: &SharedClock,
) -> Conversations {
    let settings = ChatSettings {
        default_language: config.default_language.clone(),
        emergency_number: config.ui.emergency_number.clone(),
    };
    Conversations::new(
        store.clone(),
        services,
        zones.clone(),
        clock.clone(),
        settings,
    )
}

/// The outbox, with its settings read from the configuration.
pub(super) fn outbox(
    config: &Config,
    store: &Store,
    zones: &ZoneDirectory,
    clock: &SharedClock,
    public_url: &str,
) -> anyhow::Result<Outbox> {
    let outbox = &config.outbox;
    let addresses = AddressPolicy::parse(&outbox.allow_private_networks)
        .map_err(|err| anyhow::anyhow!("outbox.allow_private_networks: {err}"))?;
    let settings = OutboxSettings {
        public_url: public_url.to_owned(),
        default_language: config.default_language.clone(),
        retry_horizon: Duration::from_secs(u64::from(outbox.retry_horizon_hours) * 3600),
        confirm_within: Duration::from_secs(u64::from(outbox.confirm_within_hours) * 3600),
        keep_days: outbox.keep_days,
        addresses,
    };
    let links = LinkKey::load_or_create(&config.data_dir)?;
    Ok(Outbox::new(
        store.clone(),
        zones.clone(),
        clock.clone(),
        settings,
        links,
    ))
}

/// The office's Web Push key, when push is on.
pub(super) fn vapid_key(config: &Config) -> anyhow::Result<Option<Arc<VapidKey>>> {
    if !config.outbox.push.enabled {
        return Ok(None);
    }
    Ok(Some(Arc::new(VapidKey::load_or_create(&config.data_dir)?)))
}
