//! Publishing a report's text in Open311: an explicit, audited operator decision with an end
//! date. Until then, and after it, the public sees only the category, status, notes to the
//! reporter and a rounded position.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::json;

use super::model::{HistoryEntry, ReportChange};
use super::service::{Triage, check_version, load};
use crate::auth::{Action, Staff};
use crate::bus::Event;
use crate::model::Report;
use crate::problem::{ErrorCode, Problem};
use crate::store::triage as triage_rows;
use crate::store::{WriteCtx, audit, reports as report_rows};

/// `POST /api/v1/reports/{id}/publication`: `schemas/triage-requests.schema.json#/$defs/publication`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPublication {
    pub version: i64,
    pub public: bool,
    /// RFC 3339; required to publish, refused to withdraw.
    pub until: Option<String>,
}

impl Triage {
    /// Publishes the report's text until a date, or withdraws it.
    pub async fn publish(
        &self,
        staff: &Staff,
        id: &str,
        raw: RawPublication,
    ) -> Result<Report, Problem> {
        staff.require(Action::Triage)?;
        let at = self.now();
        let until = parse_until(&raw, at, self.settings().public_report_days)?;
        let (id, actor) = (id.to_owned(), staff.name.clone());
        self.store()
            .write(move |ctx| {
                let report = load(ctx.conn(), &id)?;
                check_version(&report, raw.version)?;
                report_rows::set_public_until(ctx.conn(), report.seq, until, at)?;
                record(ctx, &report, until, &actor, at)?;
                load(ctx.conn(), &id)
            })
            .await
    }
}

/// The publication's end: in the future, and at most `max_days` away (publish again to extend).
fn parse_until(
    raw: &RawPublication,
    now: DateTime<Utc>,
    max_days: u32,
) -> Result<Option<DateTime<Utc>>, Problem> {
    let invalid = |message: &str| Problem::with_field(ErrorCode::InvalidField, "until", message);
    match (raw.public, raw.until.as_deref()) {
        (false, None) => Ok(None),
        (false, Some(_)) => Err(invalid("withdrawing a publication takes no `until`")),
        (true, None) => Err(Problem::with_field(
            ErrorCode::MissingField,
            "until",
            "a publication needs an end: `until`, an RFC 3339 time",
        )),
        (true, Some(text)) => {
            let until = DateTime::parse_from_rfc3339(text)
                .map(|at| at.with_timezone(&Utc))
                .map_err(|_| {
                    invalid("`until` must be an RFC 3339 time such as 2026-12-31T00:00:00Z")
                })?;
            if until <= now || until > now + Duration::days(i64::from(max_days)) {
                return Err(invalid(&format!(
                    "`until` must be in the future and at most {max_days} days away \
                     (privacy.public_report_days): a report's text is public for a limited time"
                )));
            }
            Ok(Some(until))
        }
    }
}

/// The history line, the audit line and the event of a publication or withdrawal.
fn record(
    ctx: &mut WriteCtx<'_>,
    report: &Report,
    until: Option<DateTime<Utc>>,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<(), Problem> {
    let detail = json!({ "public": until.is_some(), "until": until });
    let entry = HistoryEntry {
        seq: 0,
        at,
        actor: actor.to_owned(),
        kind: "publication".into(),
        status: None,
        public_note: None,
        internal_note: None,
        detail: detail.clone(),
    };
    let entry = triage_rows::append_history(ctx.conn(), report.seq, entry)?;
    let action = match until {
        Some(_) => "report.publish",
        None => "report.unpublish",
    };
    audit::append(
        ctx.conn(),
        at.timestamp_millis(),
        actor,
        action,
        Some(&report.id),
        &detail,
    )?;
    let stored = load(ctx.conn(), &report.id)?;
    ctx.emit(Event::ReportChanged(Arc::new(ReportChange {
        report: stored,
        entry,
        update: None,
    })));
    Ok(())
}
