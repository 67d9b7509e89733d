//! Incident rows: create, find open ones near a point, keep their counts and centre current.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::StoreError;
use super::reports::{closed_statuses, from_millis, millis};
use crate::model::Location;
use crate::model::{Incident, IncidentFilter, IncidentStatus};

/// The columns `incident_from_row` reads; a macro, so that the hot queries are built once, by
/// `concat!`, and not formatted again for every report.
macro_rules! columns {
    () => {
        "seq, id, category, status, lat, lon, report_count, open_count, \
         last_report_at, merged_into, version, created_at, updated_at"
    };
}
const COLUMNS: &str = columns!();

/// `active_hour` is `last_report_at` in whole hours: open incidents are indexed on it, so the
/// index moves once an hour per incident, not with every report (migration 0012).
const MILLIS_PER_HOUR: i64 = 3_600_000;

/// A new open incident at `location`, counting `reports` open reports: the one intake stores
/// with it (1), or none yet, for a split that moves reports in next (0).
pub(crate) fn insert(
    conn: &Connection,
    id: &str,
    category: &str,
    location: Location,
    at: DateTime<Utc>,
    reports: i64,
) -> Result<Incident, StoreError> {
    Ok(conn
        .prepare_cached(concat!(
            "INSERT INTO incidents (id, category, status, lat, lon, report_count, open_count,
                last_report_at, active_hour, version, created_at, updated_at)
             VALUES (?1, ?2, 'open', ?3, ?4, ?7, ?7, ?5, ?5 / ?6, 1, ?5, ?5)
             RETURNING ",
            columns!()
        ))?
        .query_row(
            params![
                id,
                category,
                location.lat,
                location.lon,
                millis(at),
                MILLIS_PER_HOUR,
                reports
            ],
            incident_from_row,
        )?)
}

pub(crate) fn get(conn: &Connection, id: &str) -> Result<Option<Incident>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM incidents WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], incident_from_row)
        .optional()?)
}

