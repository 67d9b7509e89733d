//! Taking a report in: check it, rate-limit the sender, place it in zones, store it once, answer.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::device_budget::DeviceBudget;
use super::model::{DeviceId, Receipt, Report, Source};
use super::submission::{RawSubmission, Submission, SubmissionLimits};
use crate::addr::limit_key;
use crate::bus::Event;
use crate::clock::SharedClock;
use crate::config::CategoryCatalog;
use crate::metrics::Metrics;
use crate::problem::{ErrorCode, Problem};
use crate::store::follow_tokens as follow_rows;
use crate::store::reports::{self as report_rows, Inserted, NewReport};
use crate::store::{Store, StoreError, WriteCtx};
use crate::triage::follow;
use crate::triage::{Grouping, Targets, grouping};
use crate::zones::ZoneDirectory;

mod resend;

/// What the office accepts.
#[derive(Debug, Clone)]
pub struct IntakeRules {
    pub catalog: CategoryCatalog,
    pub limits: SubmissionLimits,
    /// Refuse reports outside every zone instead of accepting and flagging them.
    pub reject_outside_zones: bool,
    /// When each category must be acknowledged and resolved.
    pub targets: Targets,
    /// Which reports join the same incident.
    pub grouping: Grouping,
}

/// Where a report came from, as the channel (not the sender) knows it.
#[derive(Debug, Clone)]
pub struct Origin {
    pub source: Source,
    pub peer_ip: Option<IpAddr>,
    /// A device identity the channel vouches for, such as the MQTT topic's device segment.
    pub device_id: Option<DeviceId>,
}

/// Per-IP and per-device quotas on report submissions, shared by every channel.
pub struct IntakeLimiter {
    per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_device: Option<DefaultKeyedRateLimiter<String>>,
    /// New device ids admitted on MQTT, where the topic alone names the sender.
    mqtt_devices: DeviceBudget,
    metrics: Arc<Metrics>,
}

impl IntakeLimiter {
    /// Quotas are reports per minute, with bursts of the same size; 0 switches a quota off.
    pub fn new(
        per_ip_per_minute: u32,
        per_device_per_minute: u32,
        mqtt_devices: DeviceBudget,
        metrics: Arc<Metrics>,
    ) -> IntakeLimiter {
        let quota = |n| NonZeroU32::new(n).map(Quota::per_minute);
        IntakeLimiter {
            per_ip: quota(per_ip_per_minute).map(RateLimiter::keyed),
            per_device: quota(per_device_per_minute).map(RateLimiter::keyed),
            mqtt_devices,
            metrics,
        }
    }

    pub fn check(&self, origin: &Origin, device: Option<&DeviceId>) -> Result<(), Problem> {
        if origin.source == Source::Mqtt
            && let Some(device) = device
            && !self.mqtt_devices.admit(device.as_str())
        {
            self.metrics.limited("new_mqtt_devices");
            return Err(Problem::new(
                ErrorCode::RateLimited,
                "too many devices this hub has not seen before are reporting; wait a minute and send again",
            )
            .retry_after(60));
        }
        self.check_quotas(origin, device)
    }

    fn check_quotas(&self, origin: &Origin, device: Option<&DeviceId>) -> Result<(), Problem> {
        let ip_ok = match (&self.per_ip, origin.peer_ip) {
            (Some(limiter), Some(ip)) => limiter.check_key(&limit_key(ip)).is_ok(),
            _ => true,
        };
        // A device is counted on its own channel: anyone may name any device id over HTTP, and
        // must not use up the quota of the Telegram chat or WhatsApp number that id also is.
        let device_ok = match (&self.per_device, device) {
            (Some(limiter), Some(device)) => {
                let key = format!("{}:{}", origin.source.as_str(), device.as_str());
                limiter.check_key(&key).is_ok()
            }
            _ => true,
        };
        if ip_ok && device_ok {
            return Ok(());
        }
        let (who, limit) = match ip_ok {
            true => ("this device", "reports_per_device"),
            false => ("this address", "reports_per_ip"),
        };
        self.metrics.limited(limit);
        Err(Problem::new(
            ErrorCode::RateLimited,
            format!("too many reports from {who}; wait a minute and send again"),
        )
        .retry_after(60))
    }

