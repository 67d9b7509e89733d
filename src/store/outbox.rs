//! Outbox rows: one per destination and event, written with the event, then taken, retried,
//! superseded or settled by the channel workers.

use std::collections::BTreeMap;

use rusqlite::{Connection, Row, params};

use super::reports::from_millis;
use super::{StoreError, corrupt};
use crate::model::{
    Delivery, DeliveryKind, DeliveryState, OutboundChannel, OutboxStatus, Recipient,
    SubscriptionState,
};

/// A delivery to queue.
pub(crate) struct NewDelivery<'a> {
    pub(crate) channel: OutboundChannel,
    pub(crate) destination: &'a str,
    pub(crate) thread: &'a str,
    pub(crate) kind: DeliveryKind,
    pub(crate) notice_id: Option<&'a str>,
    pub(crate) event_seq: Option<i64>,
    pub(crate) report_id: Option<&'a str>,
    pub(crate) update_cursor: Option<i64>,
    pub(crate) message_id: Option<i64>,
    pub(crate) priority: i64,
}

/// Queues one delivery, due now.
pub(crate) fn insert(
    conn: &Connection,
    new: &NewDelivery<'_>,
    now_ms: i64,
) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO outbox (channel, destination, thread, kind, notice_id, event_seq, report_id,
            update_cursor, message_id, priority, state, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'queued', ?11, ?11)",
    )?
    .execute(params![
        new.channel.as_str(),
        new.destination,
        new.thread,
        new.kind.as_str(),
        new.notice_id,
        new.event_seq,
        new.report_id,
        new.update_cursor,
        new.message_id,
        new.priority,
        now_ms,
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Marks what still waits in `thread` for a destination that has just been queued something
/// newer in it (rows from `first_new` on): it receives only the latest state.
pub(crate) fn supersede_older(
    conn: &Connection,
    thread: &str,
    first_new: i64,
) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE outbox SET state = 'superseded'
             WHERE thread = ?1 AND id < ?2 AND state IN ('queued', 'retrying')
               AND destination IN (SELECT destination FROM outbox WHERE thread = ?1 AND id >= ?2)",
        )?
        .execute(params![thread, first_new])?)
}

/// Destinations that were delivered something in `thread`.
pub(crate) fn reached_in_thread(
    conn: &Connection,
    thread: &str,
) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT destination FROM outbox WHERE thread = ?1 AND state = 'delivered'",
    )?;
    let rows = stmt.query_map([thread], |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Settles what still waits in `thread`: its notice has expired and is never to be sent.
pub(crate) fn expire_thread(conn: &Connection, thread: &str) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE outbox SET state = 'expired', last_error = 'the notice expired before delivery'
             WHERE thread = ?1 AND state IN ('queued', 'retrying') AND kind != 'expired'",
        )?
        .execute([thread])?)
}

const DELIVERY_COLUMNS: &str = "o.id, o.channel, o.destination, o.thread, o.kind, o.attempts, \
    o.created_at, o.notice_id, o.event_seq, o.report_id, o.update_cursor, o.priority, o.message_id";

fn delivery_from_row(row: &Row<'_>) -> rusqlite::Result<Delivery> {
    let channel = row.get_ref(1)?.as_str()?;
    let kind = row.get_ref(4)?.as_str()?;
    Ok(Delivery {
        id: row.get(0)?,
        channel: OutboundChannel::parse(channel).ok_or_else(|| corrupt(1, "unknown channel"))?,
        destination: row.get(2)?,
        thread: row.get(3)?,
        kind: DeliveryKind::parse(kind).ok_or_else(|| corrupt(4, "unknown kind"))?,
        attempts: row.get(5)?,
        created_at: from_millis(row.get(6)?),
        notice_id: row.get(7)?,
        event_seq: row.get(8)?,
        report_id: row.get(9)?,
        update_cursor: row.get(10)?,
        priority: row.get(11)?,
        message_id: row.get(12)?,
    })
}

