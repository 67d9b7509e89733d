//! Refusals a service reports after it accepted a message (WhatsApp's 131047): the id it gave
//! each delivered message, the delivery found again by it, and refusals that came first.

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use crate::model::OutboundChannel;

/// Marks a delivery delivered, keeping the id the service gave the message.
pub(crate) fn settle_sent(
    conn: &Connection,
    id: i64,
    sent_as: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, delivered_at = ?3,
            last_error = NULL, sent_as = ?2
         WHERE id = ?1",
    )?
    .execute(params![id, sent_as, now_ms])?;
    Ok(())
}

/// Makes the delivery the service named `sent_as` due again now, as one the service refused
/// after all, unless it is a notice's older state a newer one has followed to the same place
/// (which must not arrive after it). False if no delivered message has that id (one already
/// tried again).
pub(crate) fn retry_sent(
    conn: &Connection,
    channel: OutboundChannel,
    sent_as: &str,
    error: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let found: Option<i64> = conn
        .prepare_cached(
            "SELECT id FROM outbox
             WHERE sent_as = ?1 AND channel = ?2 AND state = 'delivered'
               AND NOT (notice_id IS NOT NULL AND EXISTS (
                   SELECT 1 FROM outbox newer WHERE newer.destination = outbox.destination
                       AND newer.thread = outbox.thread AND newer.id > outbox.id))",
        )?
        .query_row(params![sent_as, channel.as_str()], |row| row.get(0))
        .optional()?;
    let Some(id) = found else {
        return Ok(false);
    };
    conn.prepare_cached(
        "UPDATE outbox SET state = 'retrying', next_attempt_at = ?2, last_error = ?3,
            delivered_at = NULL, sent_as = NULL
         WHERE id = ?1",
    )?
    .execute(params![id, now_ms, error])?;
    Ok(true)
}

/// Keeps a refusal of `message_id` notified before its delivery was recorded as sent; forgets
/// those older than `forget_before_ms`.
pub(crate) fn keep_late_refusal(
    conn: &Connection,
    channel: OutboundChannel,
    message_id: &str,
    error: &str,
    (now_ms, forget_before_ms): (i64, i64),
) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM late_refusals WHERE at < ?1")?
        .execute([forget_before_ms])?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO late_refusals (channel, message_id, error, at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![channel.as_str(), message_id, error, now_ms])?;
    Ok(())
}

/// The refusal kept for `message_id`, taken out, if one came before its delivery's outcome.
pub(crate) fn take_late_refusal(
    conn: &Connection,
    channel: OutboundChannel,
    message_id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached(
            "DELETE FROM late_refusals WHERE channel = ?1 AND message_id = ?2 RETURNING error",
        )?
        .query_row(params![channel.as_str(), message_id], |row| row.get(0))
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::outbox::tests::{queue, store};

    #[test]
    fn a_refusal_notified_after_the_send_makes_it_due_once_and_one_notified_before_waits_for_it() {
        let conn = store();
        let hook = OutboundChannel::Webhook;
        let sent = queue(&conn, "hook-1", "thread-1", "notice-1");
        settle_sent(&conn, sent, "wamid.A", 0).unwrap();

        let first = retry_sent(&conn, hook, "wamid.A", "closed", 5).unwrap();
        let again = retry_sent(&conn, hook, "wamid.A", "closed", 6).unwrap();
        keep_late_refusal(&conn, hook, "wamid.B", "closed", (10, 0)).unwrap();
        keep_late_refusal(&conn, hook, "wamid.old", "closed", (0, 0)).unwrap();
        keep_late_refusal(&conn, hook, "wamid.C", "closed", (20, 5)).unwrap();

        assert_eq!((first, again), (true, false), "tried again once");
        let state: String = conn
            .query_row("SELECT state FROM outbox WHERE id = ?1", [sent], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(state, "retrying");
        assert_eq!(
            take_late_refusal(&conn, hook, "wamid.B")
                .unwrap()
                .as_deref(),
            Some("closed")
        );
        assert_eq!(take_late_refusal(&conn, hook, "wamid.B").unwrap(), None);
        assert_eq!(
            take_late_refusal(&conn, hook, "wamid.old").unwrap(),
            None,
            "a day old"
        );
    }

    #[test]
    fn a_notices_older_state_refused_late_is_not_sent_again_after_a_newer_one() {
        let conn = store();
        let hook = OutboundChannel::Webhook;
        let alert = queue(&conn, "hook-1", "thread-1", "notice-1");
        settle_sent(&conn, alert, "wamid.A", 0).unwrap();
        queue(&conn, "hook-1", "thread-1", "notice-2");

        assert!(!retry_sent(&conn, hook, "wamid.A", "closed", 5).unwrap());
    }
}
