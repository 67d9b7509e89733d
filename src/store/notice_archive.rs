//! The public archive's reads: the threads of notices that went out (never drafts or rejected
//! ones), newest first, and each thread's chain in order.

use rusqlite::{Connection, OptionalExtension};

use super::StoreError;
use super::conditions::Conditions;
use super::notices::{COLUMNS, notice_from_row};
use crate::model::Notice;

/// Notices that went out: approved, whatever became of them since.
const WENT_OUT: &str =
    "approver IS NOT NULL AND state IN ('published', 'superseded', 'cancelled', 'expired')";

/// What the archive is asked for; each given condition must hold for a notice of the thread.
#[derive(Debug, Default, Clone)]
pub(crate) struct ArchiveQuery {
    pub sent_from_ms: Option<i64>,
    pub sent_until_ms: Option<i64>,
    pub zone: Option<String>,
    pub severity: Option<String>,
    /// Lower case; found in the event of any language.
    pub event: Option<String>,
    /// Threads whose newest notice came before this one (`seq`).
    pub before_seq: Option<i64>,
    pub limit: usize,
}

/// Thread ids and their newest notice's `seq`, newest first.
pub(crate) fn threads(
    conn: &Connection,
    query: &ArchiveQuery,
) -> Result<Vec<(String, i64)>, StoreError> {
    let mut conditions = Conditions::default();
    conditions.push(WENT_OUT.into());
    conditions.bind_some("sent >= ?", query.sent_from_ms);
    conditions.bind_some("sent < ?", query.sent_until_ms);
    conditions.bind_some(
        "EXISTS (SELECT 1 FROM json_each(covered_zones) WHERE json_extract(value, '$.id') = ?)",
        query.zone.clone(),
    );
    conditions.bind_some(
        "json_extract(content, '$.severity') = ?",
        query.severity.clone(),
    );
    conditions.bind_some(
        "EXISTS (SELECT 1 FROM json_each(content, '$.info') \
         WHERE instr(lower(json_extract(value, '$.event')), ?) > 0)",
        query.event.clone(),
    );
    let (condition, mut values) = conditions.into_parts();
    let before = query.before_seq.unwrap_or(i64::MAX);
    values.push(before.into());
    let sql = format!(
        "SELECT thread_id, MAX(seq) AS newest FROM notices WHERE {condition} \
         GROUP BY thread_id HAVING newest < ?{} ORDER BY newest DESC LIMIT {}",
        values.len(),
        query.limit
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(values), |row| {
        Ok((row.get(0)?, row.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The notices of a thread that went out, oldest first: Alert, Updates, Cancel.
pub(crate) fn chain(conn: &Connection, thread_id: &str) -> Result<Vec<Notice>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM notices WHERE thread_id = ?1 AND {WENT_OUT} ORDER BY seq");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([thread_id], notice_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The thread of a notice that went out, and its newest notice's `seq`; none for a draft, a
/// rejected notice or an unknown id.
pub(crate) fn thread_of(conn: &Connection, id: &str) -> Result<Option<(String, i64)>, StoreError> {
    let sql = format!(
        "SELECT thread_id, (SELECT MAX(seq) FROM notices t \
                            WHERE t.thread_id = n.thread_id AND {WENT_OUT}) \
         FROM notices n WHERE id = ?1 AND {WENT_OUT}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    Ok(stmt
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?)
}
