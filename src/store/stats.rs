//! Aggregate queries over reports: counts by status, category and zone, and response times.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use super::StoreError;
use super::conditions::Conditions;
use super::reports::{OVERDUE_AT, millis};
use crate::model::StatsScope;

/// Reports in one zone.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ZoneCount {
    pub zone_id: String,
    pub level: Option<String>,
    pub name: Option<String>,
    pub count: i64,
}

/// The WHERE clause of a scope and its values.
fn condition_of(scope: &StatsScope) -> (String, Vec<Value>) {
    let mut conditions = Conditions::default();
    conditions.bind_some("r.received_at >= ?", scope.since.map(millis));
    conditions.bind_some("r.received_at <= ?", scope.until.map(millis));
    conditions.bind_some("r.category = ?", scope.category.clone());
    conditions.bind_some(
        "r.seq IN (SELECT report_seq FROM report_zones WHERE zone_id = ?)",
        scope.zone.clone(),
    );
    conditions.into_parts()
}

/// (key, count) pairs of `column`.
pub(crate) fn count_by(
    conn: &Connection,
    scope: &StatsScope,
    column: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    let (condition, values) = condition_of(scope);
    let sql = format!(
        "SELECT r.{column}, count(*) FROM reports r WHERE {condition} GROUP BY r.{column} ORDER BY 2 DESC"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(values), |row| {
        Ok((row.get(0)?, row.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The zones with most reports, at most `limit`.
pub(crate) fn count_by_zone(
    conn: &Connection,
    scope: &StatsScope,
    limit: usize,
) -> Result<Vec<ZoneCount>, StoreError> {
    let (condition, values) = condition_of(scope);
    let sql = format!(
        "SELECT rz.zone_id, z.level, z.name, count(*) FROM reports r
         JOIN report_zones rz ON rz.report_seq = r.seq LEFT JOIN zones z ON z.id = rz.zone_id
         WHERE {condition} GROUP BY rz.zone_id ORDER BY 4 DESC, 1 LIMIT {limit}"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(values), |row| {
        Ok(ZoneCount {
            zone_id: row.get(0)?,
            level: row.get(1)?,
            name: row.get(2)?,
            count: row.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Seconds from arrival to `column` (acknowledged_at or closed_at), sorted, for reports that
/// got that far, each with whether it got there by its target (`due`); resolution times count
/// only resolved reports.
pub(crate) fn durations(
    conn: &Connection,
    scope: &StatsScope,
    column: &str,
    due: &str,
) -> Result<Vec<(f64, bool)>, StoreError> {
    let (condition, values) = condition_of(scope);
    let resolved_only = if column == "closed_at" {
        " AND r.status = 'resolved'"
    } else {
        ""
    };
    let sql = format!(
        "SELECT (r.{column} - r.received_at) / 1000.0 AS seconds,
                r.{due} IS NULL OR r.{column} <= r.{due} FROM reports r
         WHERE {condition} AND r.{column} IS NOT NULL{resolved_only} ORDER BY seconds"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(values), |row| {
        Ok((row.get(0)?, row.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Reports late at `now`.
pub(crate) fn overdue(
    conn: &Connection,
    scope: &StatsScope,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let (condition, mut values) = condition_of(scope);
    values.push(millis(now).into());
    let late = OVERDUE_AT
        .replace("status", "r.status")
        .replace("acknowledge_due_at", "r.acknowledge_due_at")
        .replace("resolve_due_at", "r.resolve_due_at")
        .replace('?', &format!("?{}", values.len()));
    let sql = format!("SELECT count(*) FROM reports r WHERE {condition} AND {late}");
    Ok(conn.query_row(&sql, params_from_iter(values), |row| row.get(0))?)
}

/// Reports received per time bucket and category: (bucket start in ms, category, count).
/// Buckets start at multiples of `bucket_ms` since the epoch (UTC).
pub(crate) fn received_per_bucket(
    conn: &Connection,
    scope: &StatsScope,
    bucket_ms: i64,
) -> Result<Vec<(i64, String, i64)>, StoreError> {
    let (condition, values) = condition_of(scope);
    let sql = format!(
        "SELECT (r.received_at / {bucket_ms}) * {bucket_ms}, r.category, count(*) FROM reports r
         WHERE {condition} GROUP BY 1, 2 ORDER BY 1"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(values), |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Reports of the scope that reached `column` (acknowledged_at, or closed_at as resolved) per
/// time bucket of that moment: (bucket start in ms, count).
pub(crate) fn reached_per_bucket(
    conn: &Connection,
    scope: &StatsScope,
    column: &str,
    bucket_ms: i64,
) -> Result<Vec<(i64, i64)>, StoreError> {
    let (condition, values) = condition_of(scope);
    let resolved_only = if column == "closed_at" {
        " AND r.status = 'resolved'"
    } else {
        ""
    };
    let sql = format!(
        "SELECT (r.{column} / {bucket_ms}) * {bucket_ms}, count(*) FROM reports r
         WHERE {condition} AND r.{column} IS NOT NULL{resolved_only} GROUP BY 1 ORDER BY 1"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(values), |row| {
        Ok((row.get(0)?, row.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
