//! Applying one change to one report inside a write: the row, its history, the reporter's
//! update, the audit line, the incident, and the event. Every path that changes a report
//! (operators, devices, incidents, the hub) goes through here, so none forgets a step.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::incidents;
use super::model::{ChangeKind, HistoryEntry, RejectionReason, ReportChange};
use super::transitions::{self, Change};
use crate::bus::Event;
use crate::config::CategoryCatalog;
use crate::model::{Report, ReportStatus, Source};
use crate::problem::Problem;
use crate::store::triage::{self as triage_rows, StatusColumns, UpdateAddress};
use crate::store::{StoreError, WriteCtx, audit, reports as report_rows};

/// What a reporter is told, on every channel: `schemas/report-update.schema.json`.
#[derive(Serialize)]
struct UpdateFrame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    cursor: i64,
    report_id: &'a str,
    client_ref: &'a str,
    status: ReportStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_note: Option<&'a str>,
    updated_at: DateTime<Utc>,
    /// When the office expects to have resolved it, while it is open.
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_at: Option<DateTime<Utc>>,
}

/// Applies `change` by `actor` to `report` (as read in this transaction) and returns it as
/// stored. `categories` says which reports are about lives, whose reporters are never given a
/// resolution time.
pub(super) fn apply(
    ctx: &mut WriteCtx<'_>,
    report: &Report,
    change: Change,
    actor: &str,
    at: DateTime<Utc>,
    categories: &CategoryCatalog,
) -> Result<Report, Problem> {
    let moves_to = change.status.filter(|status| *status != report.status);
    if let Some(to) = moves_to {
        transitions::check(report.status, to)?;
    }
    let columns = next_columns(report, moves_to, &change, at);
    triage_rows::update_status(ctx.conn(), report.seq, &columns)?;
    let entry = HistoryEntry {
        seq: 0,
        at,
        actor: actor.to_owned(),
        kind: change.kind.as_str().to_owned(),
        status: moves_to.map(|status| status.as_str().to_owned()),
        public_note: change.public_note.clone(),
        internal_note: change.internal_note.clone(),
        detail: change.detail.clone(),
    };
    let entry = triage_rows::append_history(ctx.conn(), report.seq, entry)?;
    write_audit(ctx, report, moves_to, &change, actor, at)?;
    let stored = reload(ctx, &report.id)?;
    let tells_reporter = moves_to.is_some() || change.public_note.is_some();
    let update = tells_reporter
        .then(|| {
            let promise = (!categories.is_life_safety(&stored.category))
                .then_some(stored.triage.resolve_due_at)
                .flatten();
            store_update(ctx, &stored, change.public_note.as_deref(), at, promise)
        })
        .transpose()?;
    if let Some(update) = &update {
        // A reporter who left an e-mail address hears back there too, through the outbox.
        crate::outbox::enqueue_report_update(ctx, &stored, update.seq, at)?;
    }
    ctx.emit(Event::ReportChanged(Arc::new(ReportChange {
        report: stored.clone(),
        entry,
        update,
    })));
    if let (Some(to), Some(incident)) = (moves_to, &stored.triage.incident_id) {
        incidents::report_moved(ctx, incident, report.status.is_closed(), to.is_closed(), at)?;
    }
    Ok(stored)
}

fn next_columns<'c>(
    report: &Report,
    moves_to: Option<ReportStatus>,
    change: &'c Change,
    at: DateTime<Utc>,
) -> StatusColumns<'c> {
    let status = moves_to.unwrap_or(report.status);
    let triage = &report.triage;
    let closed_at = match moves_to {
        Some(to) if to.is_closed() => Some(at),
        Some(_) => None,
        None => triage.closed_at,
    };
    let rejection_reason = match status {
        ReportStatus::Rejected => change.reason.or_else(|| {
            triage
                .rejection_reason
                .as_deref()
                .and_then(|reason| RejectionReason::parse(reason, "reason").ok())
        }),
        _ => None,
    };
    StatusColumns {
        status,
        at,
        acknowledged_at: triage
            .acknowledged_at
            .or((status != ReportStatus::Received).then_some(at)),
        closed_at,
        rejection_reason,
        public_note: change.public_note.as_deref(),
    }
}

fn write_audit(
    ctx: &WriteCtx<'_>,
    report: &Report,
    moves_to: Option<ReportStatus>,
    change: &Change,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    // Dispatches and device answers write their own audit lines; a status they cause is audited.
    if change.kind != ChangeKind::Triage && moves_to.is_none() {
        return Ok(());
    }
    // Notes stay out of the audit log: they may name people, and the history keeps them.
    let detail = json!({
        "kind": change.kind.as_str(),
        "from": report.status.as_str(),
        "to": moves_to.map(ReportStatus::as_str),
        "reason": change.reason.map(RejectionReason::as_str),
        "public_note": change.public_note.is_some(),
    });
    let action = match moves_to {
        Some(_) => "report.status",
        None => "report.note",
    };
    audit::append(
        ctx.conn(),
        at.timestamp_millis(),
        actor,
        action,
        Some(&report.id),
        &detail,
    )
}

fn reload(ctx: &WriteCtx<'_>, id: &str) -> Result<Report, StoreError> {
    report_rows::get(ctx.conn(), id)?
        .ok_or_else(|| StoreError::Corrupt(format!("report {id} vanished while being changed")))
}

fn store_update(
    ctx: &WriteCtx<'_>,
    report: &Report,
    public_note: Option<&str>,
    at: DateTime<Utc>,
    resolve_promised_at: Option<DateTime<Utc>>,
) -> Result<crate::triage::ReporterUpdate, StoreError> {
    let address = UpdateAddress {
        report_seq: report.seq,
        device_id: report.device_id.as_ref(),
        via_broker: report.source == Source::Mqtt && report.device_id.is_some(),
    };
    triage_rows::insert_update(ctx.conn(), address, at, |cursor| {
        let frame = UpdateFrame {
            kind: "report_update",
            cursor,
            report_id: &report.id,
            client_ref: report.client_ref.as_str(),
            status: report.status,
            reason: report.triage.rejection_reason.as_deref(),
            public_note,
            updated_at: at,
            expected_at: resolve_promised_at.filter(|_| !report.status.is_closed()),
        };
        serde_json::to_string(&frame).expect("update frames always serialize")
    })
}
