//! Zone rows: replace a whole level at once, and load every zone to build the index.

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use crate::zones::{ImportError, Zone, ZoneRecord};

/// Replaces every zone of `level` with `records`. Run it inside one transaction.
pub(crate) fn replace_level(
    conn: &Connection,
    level: &str,
    records: &[ZoneRecord],
    imported_at_ms: i64,
) -> Result<usize, ImportError> {
    conn.execute("DELETE FROM zones WHERE level = ?1", [level])
        .map_err(StoreError::from)?;
    let mut taken = conn
        .prepare_cached("SELECT level FROM zones WHERE id = ?1")
        .map_err(StoreError::from)?;
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO zones (id, level, name, parent_id, geometry, min_lon, min_lat, max_lon, max_lat, imported_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .map_err(StoreError::from)?;
    for record in records {
        let zone = &record.zone;
        let other_level: Option<String> = taken
            .query_row([&zone.id], |row| row.get(0))
            .optional()
            .map_err(StoreError::from)?;
        if let Some(level) = other_level {
            return Err(ImportError::IdTakenByLevel {
                id: zone.id.clone(),
                level,
            });
        }
        let [min_lon, min_lat, max_lon, max_lat] = record.bbox;
        insert
            .execute(params![
                zone.id,
                zone.level,
                zone.name,
                zone.parent_id,
                record.geometry_json,
                min_lon,
                min_lat,
                max_lon,
                max_lat,
                imported_at_ms
            ])
            .map_err(StoreError::from)?;
    }
    Ok(records.len())
}

/// Deletes every zone of `level`; returns how many there were.
pub(crate) fn remove_level(conn: &Connection, level: &str) -> Result<usize, StoreError> {
    Ok(conn.execute("DELETE FROM zones WHERE level = ?1", [level])?)
}

/// Zone counts per level, for `vedetta zones list`.
pub(crate) fn levels(conn: &Connection) -> Result<Vec<(String, i64)>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT level, count(*) FROM zones GROUP BY level ORDER BY level")?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn count(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT count(*) FROM zones", [], |row| row.get(0))?)
}

/// Every stored zone with its parsed geometry.
pub(crate) fn load_all(conn: &Connection) -> Result<Vec<Zone>, StoreError> {
    let mut stmt = conn.prepare("SELECT id, level, name, parent_id, geometry FROM zones")?;
    let rows = stmt.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, Option<String>>(3)?,
            row.get::<_, String>(4)?,
        ))
    })?;
    let mut zones = Vec::new();
    for row in rows {
        let (id, level, name, parent_id, geometry) = row?;
        let geometry = parse_geometry(&geometry)
            .map_err(|why| StoreError::Corrupt(format!("zone {id}: {why}")))?;
        zones.push(Zone::new(id, level, name, parent_id, geometry));
    }
    Ok(zones)
}

fn parse_geometry(text: &str) -> Result<geo::MultiPolygon<f64>, String> {
    let geometry: geojson::Geometry = serde_json::from_str(text).map_err(|err| err.to_string())?;
    crate::zones::to_multi_polygon(&geometry)
}

impl From<StoreError> for ImportError {
    fn from(err: StoreError) -> ImportError {
        ImportError::Store(err.to_string())
    }
}
