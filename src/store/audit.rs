//! The append-only audit log: who did what, when. Rows are written inside the transaction of
//! the action they record, so an action and its audit line commit together or not at all.

use rusqlite::{Connection, params};
use serde::Serialize;
use serde_json::Value;

use super::StoreError;
use super::reports::from_millis;

/// One line of the log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub detail: Value,
}

/// Which lines to read, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub subject: Option<String>,
    /// Entries at or after this time (Unix milliseconds).
    pub since_ms: Option<i64>,
    /// Entries before this time (Unix milliseconds).
    pub until_ms: Option<i64>,
    pub before_seq: Option<i64>,
    pub limit: usize,
}

pub fn append(
    conn: &Connection,
    at_ms: i64,
    actor: &str,
    action: &str,
    subject: Option<&str>,
    detail: &Value,
) -> Result<(), StoreError> {
    let detail = (!detail.is_null()).then(|| detail.to_string());
    conn.prepare_cached(
        "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![at_ms, actor, action, subject, detail])?;
    Ok(())
}

pub fn list(conn: &Connection, filter: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, subject, detail FROM audit
         WHERE (?1 IS NULL OR actor = ?1) AND (?2 IS NULL OR action = ?2) AND (?3 IS NULL OR subject = ?3)
           AND (?4 IS NULL OR seq < ?4) AND (?6 IS NULL OR at >= ?6) AND (?7 IS NULL OR at < ?7)
         ORDER BY seq DESC LIMIT ?5",
    )?;
    let rows = stmt.query_map(
        params![
            filter.actor,
            filter.action,
            filter.subject,
            filter.before_seq,
            filter.limit as i64,
            filter.since_ms,
            filter.until_ms
        ],
        |row| {
            let detail: Option<String> = row.get(5)?;
            Ok(AuditRecord {
                seq: row.get(0)?,
                at: from_millis(row.get(1)?),
                actor: row.get(2)?,
                action: row.get(3)?,
                subject: row.get(4)?,
                detail: detail
                    .and_then(|text| serde_json::from_str(&text).ok())
                    .unwrap_or(Value::Null),
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}