/// The subscription a delivery goes to, if it still exists (columns 13 to 17 of `due`).
fn recipient_from_row(row: &Row<'_>) -> rusqlite::Result<Option<Recipient>> {
    let Some(state) = row.get_ref(13)?.as_str_or_null()? else {
        return Ok(None);
    };
    let target = serde_json::from_str(row.get_ref(14)?.as_str()?)
        .map_err(|err| corrupt(14, &err.to_string()))?;
    Ok(Some(Recipient {
        state: SubscriptionState::parse(state).ok_or_else(|| corrupt(13, "unknown state"))?,
        target,
        allow_private: row.get(15)?,
        language: row.get(16)?,
        label: row.get(17)?,
    }))
}

/// A due delivery and where it goes (`None` for a reporter's news, or a removed subscription).
pub(crate) type Due = (Delivery, Option<Recipient>);

/// Deliveries of `channel` due by `now_ms`, most urgent then oldest first, after the
/// (priority, id) `after` when given, each the earliest still waiting for its destination in
/// its thread (order within a thread is kept), read with their subscriptions. Only a
/// reporter's thread can hold two waiting rows for one destination: in a notice's thread a new
/// row supersedes what waits (`supersede_older`) and a retry never revives an older one
/// (`requeue_failed`), so those rows skip the look for an earlier one.
pub(crate) fn due(
    conn: &Connection,
    channel: OutboundChannel,
    now_ms: i64,
    after: Option<(i64, i64)>,
    limit: usize,
) -> Result<Vec<Due>, StoreError> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS}, s.state, s.target, s.allow_private, s.language, s.label
         FROM outbox o LEFT JOIN subscriptions s ON s.id = o.destination
         WHERE o.channel = ?1 AND o.state IN ('queued', 'retrying') AND o.next_attempt_at <= ?2
           AND (o.priority, o.id) > (?4, ?5)
           AND ((o.report_id IS NULL AND o.message_id IS NULL) OR NOT EXISTS (SELECT 1 FROM outbox e
               WHERE e.destination = o.destination AND e.thread = o.thread AND e.id < o.id
                 AND e.state IN ('queued', 'retrying')))
         ORDER BY o.priority, o.id LIMIT ?3"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let (priority, id) = after.unwrap_or((i64::MIN, i64::MIN));
    let rows = stmt.query_map(
        params![channel.as_str(), now_ms, limit as i64, priority, id],
        |row| Ok((delivery_from_row(row)?, recipient_from_row(row)?)),
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// When the next waiting delivery of `channel` not yet due at `now_ms` falls due (unix ms).
pub(crate) fn next_due(
    conn: &Connection,
    channel: OutboundChannel,
    now_ms: i64,
) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT min(next_attempt_at) FROM outbox
             WHERE channel = ?1 AND state IN ('queued', 'retrying') AND next_attempt_at > ?2",
        )?
        .query_row(params![channel.as_str(), now_ms], |row| row.get(0))?)
}

/// Writes what an attempt came to. A delivery that was superseded or expired meanwhile keeps
/// that state unless it went out after all.
pub(crate) fn settle(
    conn: &Connection,
    id: i64,
    state: DeliveryState,
    next_attempt_ms: i64,
    error: Option<&str>,
    now_ms: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE outbox SET state = ?2, attempts = attempts + 1, next_attempt_at = ?3, last_error = ?4,
            delivered_at = CASE WHEN ?2 = 'delivered' THEN ?5 END
         WHERE id = ?1 AND (?2 = 'delivered' OR state IN ('queued', 'retrying'))",
    )?
    .execute(params![id, state.as_str(), next_attempt_ms, error, now_ms])?;
    Ok(())
}

/// Marks deliveries delivered, in one statement however many.
pub(crate) fn settle_delivered(
    conn: &Connection,
    ids: &[i64],
    now_ms: i64,
) -> Result<(), StoreError> {
    let ids = serde_json::to_string(ids).expect("ids serialize");
    conn.prepare_cached(
        "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, delivered_at = ?1, last_error = NULL
         WHERE id IN (SELECT value FROM json_each(?2))",
    )?
    .execute(params![now_ms, ids])?;
    Ok(())
}

/// Whether something newer waits for the same destination in the same thread.
pub(crate) fn has_newer(conn: &Connection, delivery: &Delivery) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE destination = ?1 AND thread = ?2 AND id > ?3
                AND state IN ('queued', 'retrying'))",
        )?
        .query_row(
            params![delivery.destination, delivery.thread, delivery.id],
            |row| row.get(0),
        )?)
}

