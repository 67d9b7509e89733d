//! Outbox rows: one per destination and event, written with the event, then taken, retried,
//! superseded or settled by the channel workers.

use std::collections::BTreeMap;

use rusqlite::{Connection, params};

use super::StoreError;
pub(crate) use super::outbox_due::{Due, due, next_due};
use crate::model::{Delivery, DeliveryKind, DeliveryState, OutboundChannel, OutboxStatus};

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
pub(super) mod tests {
    use super::*;

    pub(crate) fn queue(conn: &Connection, destination: &str, thread: &str, notice: &str) -> i64 {
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

    pub(crate) fn store() -> Connection {
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
