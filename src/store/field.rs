//! Field rows: teams and their devices, device state and position, tasks and their answers.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::reports::{from_millis, millis};
use super::{StoreError, corrupt};
use crate::model::DeviceId;
use crate::model::{Device, DeviceState, Position, Task, TaskStatus, Team};

fn device_ids(json: &str, column: usize) -> rusqlite::Result<Vec<DeviceId>> {
    let ids: Vec<String> =
        serde_json::from_str(json).map_err(|_| corrupt(column, "device ids are not JSON"))?;
    ids.iter()
        .map(|id| DeviceId::parse(id, "device_id").map_err(|_| corrupt(column, "bad device id")))
        .collect()
}

fn ids_json(devices: &[DeviceId]) -> String {
    let ids: Vec<&str> = devices.iter().map(DeviceId::as_str).collect();
    serde_json::to_string(&ids).expect("strings always serialize")
}

/// Creates or replaces a team with exactly `team.devices`.
pub(crate) fn save_team(conn: &Connection, team: &Team) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO teams (id, name, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name",
    )?
    .execute(params![team.id, team.name, millis(team.created_at)])?;
    conn.prepare_cached("DELETE FROM team_devices WHERE team_id = ?1")?
        .execute([&team.id])?;
    let mut add =
        conn.prepare_cached("INSERT INTO team_devices (team_id, device_id) VALUES (?1, ?2)")?;
    for device in &team.devices {
        add.execute(params![team.id, device.as_str()])?;
    }
    Ok(())
}

pub(crate) fn team(conn: &Connection, id: &str) -> Result<Option<Team>, StoreError> {
    Ok(teams_where(conn, Some(id))?.pop())
}

pub(crate) fn teams(conn: &Connection) -> Result<Vec<Team>, StoreError> {
    teams_where(conn, None)
}