    /// Forgets senders whose quota has fully refilled, so the key maps stay small.
    pub fn prune(&self) {
        if let Some(limiter) = &self.per_ip {
            limiter.retain_recent();
        }
        if let Some(limiter) = &self.per_device {
            limiter.retain_recent();
        }
    }
}

/// The intake service. Cheap to clone; every channel holds one.
#[derive(Clone)]
pub struct Intake {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    zones: ZoneDirectory,
    rules: IntakeRules,
    limiter: IntakeLimiter,
    clock: SharedClock,
}

impl Intake {
    /// Commits a write to a probe row: whether reports can be stored now (for `/readyz`).
    pub async fn check_writable(&self) -> Result<(), Problem> {
        let now = self.inner.clock.now().timestamp_millis();
        Ok(self
            .inner
            .store
            .write(move |ctx| crate::store::touch_health_probe(ctx.conn(), now))
            .await?)
    }

    pub fn new(
        store: Store,
        zones: ZoneDirectory,
        rules: IntakeRules,
        limiter: IntakeLimiter,
        clock: SharedClock,
    ) -> Intake {
        Intake {
            inner: Arc::new(Inner {
                store,
                zones,
                rules,
                limiter,
                clock,
            }),
        }
    }

    pub fn rules(&self) -> &IntakeRules {
        &self.inner.rules
    }

    pub fn limiter(&self) -> &IntakeLimiter {
        &self.inner.limiter
    }

    /// Validates, stores and answers one report. The receipt exists only after COMMIT.
    pub async fn submit(&self, origin: Origin, raw: RawSubmission) -> Result<Receipt, Problem> {
        let channel = origin.source.as_str();
        let outcome = self.take_in(origin, raw).await;
        let counted = match &outcome {
            Ok(receipt) if receipt.duplicate => "duplicate",
            Ok(_) => "accepted",
            Err(problem) => problem.code.as_str(),
        };
        self.inner.limiter.metrics.report(channel, counted);
        outcome
    }

    async fn take_in(&self, origin: Origin, raw: RawSubmission) -> Result<Receipt, Problem> {
        let rules = &self.inner.rules;
        let mut submission = Submission::parse(raw, &rules.catalog, &rules.limits)?;
        submission.device_id =
            reconcile_device(origin.device_id.clone(), submission.device_id.take())?;
        if let Err(limited) = self
            .inner
            .limiter
            .check(&origin, submission.device_id.as_ref())
        {
            return self
                .resend_over_quota(origin.source, &submission, limited)
                .await;
        }
        let mut new = self.place(origin.source, submission)?;
        let grouping = rules.grouping;
        let issued = follow::issue(&new.id);
        new.follow_token_hash = Some(issued.hash.clone());
        let (report, token, duplicate) = self
            .inner
            .store
            // Undivided: every refusal comes before the first change (see `store_once`).
            .write_undivided(move |ctx| store_once(ctx, new, issued.token, &grouping))
            .await?;
        log_report(&report, duplicate);
        Ok(Receipt::of(&report, duplicate, token))
    }

    /// Assigns zones and an id; refuses a point outside every zone if the office says so.
    fn place(&self, source: Source, submission: Submission) -> Result<NewReport, Problem> {
        let zones = self.inner.zones.snapshot().zone_refs(submission.location);
        let in_area = !zones.is_empty();
        if !in_area && self.inner.rules.reject_outside_zones {
            return Err(Problem::with_field(
                ErrorCode::OutsideZones,
                "lat",
                "this position is outside the area this office covers; report to the office responsible for it",
            ));
        }
        let received_at = report_rows::from_millis(report_rows::millis(self.inner.clock.now()));
        let (acknowledge_due_at, resolve_due_at) = self
            .inner
            .rules
            .targets
            .due(&submission.category, received_at);
        Ok(NewReport {
            id: uuid::Uuid::now_v7().to_string(),
            source,
            fingerprint: submission.fingerprint(),
            device_id: submission.device_id,
            client_ref: submission.client_ref,
            category: submission.category,
            location: submission.location,
            text: submission.text,
            contact: submission.contact,
            media_url: submission.media_url,
            photo: submission.photo,
            zones,
            in_area,
            received_at,
            acknowledge_due_at: Some(acknowledge_due_at),
            resolve_due_at: Some(resolve_due_at),
            incident_id: None,
            follow_token_hash: None,
        })
    }
}

