//! Follow-token rows: a report's first token hash lives in its own row; a retry's fresh token
//! gets a row here, beside it.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use super::reports::millis;

/// Tokens kept per report beside its first: a resend's answer carries a fresh one, and the
/// phone keeps the newest, so older ones are let go rather than piling up with every resend.
const KEPT_PER_REPORT: i64 = 10;

/// Records another token for a report (a retry's), letting go of all but the newest kept.
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
    conn.prepare_cached(
        "DELETE FROM report_follow_tokens WHERE report_seq = ?1 AND token_hash NOT IN (
             SELECT token_hash FROM report_follow_tokens WHERE report_seq = ?1
             ORDER BY created_at DESC, token_hash LIMIT ?2)",
    )?
    .execute(params![report_seq, KEPT_PER_REPORT])?;
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