/// The id and centre of each open incident of `category` with a report since `since`, whose
/// centre lies in the box: all that intake needs to choose one, read for every report.
pub(crate) fn open_near(
    conn: &Connection,
    category: &str,
    since: DateTime<Utc>,
    [min_lon, min_lat, max_lon, max_lat]: [f64; 4],
) -> Result<Vec<(String, Location)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, lat, lon FROM incidents
         WHERE status = 'open' AND category = ?1 AND active_hour >= ?2 / ?7
           AND last_report_at >= ?2
           AND lat BETWEEN ?3 AND ?4 AND lon BETWEEN ?5 AND ?6",
    )?;
    let rows = stmt.query_map(
        params![
            category,
            millis(since),
            min_lat,
            max_lat,
            min_lon,
            max_lon,
            MILLIS_PER_HOUR
        ],
        |row| {
            let location = Location {
                lat: row.get(1)?,
                lon: row.get(2)?,
            };
            Ok((row.get(0)?, location))
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Moves a report into an incident.
pub(crate) fn attach(
    conn: &Connection,
    report_seq: i64,
    incident_id: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE reports SET incident_id = ?2 WHERE seq = ?1")?
        .execute(params![report_seq, incident_id])?;
    Ok(())
}

/// What counting a new report in changes (`?2`, `?3`: its position, `?4`: when it came; `?5`
/// is `MILLIS_PER_HOUR`).
macro_rules! count_in {
    () => {
        "lat = (lat * report_count + ?2) / (report_count + 1),
         lon = (lon * report_count + ?3) / (report_count + 1),
         report_count = report_count + 1, open_count = open_count + 1,
         last_report_at = max(last_report_at, ?4), version = version + 1, updated_at = ?4"
    };
}

/// Counts a new open report in, moving the centre towards it. Constant time: intake does this
/// for every report, however large the incident. Reads nothing back: a batch of reports into
/// one incident reads it once, after COMMIT (`WriteCtx::incident_changed`).
pub(crate) fn add_report(
    conn: &Connection,
    id: &str,
    location: Location,
    received_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let at = millis(received_at);
    let args = params![id, location.lat, location.lon, at, MILLIS_PER_HOUR];
    // Usually the incident is open and had a report this hour: then only columns no index
    // holds change, and SQLite leaves `incidents_open_by_category` alone.
    let in_place = concat!(
        "UPDATE incidents SET ",
        count_in!(),
        " WHERE id = ?1 AND status = 'open' AND active_hour >= ?4 / ?5"
    );
    if conn.prepare_cached(in_place)?.execute(args)? == 1 {
        return Ok(());
    }
    let reopening = concat!(
        "UPDATE incidents SET ",
        count_in!(),
        ", status = 'open', active_hour = max(last_report_at, ?4) / ?5 WHERE id = ?1"
    );
    match conn.prepare_cached(reopening)?.execute(args)? {
        1 => Ok(()),
        _ => Err(StoreError::Corrupt(format!("incident {id} is missing"))),
    }
}

/// Counts a report of the incident as opened (+1) or closed (-1); the incident is resolved
/// when none is left open.
pub(crate) fn count_open(
    conn: &Connection,
    id: &str,
    delta: i64,
    at: DateTime<Utc>,
) -> Result<Option<Incident>, StoreError> {
    conn.prepare_cached(
        "UPDATE incidents SET open_count = max(open_count + ?2, 0),
            status = CASE WHEN status = 'merged' THEN 'merged'
                          WHEN open_count + ?2 > 0 THEN 'open' ELSE 'resolved' END,
            version = version + 1, updated_at = ?3
         WHERE id = ?1",
    )?
    .execute(params![id, delta, millis(at)])?;
    get(conn, id)
}

/// Recomputes counts, centre and status from the incident's reports; returns it if it changed.
pub(crate) fn refresh(
    conn: &Connection,
    id: &str,
    at: DateTime<Utc>,
) -> Result<Option<Incident>, StoreError> {
    let before = get(conn, id)?;
    conn.prepare_cached(concat!(
        "UPDATE incidents SET
            report_count = agg.total, open_count = agg.open,
            lat = COALESCE(agg.lat, incidents.lat), lon = COALESCE(agg.lon, incidents.lon),
            last_report_at = COALESCE(agg.last, incidents.last_report_at),
            active_hour = COALESCE(agg.last, incidents.last_report_at) / ?2,
            status = CASE WHEN incidents.status = 'merged' THEN 'merged'
                          WHEN agg.open > 0 THEN 'open' ELSE 'resolved' END
         FROM (SELECT count(*) AS total,
                      count(*) FILTER (WHERE status NOT IN ",
        closed_statuses!(),
        ") AS open,
                      avg(lat) AS lat, avg(lon) AS lon, max(received_at) AS last
               FROM reports WHERE incident_id = ?1) AS agg
         WHERE id = ?1"
    ))?
    .execute(params![id, MILLIS_PER_HOUR])?;
    let after = get(conn, id)?;
    if after == before {
        return Ok(None);
    }
    conn.prepare_cached(
        "UPDATE incidents SET version = version + 1, updated_at = ?2 WHERE id = ?1",
    )?
    .execute(params![id, millis(at)])?;
    get(conn, id)
}

/// Marks `id` as merged into `into`; its reports must already have moved.
pub(crate) fn mark_merged(
    conn: &Connection,
    id: &str,
    into: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE incidents SET status = 'merged', merged_into = ?2, report_count = 0, open_count = 0,
            version = version + 1, updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![id, into, millis(at)])?;
    Ok(())
}

pub(crate) fn list(
    conn: &Connection,
    filter: &IncidentFilter,
) -> Result<Vec<Incident>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM incidents
         WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR category = ?2) AND (?3 IS NULL OR seq < ?3)
         ORDER BY seq DESC LIMIT ?4"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![
            filter.status.map(IncidentStatus::as_str),
            filter.category,
            filter.before_seq,
            filter.limit as i64
        ],
        incident_from_row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn incident_from_row(row: &Row<'_>) -> rusqlite::Result<Incident> {
    let status: String = row.get(3)?;
    Ok(Incident {
        seq: row.get(0)?,
        id: row.get(1)?,
        category: row.get(2)?,
        status: IncidentStatus::parse(&status)
            .ok_or_else(|| super::corrupt(3, "unknown incident status"))?,
        location: Location {
            lat: row.get(4)?,
            lon: row.get(5)?,
        },
        report_count: row.get(6)?,
        open_count: row.get(7)?,
        last_report_at: from_millis(row.get(8)?),
        merged_into: row.get(9)?,
        version: row.get(10)?,
        created_at: from_millis(row.get(11)?),
        updated_at: from_millis(row.get(12)?),
    })
}
