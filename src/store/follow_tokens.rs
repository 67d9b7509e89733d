//! Follow-token rows: a report's first token hash lives in its own row; a retry's fresh token
//! gets a row here, beside it.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use super::reports::millis;

/// Records another token for a report (a retry's).
pub(crate) fn add(
    conn: &Connection,
    report_seq: i64,
    token_hash: &[u8],
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO report_follow_tokens (report_seq, token_hash, created_at) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![report_seq, token_hash, millis(at)])?;
    Ok(())
}

/// The report `report_id`, if `token_hash` is one of its tokens.
pub(crate) fn opens(
    conn: &Connection,
    report_id: &str,
    token_hash: &[u8],
) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT r.seq FROM reports r WHERE r.id = ?1 AND (r.follow_token_hash = ?2
                OR EXISTS (SELECT 1 FROM report_follow_tokens t
                           WHERE t.report_seq = r.seq AND t.token_hash = ?2))",
        )?
        .query_row(params![report_id, token_hash], |row| row.get(0))
        .optional()?)
}
