//! Notice rows, their events (the WebSocket cursor), and delivery counts.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::conditions::Conditions;
use super::reports::{from_millis, millis};
use super::{StoreError, corrupt};
use crate::model::{
    DeliveryTotals, MsgType, Notice, NoticeContent, NoticeFilter, NoticeOrigin, NoticeState,
};

pub(super) const COLUMNS: &str = "seq, id, thread_id, state, origin, msg_type, content, covered_zones, references_id, \
    identifier, sender, sent, author, editors, approver, rejection_reason, version, created_at, updated_at";

fn json_column<T: serde::de::DeserializeOwned>(
    row: &Row<'_>,
    column: usize,
) -> rusqlite::Result<T> {
    let text: String = row.get(column)?;
    serde_json::from_str(&text).map_err(|err| corrupt(column, &err.to_string()))
}

pub(super) fn notice_from_row(row: &Row<'_>) -> rusqlite::Result<Notice> {
    let state: String = row.get(3)?;
    let origin: String = row.get(4)?;
    let msg_type: String = row.get(5)?;
    let content: NoticeContent = json_column(row, 6)?;
    Ok(Notice {
        seq: row.get(0)?,
        id: row.get(1)?,
        thread_id: row.get(2)?,
        state: NoticeState::parse(&state).ok_or_else(|| corrupt(3, "unknown state"))?,
        origin: if origin == "imported" {
            NoticeOrigin::Imported
        } else {
            NoticeOrigin::Local
        },
        msg_type: MsgType::parse(&msg_type, "msg_type")
            .map_err(|_| corrupt(5, "unknown msg_type"))?,
        content,
        covered_zones: json_column(row, 7)?,
        references_id: row.get(8)?,
        identifier: row.get(9)?,
        sender: row.get(10)?,
        sent: row.get::<_, Option<i64>>(11)?.map(from_millis),
        author: row.get(12)?,
        editors: json_column(row, 13)?,
        approver: row.get(14)?,
        rejection_reason: row.get(15)?,
        version: row.get(16)?,
        created_at: from_millis(row.get(17)?),
        updated_at: from_millis(row.get(18)?),
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("notice parts serialize")
}

/// Stores a new notice; the store assigns `seq`.
pub(crate) fn insert(conn: &Connection, notice: &Notice) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO notices (id, thread_id, state, origin, msg_type, status, content, covered_zones, references_id,
            identifier, sender, sent, expires_at, author, editors, approver, rejection_reason, version, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
    )?
    .execute(params![
        notice.id,
        notice.thread_id,
        notice.state.as_str(),
        notice.origin.as_str(),
        notice.msg_type.as_str(),
        notice.content.status.as_str(),
        to_json(&notice.content),
        to_json(&notice.covered_zones),
        notice.references_id,
        notice.identifier,
        notice.sender,
        notice.sent.map(millis),
        millis(notice.content.expires),
        notice.author,
        to_json(&notice.editors),
        notice.approver,
        notice.rejection_reason,
        notice.version,
        millis(notice.created_at),
        millis(notice.updated_at),
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Writes back every mutable field of a notice read earlier.
pub(crate) fn save(conn: &Connection, notice: &Notice) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE notices SET state = ?2, status = ?3, content = ?4, covered_zones = ?5, sent = ?6, expires_at = ?7,
            editors = ?8, approver = ?9, rejection_reason = ?10, version = ?11, updated_at = ?12
         WHERE id = ?1",
    )?
    .execute(params![
        notice.id,
        notice.state.as_str(),
        notice.content.status.as_str(),
        to_json(&notice.content),
        to_json(&notice.covered_zones),
        notice.sent.map(millis),
        millis(notice.content.expires),
        to_json(&notice.editors),
        notice.approver,
        notice.rejection_reason,
        notice.version,
        millis(notice.updated_at),
    ])?;
    Ok(())
}

pub(crate) fn get(conn: &Connection, id: &str) -> Result<Option<Notice>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM notices WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], notice_from_row)
        .optional()?)
}

pub(crate) fn find_by_cap_key(
    conn: &Connection,
    sender: &str,
    identifier: &str,
) -> Result<Option<Notice>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM notices WHERE sender = ?1 AND identifier = ?2");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([sender, identifier], notice_from_row)
        .optional()?)
}

pub(crate) fn list(conn: &Connection, filter: &NoticeFilter) -> Result<Vec<Notice>, StoreError> {
    let mut conditions = Conditions::default();
    conditions.bind_some("thread_id = ?", filter.thread_id.clone());
    conditions.bind_some("expires_at > ?", filter.expiring_after);
    conditions.bind_some(
        "EXISTS (SELECT 1 FROM json_each(covered_zones) WHERE json_extract(value, '$.id') = ?)",
        filter.zone.clone(),
    );
    conditions.bind_some("seq < ?", filter.before_seq);
    if filter.fast_review {
        conditions.push(
            "EXISTS (SELECT 1 FROM notice_upstream u WHERE u.notice_id = notices.id AND u.fast_review = 1)".into(),
        );
    }
    if !filter.states.is_empty() {
        let states: Vec<String> = filter
            .states
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        conditions.push(format!("state IN ({})", states.join(", ")));
    }
    if !filter.msg_types.is_empty() {
        let types: Vec<String> = filter
            .msg_types
            .iter()
            .map(|t| format!("'{}'", t.as_str()))
            .collect();
        conditions.push(format!("msg_type IN ({})", types.join(", ")));
    }
    let (condition, values) = conditions.into_parts();
    let sql = format!(
        "SELECT {COLUMNS} FROM notices WHERE {condition} ORDER BY seq DESC LIMIT {}",
        filter.limit
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(values), notice_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Published notices whose time is up.
pub(crate) fn due_to_expire(conn: &Connection, now_ms: i64) -> Result<Vec<Notice>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM notices WHERE state = 'published' AND expires_at <= ?1 ORDER BY expires_at"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([now_ms], notice_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// When the next published notice expires (unix ms).
pub(crate) fn next_expiry(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(conn.query_row(
        "SELECT min(expires_at) FROM notices WHERE state = 'published'",
        [],
        |row| row.get(0),
    )?)
}

/// An event as stored.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub seq: i64,
    pub notice_id: String,
    pub kind: String,
    pub zones: Vec<String>,
    pub frame: Vec<u8>,
}

/// The next cursor value; only the writer calls it, so it cannot race.
/// The next event's cursor: one past the newest, and never behind the machine's clock in
/// milliseconds, so that after a backup is restored no cursor a client kept names a
/// different event. The real clock, not the hub's: the hub's keeps whole seconds.
pub(crate) fn next_event_seq(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT max(coalesce(max(seq), 0) + 1, ?1) FROM notice_events",
        [super::cursor_floor()],
        |row| row.get(0),
    )?)
}

