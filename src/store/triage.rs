//! Triage rows: a report's status columns, its history, and the updates owed to its reporter.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value;

use super::StoreError;
use super::reports::{closed_statuses, from_millis, millis};
use crate::model::{DeviceId, Report, ReportStatus};
use crate::model::{Followed, HistoryEntry, OverdueStep, RejectionReason, ReporterUpdate};

/// The status columns of a report after a change.
#[derive(Debug, Clone)]
pub(crate) struct StatusColumns<'a> {
    pub status: ReportStatus,
    pub at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub rejection_reason: Option<RejectionReason>,
    /// `None` keeps the last note the reporter was given.
    pub public_note: Option<&'a str>,
}

/// Writes a change to the report row and bumps its version.
pub(crate) fn update_status(
    conn: &Connection,
    report_seq: i64,
    columns: &StatusColumns<'_>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE reports SET status = ?2, version = version + 1, updated_at = ?3,
            acknowledged_at = ?4, closed_at = ?5, rejection_reason = ?6,
            public_note = COALESCE(?7, public_note)
         WHERE seq = ?1",
    )?
    .execute(params![
        report_seq,
        columns.status.as_str(),
        millis(columns.at),
        columns.acknowledged_at.map(millis),
        columns.closed_at.map(millis),
        columns.rejection_reason.map(RejectionReason::as_str),
        columns.public_note,
    ])?;
    Ok(())
}

/// Bumps the version of a report whose history grew without a status change.
pub(crate) fn touch(
    conn: &Connection,
    report_seq: i64,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE reports SET version = version + 1, updated_at = ?2 WHERE seq = ?1",
    )?
    .execute(params![report_seq, millis(at)])?;
    Ok(())
}

/// Appends a history line and returns it with its sequence number.
pub(crate) fn append_history(
    conn: &Connection,
    report_seq: i64,
    mut entry: HistoryEntry,
) -> Result<HistoryEntry, StoreError> {
    let detail = (!entry.detail.is_null()).then(|| entry.detail.to_string());
    conn.prepare_cached(
        "INSERT INTO report_history (report_seq, at, actor, kind, status, public_note, internal_note, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        report_seq,
        millis(entry.at),
        entry.actor,
        entry.kind,
        entry.status,
        entry.public_note,
        entry.internal_note,
        detail,
    ])?;
    entry.seq = conn.last_insert_rowid();
    Ok(entry)
}

/// A report's history, oldest first.
pub(crate) fn history(conn: &Connection, report_seq: i64) -> Result<Vec<HistoryEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, actor, kind, status, public_note, internal_note, detail
         FROM report_history WHERE report_seq = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([report_seq], history_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn history_from_row(row: &Row<'_>) -> rusqlite::Result<HistoryEntry> {
    let detail: Option<String> = row.get(7)?;
    Ok(HistoryEntry {
        seq: row.get(0)?,
        at: from_millis(row.get(1)?),
        actor: row.get(2)?,
        kind: row.get(3)?,
        status: row.get(4)?,
        public_note: row.get(5)?,
        internal_note: row.get(6)?,
        detail: detail
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Null),
    })
}

/// Where an update goes and whether the broker must confirm it (reports that came over MQTT).
#[derive(Debug, Clone, Copy)]
pub(crate) struct UpdateAddress<'a> {
    pub report_seq: i64,
    pub device_id: Option<&'a DeviceId>,
    pub via_broker: bool,
}

/// Stores an update for the reporter; `frame` is built from the cursor it gets here.
pub(crate) fn insert_update(
    conn: &Connection,
    address: UpdateAddress<'_>,
    at: DateTime<Utc>,
    frame: impl FnOnce(i64) -> String,
) -> Result<ReporterUpdate, StoreError> {
    let UpdateAddress {
        report_seq,
        device_id,
        via_broker,
    } = address;
    let device = device_id.map_or("", DeviceId::as_str);
    // The cursor is one past the newest and never behind the clock, as a notice event's is:
    // after a restored backup, no cursor a reporter kept names a different update.
    conn.prepare_cached(
        "INSERT INTO report_updates (seq, report_seq, device_id, frame, at, confirmed)
         VALUES ((SELECT max(coalesce(max(seq), 0) + 1, ?5) FROM report_updates), ?1, ?2, '', ?3, ?4)",
    )?
    .execute(params![report_seq, device, millis(at), !via_broker, super::cursor_floor()])?;
    let seq = conn.last_insert_rowid();
    let frame = frame(seq);
    conn.prepare_cached("UPDATE report_updates SET frame = ?2 WHERE seq = ?1")?
        .execute(params![seq, frame])?;
    Ok(ReporterUpdate {
        seq,
        report_seq,
        device_id: device_id.cloned(),
        frame,
    })
}

