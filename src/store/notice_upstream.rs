//! Rows of `notice_upstream`: what an imported notice came with from its sender.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

/// What an imported notice came with beyond the notice itself.
#[derive(Debug, Default)]
pub(crate) struct UpstreamRow {
    /// The CAP `references` of an original the hub does not hold.
    pub refs: Option<String>,
    pub sender_name: Option<String>,
    /// The sender's `<alert>` as JSON CAP elements.
    pub alert: Option<String>,
    /// The configured source it was polled from; `None` when staff imported it.
    pub source: Option<String>,
    /// What was found of the sender's signature, as JSON.
    pub signature: Option<String>,
    /// A source's rule marked it for fast review.
    pub fast_review: bool,
    /// What the operator was told about how it was read, as a JSON array.
    pub warnings: Option<String>,
}

pub(crate) fn set_upstream(
    conn: &Connection,
    notice_id: &str,
    row: &UpstreamRow,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO notice_upstream (notice_id, refs, sender_name, alert, source, signature, fast_review, warnings)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        notice_id,
        row.refs,
        row.sender_name,
        row.alert,
        row.source,
        row.signature,
        row.fast_review,
        row.warnings
    ])?;
    Ok(())
}

/// What the approver is told of an imported notice, as stored (JSON where it is structured).
pub(crate) struct ReviewRow {
    pub signature: Option<String>,
    pub fast_review: bool,
    pub warnings: Option<String>,
}

/// The signature check, the fast-review mark and the import's warnings, without the sender's
/// document.
pub(crate) fn review(conn: &Connection, notice_id: &str) -> Result<Option<ReviewRow>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT signature, fast_review, warnings FROM notice_upstream WHERE notice_id = ?1",
        )?
        .query_row([notice_id], |row| {
            Ok(ReviewRow {
                signature: row.get(0)?,
                fast_review: row.get(1)?,
                warnings: row.get(2)?,
            })
        })
        .optional()?)
}

/// Which of `notice_ids` a source's rule marked for fast review.
pub(crate) fn marked_for_fast_review(
    conn: &Connection,
    notice_ids: &[String],
) -> Result<HashSet<String>, StoreError> {
    let ids = serde_json::to_string(notice_ids).expect("ids serialize");
    let mut stmt = conn.prepare_cached(
        "SELECT notice_id FROM notice_upstream
         WHERE fast_review AND notice_id IN (SELECT value FROM json_each(?1))",
    )?;
    let rows = stmt.query_map([ids], |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The `senderName` each of `notice_ids` came with, for those that came with one.
pub(crate) fn sender_names(
    conn: &Connection,
    notice_ids: &[String],
) -> Result<HashMap<String, String>, StoreError> {
    let ids = serde_json::to_string(notice_ids).expect("ids serialize");
    let mut stmt = conn.prepare_cached(
        "SELECT notice_id, sender_name FROM notice_upstream
         WHERE sender_name IS NOT NULL AND notice_id IN (SELECT value FROM json_each(?1))",
    )?;
    let rows = stmt.query_map([ids], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What an imported notice came with; `None` for the office's own notices.
pub(crate) fn upstream(
    conn: &Connection,
    notice_id: &str,
) -> Result<Option<UpstreamRow>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT refs, sender_name, alert, source, signature, fast_review, warnings FROM notice_upstream WHERE notice_id = ?1",
        )?
        .query_row([notice_id], |row| {
            Ok(UpstreamRow {
                refs: row.get(0)?,
                sender_name: row.get(1)?,
                alert: row.get(2)?,
                source: row.get(3)?,
                signature: row.get(4)?,
                fast_review: row.get(5)?,
                warnings: row.get(6)?,
            })
        })
        .optional()?)
}
