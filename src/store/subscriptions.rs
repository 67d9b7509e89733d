//! Subscriptions: who asked (or was registered) to receive notices outside the hub, and the
//! zone index that finds them when an event commits.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::reports::{from_millis, millis};
use super::{StoreError, corrupt};
use crate::model::{Location, OutboundChannel, Subscription, SubscriptionState};

const COLUMNS: &str = "id, channel, state, target, zones, lat, lon, severities, events, language, \
    allow_private, label, created_by, created_at, disabled_reason";

fn json<T: serde::de::DeserializeOwned>(row: &Row<'_>, column: usize) -> rusqlite::Result<T> {
    let text: String = row.get(column)?;
    serde_json::from_str(&text).map_err(|err| corrupt(column, &err.to_string()))
}

fn optional_json<T: serde::de::DeserializeOwned>(
    row: &Row<'_>,
    column: usize,
) -> rusqlite::Result<Option<T>> {
    let text: Option<String> = row.get(column)?;
    text.map(|text| serde_json::from_str(&text).map_err(|err| corrupt(column, &err.to_string())))
        .transpose()
}

fn subscription_from_row(row: &Row<'_>) -> rusqlite::Result<Subscription> {
    let channel: String = row.get(1)?;
    let state: String = row.get(2)?;
    let (lat, lon): (Option<f64>, Option<f64>) = (row.get(5)?, row.get(6)?);
    Ok(Subscription {
        id: row.get(0)?,
        channel: OutboundChannel::parse(&channel).ok_or_else(|| corrupt(1, "unknown channel"))?,
        state: SubscriptionState::parse(&state).ok_or_else(|| corrupt(2, "unknown state"))?,
        target: json(row, 3)?,
        zones: json(row, 4)?,
        point: lat.zip(lon).map(|(lat, lon)| Location { lat, lon }),
        severities: optional_json(row, 7)?,
        events: optional_json(row, 8)?,
        language: row.get(9)?,
        allow_private: row.get(10)?,
        label: row.get(11)?,
        created_by: row.get(12)?,
        created_at: from_millis(row.get(13)?),
        disabled_reason: row.get(14)?,
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("subscription parts serialize")
}

/// Removes every subscription of a chat.
pub(crate) fn delete_of_chat(
    conn: &Connection,
    channel: OutboundChannel,
    chat_id: &str,
) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached(
            "DELETE FROM subscriptions WHERE channel = ?1 AND json_extract(target, '$.chat_id') = ?2",
        )?
        .execute(params![channel.as_str(), chat_id])?)
}

/// Removes a chat's subscription to exactly these zones, if it has one.
pub(crate) fn delete_chat_place(
    conn: &Connection,
    channel: OutboundChannel,
    chat_id: &str,
    zones: &[String],
) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached(
            "DELETE FROM subscriptions WHERE channel = ?1
                AND json_extract(target, '$.chat_id') = ?2 AND zones = ?3",
        )?
        .execute(params![channel.as_str(), chat_id, to_json(&zones)])?)
}

/// Removes the subscriptions of `channel` made by `made_by` (the configuration's, at start).
pub(crate) fn delete_made_by(
    conn: &Connection,
    channel: OutboundChannel,
    made_by: &str,
) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached("DELETE FROM subscriptions WHERE channel = ?1 AND created_by = ?2")?
        .execute(params![channel.as_str(), made_by])?)
}

/// Stores a new subscription and indexes its zones.
pub(crate) fn insert(conn: &Connection, subscription: &Subscription) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO subscriptions (id, channel, state, target, zones, lat, lon, severities, events,
            language, allow_private, label, created_by, created_at, confirmed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
            CASE WHEN ?3 = 'active' THEN ?14 END)",
    )?
    .execute(params![
        subscription.id,
        subscription.channel.as_str(),
        subscription.state.as_str(),
        to_json(&subscription.target),
        to_json(&subscription.zones),
        subscription.point.map(|point| point.lat),
        subscription.point.map(|point| point.lon),
        subscription.severities.as_ref().map(to_json),
        subscription.events.as_ref().map(to_json),
        subscription.language,
        subscription.allow_private,
        subscription.label,
        subscription.created_by,
        millis(subscription.created_at),
    ])?;
    let mut index = conn.prepare_cached(
        "INSERT OR IGNORE INTO subscription_zones (zone_id, subscription_id) VALUES (?1, ?2)",
    )?;
    for zone in &subscription.zones {
        index.execute(params![zone, subscription.id])?;
    }
    Ok(())
}