/// Updates on the followed reports after `cursor`, oldest first, at most `limit`.
pub(crate) fn updates_since(
    conn: &Connection,
    followed: &Followed,
    cursor: i64,
    limit: usize,
) -> Result<Vec<ReporterUpdate>, StoreError> {
    let seqs = serde_json::to_string(&followed.report_seqs)
        .map_err(|err| StoreError::Corrupt(err.to_string()))?;
    let mut stmt = conn.prepare_cached(
        "SELECT seq, report_seq, device_id, frame FROM report_updates
         WHERE seq > ?1 AND report_seq IN (SELECT value FROM json_each(?2))
         ORDER BY seq LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![cursor, seqs, limit as i64], update_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The cursor of the newest update to any reporter, 0 before the first.
pub(crate) fn newest_update(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM report_updates")?
        .query_row([], |row| row.get(0))?)
}

/// Every update of one report, oldest first.
pub(crate) fn updates_of(
    conn: &Connection,
    report_seq: i64,
) -> Result<Vec<ReporterUpdate>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, report_seq, device_id, frame FROM report_updates WHERE report_seq = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([report_seq], update_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Updates to MQTT reporters the broker has not echoed yet, oldest first.
pub(crate) fn unconfirmed_mqtt_updates(
    conn: &Connection,
    limit: usize,
) -> Result<Vec<ReporterUpdate>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, report_seq, device_id, frame FROM report_updates
         WHERE confirmed = 0 ORDER BY seq LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], update_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Records that the broker holds update `seq` for its device.
pub(crate) fn confirm_update(conn: &Connection, seq: i64) -> Result<bool, StoreError> {
    let changed = conn
        .prepare_cached("UPDATE report_updates SET confirmed = 1 WHERE seq = ?1 AND confirmed = 0")?
        .execute([seq])?;
    Ok(changed > 0)
}

fn update_from_row(row: &Row<'_>) -> rusqlite::Result<ReporterUpdate> {
    let device: String = row.get(2)?;
    Ok(ReporterUpdate {
        seq: row.get(0)?,
        report_seq: row.get(1)?,
        device_id: DeviceId::parse(&device, "device_id").ok(),
        frame: row.get(3)?,
    })
}

/// Reports that became late by `now` and were not flagged yet, with the steps that are late.
pub(crate) fn newly_overdue(
    conn: &Connection,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<(Report, Vec<OverdueStep>)>, StoreError> {
    let sql = format!(
        "SELECT {} FROM reports WHERE seq IN (
            SELECT seq FROM reports WHERE status = 'received' AND acknowledge_due_at <= ?1
                AND overdue_raised & 1 = 0
            UNION
            SELECT seq FROM reports WHERE status NOT IN {}
                AND resolve_due_at <= ?1 AND overdue_raised & 2 = 0)
         ORDER BY seq LIMIT ?2",
        super::reports::COLUMNS,
        super::reports::CLOSED_STATUSES,
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![millis(now), limit as i64],
        super::reports::report_from_row,
    )?;
    let mut late = Vec::new();
    for report in rows {
        let report = report?;
        let steps = late_steps(&report, now);
        late.push((report, steps));
    }
    Ok(late)
}

fn late_steps(report: &Report, now: DateTime<Utc>) -> Vec<OverdueStep> {
    let triage = &report.triage;
    let due = |at: Option<DateTime<Utc>>| at.is_some_and(|at| at <= now);
    let mut steps = Vec::new();
    let unraised = |step: OverdueStep| triage.overdue_raised & step.bit() == 0;
    if report.status == ReportStatus::Received
        && due(triage.acknowledge_due_at)
        && unraised(OverdueStep::Acknowledge)
    {
        steps.push(OverdueStep::Acknowledge);
    }
    if !report.status.is_closed() && due(triage.resolve_due_at) && unraised(OverdueStep::Resolve) {
        steps.push(OverdueStep::Resolve);
    }
    steps
}

/// Records that the alerts for `bits` were raised.
pub(crate) fn mark_overdue_raised(
    conn: &Connection,
    report_seq: i64,
    bits: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE reports SET overdue_raised = overdue_raised | ?2 WHERE seq = ?1")?
        .execute(params![report_seq, bits])?;
    Ok(())
}

/// The earliest due time not yet flagged, if any.
pub(crate) fn next_due(conn: &Connection) -> Result<Option<DateTime<Utc>>, StoreError> {
    let next: Option<i64> = conn
        .prepare_cached(concat!(
            "SELECT min(due) FROM (
                SELECT min(acknowledge_due_at) AS due FROM reports
                    WHERE status = 'received' AND overdue_raised & 1 = 0
                UNION ALL
                SELECT min(resolve_due_at) FROM reports
                    WHERE status NOT IN ",
            closed_statuses!(),
            " AND overdue_raised & 2 = 0)"
        ))?
        .query_row([], |row| row.get(0))?;
    Ok(next.map(from_millis))
}

/// Deletes contact details and photos of reports received before `cutoff`, at most `limit`
/// reports; returns how many were purged. Each gets a history line; the caller audits the run.
pub(crate) fn purge_personal_data(
    conn: &Connection,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<usize, StoreError> {
    let seqs: Vec<i64> = conn
        .prepare_cached(
            "SELECT seq FROM reports WHERE received_at < ?1 AND personal_data_purged_at IS NULL
                AND (contact_name IS NOT NULL OR contact_phone IS NOT NULL
                     OR contact_email IS NOT NULL OR has_photo OR media_url IS NOT NULL
                     OR (source IN ('telegram', 'whatsapp') AND device_id != ''))
             ORDER BY seq LIMIT ?2",
        )?
        .query_map(params![millis(cutoff), limit as i64], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for seq in &seqs {
        conn.prepare_cached("DELETE FROM report_photos WHERE report_seq = ?1")?
            .execute([seq])?;
        // A chat's messages and its id are the chat reporter's contact details.
        conn.prepare_cached(
            "DELETE FROM chat_messages WHERE report_id = (SELECT id FROM reports WHERE seq = ?1)",
        )?
        .execute([seq])?;
        // The news sent to the chat names it in its destination.
        conn.prepare_cached(
            "DELETE FROM outbox WHERE report_id = (SELECT id FROM reports WHERE seq = ?1)
                AND destination LIKE 'chat:%' AND state NOT IN ('queued', 'retrying')",
        )?
        .execute([seq])?;
        conn.prepare_cached(
            "UPDATE report_updates SET device_id = '' WHERE report_seq = ?1
                AND (SELECT source FROM reports WHERE seq = ?1) IN ('telegram', 'whatsapp')",
        )?
        .execute([seq])?;
        conn.prepare_cached(
            "UPDATE reports SET contact_name = NULL, contact_phone = NULL, contact_email = NULL,
                media_url = NULL, has_photo = 0, personal_data_purged_at = ?2,
                device_id = CASE WHEN source IN ('telegram', 'whatsapp') THEN '' ELSE device_id END,
                version = version + 1, updated_at = ?2
             WHERE seq = ?1",
        )?
        .execute(params![seq, millis(now)])?;
        let entry = HistoryEntry {
            seq: 0,
            at: now,
            actor: "system".into(),
            kind: "purge".into(),
            status: None,
            public_note: None,
            internal_note: None,
            detail: serde_json::json!({ "removed": ["contact", "photo", "media_url", "chat"] }),
        };
        append_history(conn, *seq, entry)?;
    }
    Ok(seqs.len())
}

/// The frame of one reporter update, by its cursor.
pub(crate) fn update_frame(conn: &Connection, cursor: i64) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT frame FROM report_updates WHERE seq = ?1")?
        .query_row([cursor], |row| row.get(0))
        .optional()?)
}
