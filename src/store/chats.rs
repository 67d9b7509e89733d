//! Chat rows: each chat's conversation, every message in and out, the updates already taken
//! in, and where long polling goes on from.

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use crate::model::{ChatRef, ChatService};

/// A chat's language and its dialog (JSON), if the bot has spoken with it.
pub(crate) fn get(
    conn: &Connection,
    chat: &ChatRef,
) -> Result<Option<(String, String)>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT language, dialog FROM chats WHERE service = ?1 AND chat_id = ?2")?
        .query_row(params![chat.service.as_str(), chat.chat_id], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?)
}

pub(crate) fn put(
    conn: &Connection,
    chat: &ChatRef,
    language: &str,
    dialog: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO chats (service, chat_id, language, dialog, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (service, chat_id) DO UPDATE SET language = excluded.language,
            dialog = excluded.dialog, updated_at = excluded.updated_at",
    )?
    .execute(params![chat.service.as_str(), chat.chat_id, language, dialog, now_ms])?;
    Ok(())
}

/// When the person last wrote in the chat (each turn stores the chat), in milliseconds;
/// `None` if never, or if the service has said since that the chat's reply window closed.
pub(crate) fn last_heard_ms(conn: &Connection, chat: &ChatRef) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT CASE WHEN window_closed_at >= updated_at THEN NULL ELSE updated_at END
             FROM chats WHERE service = ?1 AND chat_id = ?2",
        )?
        .query_row(params![chat.service.as_str(), chat.chat_id], |row| {
            row.get(0)
        })
        .optional()?
        .flatten())
}

/// The service said a message failed at `failed_ms` because the chat's reply window had
/// closed: until the person writes again, every message to it needs an approved template. If
/// they wrote after that failure, their window is open again and stays so.
pub(crate) fn close_reply_window(
    conn: &Connection,
    chat: &ChatRef,
    now_ms: i64,
    failed_ms: i64,
) -> Result<(), StoreError> {
    let (service, chat_id) = (chat.service.as_str(), chat.chat_id.as_str());
    conn.prepare_cached(
        "UPDATE chats SET window_closed_at = ?3
         WHERE service = ?1 AND chat_id = ?2 AND updated_at <= ?4",
    )?
    .execute(params![service, chat_id, now_ms, failed_ms])?;
    Ok(())
}

/// The language a chat speaks, if the bot knows it.
pub(crate) fn language(conn: &Connection, chat: &ChatRef) -> Result<Option<String>, StoreError> {
    Ok(get(conn, chat)?.map(|(language, _)| language))
}

/// Records an update as taken in; false if it already was (a redelivery).
pub(crate) fn take_update(
    conn: &Connection,
    service: ChatService,
    update_key: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO chat_updates (service, update_key, received_at) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![service.as_str(), update_key, now_ms])?
        == 1)
}

/// Whether an update was already taken in.
pub(crate) fn update_taken(
    conn: &Connection,
    service: ChatService,
    update_key: &str,
) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM chat_updates WHERE service = ?1 AND update_key = ?2")?
        .query_row(params![service.as_str(), update_key], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Forgets updates taken in before `before_ms`: services redeliver within hours, not weeks.
pub(crate) fn prune_updates(conn: &Connection, before_ms: i64) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached("DELETE FROM chat_updates WHERE received_at < ?1")?
        .execute([before_ms])?)
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    In,
    Out,
}

/// Appends a message to a chat's record; returns its id.
pub(crate) fn append_message(
    conn: &Connection,
    chat: &ChatRef,
    direction: Direction,
    report_id: Option<&str>,
    body: &str,
    now_ms: i64,
) -> Result<i64, StoreError> {
    let direction = match direction {
        Direction::In => "in",
        Direction::Out => "out",
    };
    conn.prepare_cached(
        "INSERT INTO chat_messages (service, chat_id, direction, report_id, body, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        chat.service.as_str(),
        chat.chat_id,
        direction,
        report_id,
        body,
        now_ms
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Ties the messages of a chat not yet tied to a report (the conversation that made it) to it.
pub(crate) fn tie_to_report(
    conn: &Connection,
    chat: &ChatRef,
    report_id: &str,
) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE chat_messages SET report_id = ?3
             WHERE service = ?1 AND chat_id = ?2 AND report_id IS NULL",
        )?
        .execute(params![chat.service.as_str(), chat.chat_id, report_id])?)
}

/// An outgoing message: the chat it goes to and its body (JSON).
pub(crate) fn outgoing(
    conn: &Connection,
    id: i64,
) -> Result<Option<(ChatRef, String)>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT service, chat_id, body FROM chat_messages WHERE id = ?1 AND direction = 'out'",
        )?
        .query_row([id], |row| {
            let service: String = row.get(0)?;
            Ok((service, row.get::<_, String>(1)?, row.get::<_, String>(2)?))
        })
        .optional()?
        .and_then(|(service, chat_id, body)| {
            let service = ChatService::parse(&service)?;
            Some((ChatRef { service, chat_id }, body))
        }))
}