pub(crate) fn get(conn: &Connection, id: &str) -> Result<Option<Subscription>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM subscriptions WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], subscription_from_row)
        .optional()?)
}

/// The push subscription of this endpoint, found through its index.
pub(crate) fn by_push_endpoint(
    conn: &Connection,
    endpoint: &str,
) -> Result<Option<Subscription>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM subscriptions
         WHERE channel = 'webpush' AND json_extract(target, '$.endpoint') = ?1"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([endpoint], subscription_from_row)
        .optional()?)
}

/// Every e-mail subscription of this address (one per place), found through its index.
pub(crate) fn by_email_address(
    conn: &Connection,
    address: &str,
) -> Result<Vec<Subscription>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM subscriptions
         WHERE channel = 'email' AND json_extract(target, '$.address') = ?1"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([address], subscription_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn list(
    conn: &Connection,
    channel: OutboundChannel,
) -> Result<Vec<Subscription>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM subscriptions WHERE channel = ?1 ORDER BY created_at");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([channel.as_str()], subscription_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn set_state(
    conn: &Connection,
    id: &str,
    state: SubscriptionState,
    reason: Option<&str>,
    at_ms: i64,
) -> Result<bool, StoreError> {
    let changed = conn
        .prepare_cached(
            "UPDATE subscriptions SET state = ?2, disabled_reason = ?3,
                disabled_at = CASE WHEN ?2 = 'disabled' THEN ?4 END,
                confirmed_at = CASE WHEN ?2 = 'active' THEN coalesce(confirmed_at, ?4) ELSE confirmed_at END
             WHERE id = ?1",
        )?
        .execute(params![id, state.as_str(), reason, at_ms])?;
    Ok(changed > 0)
}

/// Removes a subscription, its zone index and what it still had queued.
pub(crate) fn delete(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    conn.prepare_cached(
        "DELETE FROM outbox WHERE destination = ?1 AND state IN ('queued', 'retrying')",
    )?
    .execute([id])?;
    Ok(conn
        .prepare_cached("DELETE FROM subscriptions WHERE id = ?1")?
        .execute([id])?
        > 0)
}

/// Removes subscriptions never confirmed since `before_ms`: an address someone typed for
/// somebody else is not kept.
pub(crate) fn delete_unconfirmed(conn: &Connection, before_ms: i64) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached("DELETE FROM subscriptions WHERE state = 'pending' AND created_at < ?1")?
        .execute([before_ms])?)
}

/// An active subscription that may want an event: what matching needs, and nothing personal.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub(crate) id: String,
    pub(crate) channel: OutboundChannel,
    pub(crate) point: Option<Location>,
    pub(crate) severities: Option<Vec<String>>,
    pub(crate) events: Option<Vec<String>>,
}

fn candidate_from_row(row: &Row<'_>) -> rusqlite::Result<Candidate> {
    let channel: String = row.get(1)?;
    let (lat, lon): (Option<f64>, Option<f64>) = (row.get(2)?, row.get(3)?);
    Ok(Candidate {
        id: row.get(0)?,
        channel: OutboundChannel::parse(&channel).ok_or_else(|| corrupt(1, "unknown channel"))?,
        point: lat.zip(lon).map(|(lat, lon)| Location { lat, lon }),
        severities: optional_json(row, 4)?,
        events: optional_json(row, 5)?,
    })
}

/// Active subscriptions listening to any of `zones`, and those listening to every zone.
pub(crate) fn candidates(
    conn: &Connection,
    zones: &[String],
) -> Result<Vec<Candidate>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.channel, s.lat, s.lon, s.severities, s.events FROM subscriptions s
         WHERE s.state = 'active' AND (s.zones = '[]' OR s.id IN (
             SELECT subscription_id FROM subscription_zones
             WHERE zone_id IN (SELECT value FROM json_each(?1))))
         ORDER BY s.rowid",
    )?;
    let rows = stmt.query_map([to_json(&zones)], candidate_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}