pub(crate) fn insert_event(
    conn: &Connection,
    seq: i64,
    notice: &Notice,
    kind: &str,
    zones: &[String],
    frame: &[u8],
    at_ms: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO notice_events (seq, notice_id, thread_id, kind, zones, frame, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![seq, notice.id, notice.thread_id, kind, to_json(&zones), frame, at_ms])?;
    Ok(())
}

fn event_from_row(row: &Row<'_>) -> rusqlite::Result<StoredEvent> {
    Ok(StoredEvent {
        seq: row.get(0)?,
        notice_id: row.get(1)?,
        kind: row.get(2)?,
        zones: json_column(row, 3)?,
        frame: row.get(4)?,
    })
}

/// Events after `cursor`, oldest first, at most `limit`.
pub(crate) fn events_after(
    conn: &Connection,
    cursor: i64,
    limit: usize,
) -> Result<Vec<StoredEvent>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, notice_id, kind, zones, frame FROM notice_events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![cursor, limit as i64], event_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The publication event of each notice in force, oldest first: what a new subscriber gets.
/// A cancellation is in force too, until the notice it cancels would have expired, so that
/// people who saw the alert learn it was withdrawn.
pub(crate) fn active_frames(conn: &Connection) -> Result<Vec<StoredEvent>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.seq, e.notice_id, e.kind, e.zones, e.frame FROM notice_events e
         JOIN notices n ON n.id = e.notice_id
         WHERE n.state = 'published' AND e.kind = 'published'
         ORDER BY e.seq",
    )?;
    let rows = stmt.query_map([], event_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn latest_event_seq(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT coalesce(max(seq), 0) FROM notice_events",
        [],
        |row| row.get(0),
    )?)
}

/// What the ledger holds for a notice, per channel and destination kind.
pub(crate) fn deliveries(conn: &Connection, notice_id: &str) -> Result<DeliveryTotals, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT channel, destination, delivered FROM deliveries WHERE notice_id = ?1",
    )?;
    let rows = stmt.query_map([notice_id], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, i64>(2)?,
        ))
    })?;
    let mut totals = DeliveryTotals::default();
    for row in rows {
        let (channel, destination, delivered) = row?;
        totals.raise(&channel, &destination, delivered.max(0) as u64);
    }
    Ok(totals)
}

/// Keeps the larger of the stored and the given count of each destination.
pub(crate) fn save_deliveries(
    conn: &Connection,
    notice_id: &str,
    totals: &DeliveryTotals,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO deliveries (notice_id, channel, destination, delivered) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (notice_id, channel, destination)
         DO UPDATE SET delivered = max(delivered, excluded.delivered)",
    )?;
    for (channel, destination, delivered) in totals.entries() {
        let delivered = i64::try_from(delivered).unwrap_or(i64::MAX);
        stmt.execute(params![notice_id, channel, destination, delivered])?;
    }
    Ok(())
}

/// Each notice in force with the frame it was published with, oldest first.
pub(crate) fn active_with_frames(conn: &Connection) -> Result<Vec<(Notice, Vec<u8>)>, StoreError> {
    let sql = format!(
        "SELECT {}, e.frame FROM notices n JOIN notice_events e ON e.notice_id = n.id AND e.kind = 'published'
         WHERE n.state = 'published' AND n.msg_type != 'Cancel' ORDER BY e.seq",
        prefixed_columns()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], |row| Ok((notice_from_row(row)?, row.get(19)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The notice in force in a thread, with its frame.
pub(crate) fn active_in_thread(
    conn: &Connection,
    thread_id: &str,
) -> Result<Option<(Notice, Vec<u8>)>, StoreError> {
    let sql = format!(
        "SELECT {}, e.frame FROM notices n JOIN notice_events e ON e.notice_id = n.id AND e.kind = 'published'
         WHERE n.thread_id = ?1 AND n.state = 'published' AND n.msg_type != 'Cancel'",
        prefixed_columns()
    );
    let found = conn
        .prepare_cached(&sql)?
        .query_row([thread_id], |row| Ok((notice_from_row(row)?, row.get(19)?)))
        .optional()?;
    Ok(found)
}

fn prefixed_columns() -> String {
    COLUMNS
        .split(", ")
        .map(|column| format!("n.{}", column.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The frame of one event, by its cursor.
pub(crate) fn event_frame(conn: &Connection, seq: i64) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT frame FROM notice_events WHERE seq = ?1")?
        .query_row([seq], |row| row.get(0))
        .optional()?)
}