/// One message of a report's conversation, for the staff.
#[derive(Debug, Clone)]
pub(crate) struct LoggedMessage {
    pub(crate) direction: Direction,
    pub(crate) body: String,
    pub(crate) at_ms: i64,
}

/// The conversation that made a report and what was said about it since, oldest first.
pub(crate) fn messages_of_report(
    conn: &Connection,
    report_id: &str,
) -> Result<Vec<LoggedMessage>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT direction, body, at FROM chat_messages WHERE report_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([report_id], |row| {
        let direction: String = row.get(0)?;
        Ok(LoggedMessage {
            direction: if direction == "in" {
                Direction::In
            } else {
                Direction::Out
            },
            body: row.get(1)?,
            at_ms: row.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes everything the hub holds about a chat: its conversation, its messages, its
/// subscriptions, what still waits to be sent to it, and the chat id on its reports (which stay,
/// as the office's record, but can no longer reach it). Returns the subscriptions removed.
pub(crate) fn forget(conn: &Connection, chat: &ChatRef) -> Result<usize, StoreError> {
    let (service, id) = (chat.service.as_str(), chat.chat_id.as_str());
    conn.prepare_cached("DELETE FROM chats WHERE service = ?1 AND chat_id = ?2")?
        .execute(params![service, id])?;
    conn.prepare_cached("DELETE FROM chat_messages WHERE service = ?1 AND chat_id = ?2")?
        .execute(params![service, id])?;
    let subscriptions = super::subscriptions::delete_of_chat(conn, chat.service.channel(), id)?;
    conn.prepare_cached(
        "UPDATE outbox SET state = 'expired', last_error = 'the chat asked to be forgotten'
         WHERE state IN ('queued', 'retrying') AND (destination = ?1 OR report_id IN
            (SELECT id FROM reports WHERE source = ?2 AND device_id = ?3))",
    )?
    .execute(params![chat_destination(chat), service, id])?;
    // What was sent names the chat in its destination: the record goes with the chat.
    conn.prepare_cached(
        "DELETE FROM outbox WHERE destination = ?1 AND state NOT IN ('queued', 'retrying')",
    )?
    .execute([chat_destination(chat)])?;
    conn.prepare_cached(
        "UPDATE report_updates SET device_id = '' WHERE device_id = ?2
            AND report_seq IN (SELECT seq FROM reports WHERE source = ?1 AND device_id = ?2)",
    )?
    .execute(params![service, id])?;
    conn.prepare_cached("UPDATE reports SET device_id = '' WHERE source = ?1 AND device_id = ?2")?
        .execute(params![service, id])?;
    Ok(subscriptions)
}

/// Deletes the conversations of chats silent since `before_ms` and the messages before then
/// that belong to no report (those that do go with their report's purge). Subscriptions stay:
/// the chat asked for them, and `/stop` or a blocked bot ends them.
pub(crate) fn purge_idle(conn: &Connection, before_ms: i64) -> Result<usize, StoreError> {
    let messages = conn
        .prepare_cached("DELETE FROM chat_messages WHERE report_id IS NULL AND at < ?1")?
        .execute([before_ms])?;
    let chats = conn
        .prepare_cached("DELETE FROM chats WHERE updated_at < ?1")?
        .execute([before_ms])?;
    Ok(messages + chats)
}

/// The outbox destination (and thread) of a chat's conversation messages.
pub(crate) fn chat_destination(chat: &ChatRef) -> String {
    format!("chat:{}:{}", chat.service.as_str(), chat.chat_id)
}

pub(crate) fn poll_offset(
    conn: &Connection,
    service: ChatService,
) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT next_offset FROM chat_poll_offsets WHERE service = ?1")?
        .query_row([service.as_str()], |row| row.get(0))
        .optional()?)
}

pub(crate) fn set_poll_offset(
    conn: &Connection,
    service: ChatService,
    next_offset: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO chat_poll_offsets (service, next_offset) VALUES (?1, ?2)
         ON CONFLICT (service) DO UPDATE SET next_offset = excluded.next_offset",
    )?
    .execute(params![service.as_str(), next_offset])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ChatService;

    #[test]
    fn a_window_found_closed_stays_open_for_a_person_who_wrote_after_the_failure() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrations::apply(&mut conn).unwrap();
        let chat = ChatRef {
            service: ChatService::WhatsApp,
            chat_id: "393331234567".into(),
        };
        put(&conn, &chat, "it", "{}", 100).unwrap();

        close_reply_window(&conn, &chat, 200, 50).unwrap();
        let after_a_stale_failure = last_heard_ms(&conn, &chat).unwrap();
        close_reply_window(&conn, &chat, 300, 150).unwrap();
        let after_a_fresh_one = last_heard_ms(&conn, &chat).unwrap();
        put(&conn, &chat, "it", "{}", 400).unwrap();

        assert_eq!(after_a_stale_failure, Some(100));
        assert_eq!(after_a_fresh_one, None);
        assert_eq!(
            last_heard_ms(&conn, &chat).unwrap(),
            Some(400),
            "they wrote again"
        );
    }
}
