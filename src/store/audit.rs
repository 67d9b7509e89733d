//! The append-only audit log: who did what, when. Rows are written inside the transaction of
//! the action they record, so an action and its audit line commit together or not at all.

use rusqlite::{Connection, params};

use serde_json::Value;

use super::StoreError;
use super::reports::from_millis;
use crate::model::{AuditFilter, AuditRecord};

pub(crate) fn append(
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

pub(crate) fn list(
    conn: &Connection,
    filter: &AuditFilter,
) -> Result<Vec<AuditRecord>, StoreError> {
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