/// A device named by the channel wins; one named in the payload too must agree with it.
fn reconcile_device(
    channel: Option<DeviceId>,
    payload: Option<DeviceId>,
) -> Result<Option<DeviceId>, Problem> {
    match (channel, payload) {
        (Some(channel), Some(payload)) if channel != payload => Err(Problem::with_field(
            ErrorCode::InvalidField,
            "device_id",
            format!(
                "`device_id` is `{}` but this message came from device `{}`; leave it out or make them match",
                payload.as_str(),
                channel.as_str()
            ),
        )),
        (Some(channel), _) => Ok(Some(channel)),
        (None, payload) => Ok(payload),
    }
}

/// Inserts the report with its follow token, or returns the one stored earlier under the same
/// key with a fresh token of its own; and whether it was a retry.
fn store_once(
    ctx: &mut WriteCtx<'_>,
    mut new: NewReport,
    token: String,
    grouping: &Grouping,
) -> Result<(Arc<Report>, String, bool), Problem> {
    let home = grouping::choose(ctx.conn(), &new, grouping)?;
    new.incident_id = Some(home.id().to_owned());
    let report = match report_rows::insert(ctx.conn(), new)? {
        Inserted::Stored(report) => report,
        Inserted::KeyTaken(new) => return stored_earlier(ctx, &new),
    };
    grouping::joined(ctx, &report, &home)?;
    // Shared with the event, not copied: it holds the report's text and zones.
    let report = Arc::new(report);
    ctx.emit(Event::ReportReceived(report.clone()));
    Ok((report, token, false))
}

/// A retry: the report stored under `new`'s key, with a fresh follow token, if it is the same
/// report; refused if the key was used for a different one.
fn stored_earlier(
    ctx: &mut WriteCtx<'_>,
    new: &NewReport,
) -> Result<(Arc<Report>, String, bool), Problem> {
    let earlier = report_rows::find_by_key(
        ctx.conn(),
        new.source,
        new.device_id.as_ref(),
        &new.client_ref,
    )?;
    match earlier {
        Some((report, fingerprint)) if fingerprint == new.fingerprint => {
            let token = retry_token(ctx.conn(), &report, new.received_at)?;
            Ok((Arc::new(report), token, true))
        }
        Some(_) => Err(Problem::with_field(
            ErrorCode::ClientRefConflict,
            "client_ref",
            format!(
                "`client_ref` {} was already used for a different report {}",
                new.client_ref.as_str(),
                match new.device_id {
                    Some(_) => "from this device; use a new client_ref for a new report",
                    None =>
                        "by a sender with no device_id; use a new client_ref for a new \
                        report, a random one (a UUID) when no device_id is sent",
                }
            ),
        )),
        None => Err(
            StoreError::Corrupt("a report's key is taken, but no report holds it".into()).into(),
        ),
    }
}

/// A fresh follow token for a report sent again: every answer carries its own.
fn retry_token(
    conn: &rusqlite::Connection,
    report: &Report,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<String, StoreError> {
    let fresh = follow::issue(&report.id);
    follow_rows::add(conn, report.seq, &fresh.hash, at)?;
    Ok(fresh.token)
}

/// One line per report, with no personal data: no contact, device, text or exact position.
fn log_report(report: &Report, duplicate: bool) {
    let zone = report.zones.first().map_or("-", |zone| zone.id.as_str());
    tracing::info!(
        report = %report.id,
        source = report.source.as_str(),
        category = %report.category,
        zone,
        in_area = report.in_area,
        duplicate,
        "report received"
    );
}

impl From<StoreError> for Problem {
    fn from(err: StoreError) -> Problem {
        Problem::internal(&err)
    }
}