fn teams_where(conn: &Connection, id: Option<&str>) -> Result<Vec<Team>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.id, t.name, t.created_at,
            (SELECT json_group_array(device_id) FROM team_devices d WHERE d.team_id = t.id)
         FROM teams t WHERE ?1 IS NULL OR t.id = ?1 ORDER BY t.name",
    )?;
    let rows = stmt.query_map([id], |row| {
        Ok(Team {
            id: row.get(0)?,
            name: row.get(1)?,
            created_at: from_millis(row.get(2)?),
            devices: device_ids(&row.get::<_, String>(3)?, 3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Records a device's state; `Ok(false)` if the device already said exactly that.
pub(crate) fn save_state(
    conn: &Connection,
    device: &DeviceId,
    state: DeviceState,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = conn
        .prepare_cached(
            "INSERT INTO devices (device_id, state, state_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (device_id) DO UPDATE SET state = excluded.state, state_at = excluded.state_at
             WHERE devices.state != excluded.state",
        )?
        .execute(params![device.as_str(), state.as_str(), millis(at)])?;
    Ok(changed > 0)
}

/// Records a device's position; a device first seen by its position counts as online.
pub(crate) fn save_position(
    conn: &Connection,
    device: &DeviceId,
    position: &Position,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO devices (device_id, state, state_at, lat, lon, accuracy_m, position_at)
         VALUES (?1, 'online', ?5, ?2, ?3, ?4, ?5)
         ON CONFLICT (device_id) DO UPDATE SET lat = excluded.lat, lon = excluded.lon,
            accuracy_m = excluded.accuracy_m, position_at = excluded.position_at",
    )?
    .execute(params![
        device.as_str(),
        position.lat,
        position.lon,
        position.accuracy_m,
        millis(position.at)
    ])?;
    Ok(())
}

pub(crate) fn device(conn: &Connection, id: &DeviceId) -> Result<Option<Device>, StoreError> {
    Ok(devices_where(conn, Some(id.as_str()))?.pop())
}

pub(crate) fn devices(conn: &Connection) -> Result<Vec<Device>, StoreError> {
    devices_where(conn, None)
}

fn devices_where(conn: &Connection, id: Option<&str>) -> Result<Vec<Device>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.device_id, d.state, d.state_at, d.lat, d.lon, d.accuracy_m, d.position_at,
            (SELECT json_group_array(team_id) FROM team_devices t WHERE t.device_id = d.device_id)
         FROM devices d WHERE ?1 IS NULL OR d.device_id = ?1 ORDER BY d.device_id",
    )?;
    let rows = stmt.query_map([id], device_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn device_from_row(row: &Row<'_>) -> rusqlite::Result<Device> {
    let id: String = row.get(0)?;
    let state: String = row.get(1)?;
    let position = match (row.get::<_, Option<f64>>(3)?, row.get::<_, Option<f64>>(4)?) {
        (Some(lat), Some(lon)) => Some(Position {
            lat,
            lon,
            accuracy_m: row.get(5)?,
            at: from_millis(row.get::<_, Option<i64>>(6)?.unwrap_or_default()),
        }),
        _ => None,
    };
    let teams: String = row.get(7)?;
    Ok(Device {
        device_id: DeviceId::parse(&id, "device_id").map_err(|_| corrupt(0, "bad device id"))?,
        state: DeviceState::parse(&state).ok_or_else(|| corrupt(1, "unknown device state"))?,
        state_at: from_millis(row.get(2)?),
        position,
        teams: serde_json::from_str(&teams).map_err(|_| corrupt(7, "teams are not JSON"))?,
    })
}

const TASK_COLUMNS: &str = "seq, id, team_id, report_id, incident_id, note, status, devices, \
    dispatched_by, created_at, updated_at, frame";

pub(crate) fn insert_task(conn: &Connection, task: &Task) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO tasks (id, team_id, report_id, incident_id, note, status, devices, frame,
            dispatched_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
    )?
    .execute(params![
        task.id,
        task.team_id,
        task.report_id,
        task.incident_id,
        task.note,
        task.status.as_str(),
        ids_json(&task.devices),
        task.frame,
        task.dispatched_by,
        millis(task.created_at),
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Saves a task's new status and frame, and the device answer that moved it.
pub(crate) fn save_answer(
    conn: &Connection,
    task: &Task,
    device: &DeviceId,
    note: Option<&str>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE tasks SET status = ?2, frame = ?3, updated_at = ?4 WHERE seq = ?1",
    )?
    .execute(params![
        task.seq,
        task.status.as_str(),
        task.frame,
        millis(task.updated_at)
    ])?;
    conn.prepare_cached(
        "INSERT INTO task_answers (task_seq, device_id, status, note, at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![task.seq, device.as_str(), task.status.as_str(), note, millis(task.updated_at)])?;
    Ok(())
}

pub(crate) fn task(conn: &Connection, id: &str) -> Result<Option<Task>, StoreError> {
    let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], task_from_row)
        .optional()?)
}

/// Tasks newest first; only unfinished ones if `open`.
pub(crate) fn tasks(conn: &Connection, open: bool, limit: usize) -> Result<Vec<Task>, StoreError> {
    let sql = format!(
        "SELECT {TASK_COLUMNS} FROM tasks WHERE NOT ?1 OR status != 'done' ORDER BY seq DESC LIMIT ?2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![open, limit as i64], task_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn task_from_row(row: &Row<'_>) -> rusqlite::Result<Task> {
    let status: String = row.get(6)?;
    Ok(Task {
        seq: row.get(0)?,
        id: row.get(1)?,
        team_id: row.get(2)?,
        report_id: row.get(3)?,
        incident_id: row.get(4)?,
        note: row.get(5)?,
        status: TaskStatus::parse(&status).ok_or_else(|| corrupt(6, "unknown task status"))?,
        devices: device_ids(&row.get::<_, String>(7)?, 7)?,
        dispatched_by: row.get(8)?,
        created_at: from_millis(row.get(9)?),
        updated_at: from_millis(row.get(10)?),
        frame: row.get(11)?,
    })
}

/// Every device id on record: field devices, team members, and senders of MQTT reports.
pub(crate) fn known_devices(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT device_id FROM devices
         UNION SELECT device_id FROM team_devices
         UNION SELECT device_id FROM reports WHERE source = 'mqtt' AND device_id != ''",
    )?;
    let rows = stmt.query_map([], |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
