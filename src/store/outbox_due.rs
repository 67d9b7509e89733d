//! Reading the outbox: which deliveries of a channel are due, in order, with where they go.

use rusqlite::{Connection, Row, params};

use super::reports::from_millis;
use super::{StoreError, corrupt};
use crate::model::{Delivery, DeliveryKind, OutboundChannel, Recipient, SubscriptionState};

/// What follows a delivery in its own priority.
const SAME_PRIORITY_AFTER: &str = "o.priority = ?3 AND o.id > ?4";
/// The less urgent priorities than a given one.
const LESS_URGENT: &str = "o.priority > ?3";

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
///
/// Going on from `after` takes two reads, the rest of its priority and then the less urgent
/// ones, because SQLite turns `(priority, id) > (?, ?)` into a range on `priority` alone:
/// a read deep into a long queue would step again over every row before it.
pub(crate) fn due(
    conn: &Connection,
    channel: OutboundChannel,
    now_ms: i64,
    after: Option<(i64, i64)>,
    limit: usize,
) -> Result<Vec<Due>, StoreError> {
    let mut found = Vec::with_capacity(limit);
    if let Some((priority, id)) = after {
        let rest = SAME_PRIORITY_AFTER;
        found = due_where(
            conn,
            rest,
            params![channel.as_str(), now_ms, priority, id],
            limit,
        )?;
    }
    if found.len() < limit {
        let (below, wanted) = (
            after.map_or(i64::MIN, |(priority, _)| priority),
            limit - found.len(),
        );
        let params = params![channel.as_str(), now_ms, below];
        found.extend(due_where(conn, LESS_URGENT, params, wanted)?);
    }
    Ok(found)
}

/// One read of `due`, its first `limit` rows narrowed by `range` (parameters from `?3`).
///
/// The limit is not bound: SQLite plans with a bound LIMIT's value and prepares the statement
/// again whenever it changes, as it does from read to read here. The rows come in the index's
/// order, so stopping after `limit` reads no more than a LIMIT would.
fn due_where(
    conn: &Connection,
    range: &str,
    params: &[&dyn rusqlite::ToSql],
    limit: usize,
) -> Result<Vec<Due>, StoreError> {
    let mut stmt = conn.prepare_cached(&due_sql(range))?;
    let rows = stmt.query_map(params, |row| {
        Ok((delivery_from_row(row)?, recipient_from_row(row)?))
    })?;
    Ok(rows.take(limit).collect::<Result<_, _>>()?)
}

fn due_sql(range: &str) -> String {
    format!(
        "SELECT {DELIVERY_COLUMNS}, s.state, s.target, s.allow_private, s.language, s.label
         FROM outbox o LEFT JOIN subscriptions s ON s.id = o.destination
         WHERE o.channel = ?1 AND o.state IN ('queued', 'retrying') AND o.next_attempt_at <= ?2
           AND {range}
           AND ((o.report_id IS NULL AND o.message_id IS NULL) OR NOT EXISTS (SELECT 1 FROM outbox e
               WHERE e.destination = o.destination AND e.thread = o.thread AND e.id < o.id
                 AND e.state IN ('queued', 'retrying')))
         ORDER BY o.priority, o.id"
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(range: &str) -> String {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrations::apply(&mut conn).unwrap();
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", due_sql(range)))
            .unwrap();
        let unbound = vec![rusqlite::types::Null; stmt.parameter_count()];
        let details = stmt
            .query_map(rusqlite::params_from_iter(unbound), |row| {
                row.get::<_, String>(3)
            })
            .unwrap();
        details.map(Result::unwrap).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn reading_on_from_a_delivery_searches_the_due_index_from_it_not_from_its_priority_start() {
        let plan = plan(SAME_PRIORITY_AFTER);
        assert!(
            plan.contains("outbox_due (channel=? AND priority=? AND id>?)"),
            "{plan}"
        );
        let plan = self::plan(LESS_URGENT);
        assert!(
            plan.contains("outbox_due (channel=? AND priority>?)"),
            "{plan}"
        );
    }

    #[test]
    fn due_rows_come_in_the_index_order_so_a_read_stops_after_its_limit_without_sorting() {
        for range in [SAME_PRIORITY_AFTER, LESS_URGENT] {
            let plan = plan(range);
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
    }

    fn queue(conn: &Connection, priority: i64, n: usize) -> i64 {
        use crate::store::outbox::{NewDelivery, insert};
        let new = NewDelivery {
            channel: OutboundChannel::Webhook,
            destination: &format!("hook-{priority}-{n}"),
            thread: "thread-1",
            kind: DeliveryKind::Alert,
            notice_id: Some("notice-1"),
            event_seq: Some(1),
            report_id: None,
            update_cursor: None,
            message_id: None,
            priority,
        };
        insert(conn, &new, 0).unwrap()
    }

    fn ids(rows: &[Due]) -> Vec<i64> {
        rows.iter().map(|(delivery, _)| delivery.id).collect()
    }

    #[test]
    fn reading_on_from_a_cursor_gives_the_rest_of_its_priority_then_the_less_urgent_in_order() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrations::apply(&mut conn).unwrap();
        // Less urgent rows queued first, so ids alone would put them ahead.
        let later: Vec<i64> = (0..3).map(|n| queue(&conn, 1, n)).collect();
        let urgent: Vec<i64> = (0..3).map(|n| queue(&conn, 0, n)).collect();
        let read =
            |after, limit| ids(&due(&conn, OutboundChannel::Webhook, 0, after, limit).unwrap());
        assert_eq!(
            read(None, 4),
            [urgent.clone(), later[..1].to_vec()].concat()
        );
        assert_eq!(
            read(Some((0, urgent[0])), 3),
            [&urgent[1..], &later[..1]].concat()
        );
        assert_eq!(read(Some((0, urgent[2])), 10), later);
        assert_eq!(read(Some((1, later[1])), 10), later[2..]);
    }

    #[test]
    fn reads_of_different_lengths_use_the_due_statements_as_prepared() {
        use rusqlite::StatementStatus::RePrepare;
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrations::apply(&mut conn).unwrap();
        let queued: Vec<i64> = (0..10).map(|n| queue(&conn, 1, n)).collect();
        for limit in 1..6 {
            let read = due(
                &conn,
                OutboundChannel::Webhook,
                0,
                Some((1, queued[0])),
                limit,
            );
            assert_eq!(ids(&read.unwrap()), queued[1..=limit]);
            let read = due(&conn, OutboundChannel::Webhook, 0, None, limit);
            assert_eq!(ids(&read.unwrap()), queued[..limit]);
        }
        for range in [SAME_PRIORITY_AFTER, LESS_URGENT] {
            let stmt = conn.prepare_cached(&due_sql(range)).unwrap();
            assert_eq!(stmt.get_status(RePrepare), 0, "{range}");
        }
    }
}