/// Settles every waiting delivery to a destination that is gone.
pub(crate) fn fail_destination(
    conn: &Connection,
    destination: &str,
    error: &str,
) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE outbox SET state = 'failed', last_error = ?2
             WHERE destination = ?1 AND state IN ('queued', 'retrying')",
        )?
        .execute(params![destination, error])?)
}

/// Deliveries of a notice per channel and state.
pub(crate) fn status_of_notice(
    conn: &Connection,
    notice_id: &str,
) -> Result<OutboxStatus, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT channel, state, count(*) FROM outbox WHERE notice_id = ?1 GROUP BY channel, state",
    )?;
    let rows = stmt.query_map([notice_id], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, i64>(2)?,
        ))
    })?;
    let mut status: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for row in rows {
        let (channel, state, count) = row?;
        status
            .entry(channel)
            .or_default()
            .insert(state, count.max(0) as u64);
    }
    Ok(OutboxStatus(status))
}

/// Puts a notice's failed and dead deliveries back in the queue, due now; returns how many.
/// One whose destination has since been queued something newer in the thread stays as it is:
/// it would arrive as a stale alert.
pub(crate) fn requeue_failed(
    conn: &Connection,
    notice_id: &str,
    now_ms: i64,
) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE outbox SET state = 'queued', attempts = 0, next_attempt_at = ?2
             WHERE notice_id = ?1 AND state IN ('failed', 'dead')
               AND (destination LIKE 'report:%' OR destination IN (SELECT id FROM subscriptions WHERE state = 'active'))
               AND NOT EXISTS (SELECT 1 FROM outbox newer WHERE newer.destination = outbox.destination
                   AND newer.thread = outbox.thread AND newer.id > outbox.id)",
        )?
        .execute(params![notice_id, now_ms])?)
}

/// Per channel: deliveries waiting, and when the oldest of them was queued (unix ms).
pub(crate) fn queue_depths(
    conn: &Connection,
) -> Result<Vec<(String, u64, Option<i64>)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT channel, count(*), min(created_at) FROM outbox
         WHERE state IN ('queued', 'retrying') GROUP BY channel",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, i64>(1)?.max(0) as u64,
            row.get(2)?,
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes settled deliveries queued before `before_ms`, at most `limit` of them (oldest
/// first); returns how many. What still waits is never deleted.
pub(crate) fn prune_settled(
    conn: &Connection,
    before_ms: i64,
    limit: usize,
) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox
                WHERE created_at < ?1 AND state NOT IN ('queued', 'retrying') ORDER BY id LIMIT ?2)",
        )?
        .execute(params![before_ms, limit as i64])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(conn: &Connection, destination: &str, thread: &str, notice: &str) -> i64 {
        let new = NewDelivery {
            channel: OutboundChannel::Webhook,
            destination,
            thread,
            kind: DeliveryKind::Alert,
            notice_id: Some(notice),
            event_seq: Some(1),
            report_id: None,
            update_cursor: None,
            message_id: None,
            priority: 1,
        };
        insert(conn, &new, 0).unwrap()
    }

    fn store() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrations::apply(&mut conn).unwrap();
        conn.execute_batch(
            "INSERT INTO subscriptions (id, channel, state, target, zones, language, allow_private, created_at)
             VALUES ('hook-1', 'webhook', 'active', '{\"url\":\"https://example.org/h\",\"secret\":\"whsec_AA==\"}', '[]', 'it', 0, 0)",
        )
        .unwrap();
        conn
    }

    #[test]
    fn a_retry_never_revives_an_alert_whose_destination_was_since_sent_an_update() {
        let conn = store();
        let alert = queue(&conn, "hook-1", "thread-1", "notice-1");
        settle(&conn, alert, DeliveryState::Dead, 0, Some("down"), 0).unwrap();
        let update = queue(&conn, "hook-1", "thread-1", "notice-2");
        settle(&conn, update, DeliveryState::Delivered, 0, None, 0).unwrap();
        assert_eq!(requeue_failed(&conn, "notice-1", 0).unwrap(), 0);

        let other = queue(&conn, "hook-1", "thread-2", "notice-3");
        settle(&conn, other, DeliveryState::Failed, 0, Some("400"), 0).unwrap();
        assert_eq!(requeue_failed(&conn, "notice-3", 0).unwrap(), 1);
    }
}
