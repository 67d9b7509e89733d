//! Account and session rows.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::StoreError;

/// An account as stored.
#[derive(Debug, Clone)]
pub(crate) struct UserRow {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, name, role, password_hash, disabled, created_at, updated_at";

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        id: row.get(0)?,
        name: row.get(1)?,
        role: row.get(2)?,
        password_hash: row.get(3)?,
        disabled: row.get(4)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
    })
}

/// Inserts an account; `None` if the name is taken.
pub(crate) fn insert(
    conn: &Connection,
    name: &str,
    role: &str,
    password_hash: &str,
    at: i64,
) -> Result<Option<i64>, StoreError> {
    let inserted = conn.execute(
        "INSERT INTO users (name, role, password_hash, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT (name) DO NOTHING",
        params![name, role, password_hash, at],
    )?;
    Ok((inserted == 1).then(|| conn.last_insert_rowid()))
}

pub(crate) fn find(conn: &Connection, name: &str) -> Result<Option<UserRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE name = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([name], user_from_row)
        .optional()?)
}

pub(crate) fn list(conn: &Connection) -> Result<Vec<UserRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY name");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], user_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Applies whichever of role, password hash and disabled flag are given.
pub(crate) fn update(
    conn: &Connection,
    id: i64,
    role: Option<&str>,
    password_hash: Option<&str>,
    disabled: Option<bool>,
    at: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE users SET role = coalesce(?2, role), password_hash = coalesce(?3, password_hash),
                disabled = coalesce(?4, disabled), updated_at = ?5
         WHERE id = ?1",
        params![id, role, password_hash, disabled, at],
    )?;
    Ok(())
}

pub(crate) fn count_admins(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0",
        [],
        |row| row.get(0),
    )?)
}

pub(crate) fn insert_session(
    conn: &Connection,
    token_hash: &[u8],
    user_id: i64,
    at: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![token_hash, user_id, at, expires_at],
    )?;
    Ok(())
}

/// The live, enabled account a token belongs to: (id, name, role).
pub(crate) fn session_user(
    conn: &Connection,
    token_hash: &[u8],
    now: i64,
) -> Result<Option<(i64, String, String)>, StoreError> {
    let found = conn
        .prepare_cached(
            "SELECT u.id, u.name, u.role FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND u.disabled = 0",
        )?
        .query_row(params![token_hash, now], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()?;
    Ok(found)
}

pub(crate) fn delete_session(conn: &Connection, token_hash: &[u8]) -> Result<(), StoreError> {
    conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
    Ok(())
}

/// Ends every session of an account (after a password change or when it is disabled).
pub(crate) fn delete_sessions_of(conn: &Connection, user_id: i64) -> Result<(), StoreError> {
    conn.execute("DELETE FROM sessions WHERE user_id = ?1", [user_id])?;
    Ok(())
}

pub(crate) fn delete_expired_sessions(conn: &Connection, now: i64) -> Result<usize, StoreError> {
    Ok(conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])?)
}
