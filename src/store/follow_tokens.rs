//! Follow-token rows: the hash of each secret a reporter was given, and the report it opens.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use super::reports::millis;

/// Records a token for a report.
pub fn insert(
    conn: &Connection,
    token_hash: &[u8],
    report_seq: i64,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO report_follow_tokens (token_hash, report_seq, created_at) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![token_hash, report_seq, millis(at)])?;
    Ok(())
}

/// The report a token hash opens, if any.
pub fn report_of(conn: &Connection, token_hash: &[u8]) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT report_seq FROM report_follow_tokens WHERE token_hash = ?1")?
        .query_row([token_hash], |row| row.get(0))
        .optional()?)
}
