//! Updates: what the stand-in's users send (built like Telegram's), and how the bot takes them
//! in: getUpdates long polls or webhook deliveries, one at a time and in order.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use super::checks::{self, Params};
use super::server::{Answer, bad, refusal};
use super::{BotApi, Shared, State, Webhook, bot_user, unix_now};

const WEBHOOK_CONFLICT: &str = concat!(
    "Conflict: can't use getUpdates method while webhook is active; ",
    "use deleteWebhook to delete the webhook first"
);
const POLL_CONFLICT: &str = concat!(
    "Conflict: terminated by other getUpdates request; ",
    "make sure that only one bot instance is running"
);
/// Deliveries of one update to a webhook before it is dropped, as Telegram gives up too.
const WEBHOOK_ATTEMPTS: u32 = 8;

impl BotApi {
    /// A text message from a private chat (the user's id is the chat's); a command gets its
    /// `bot_command` entity.
    pub fn text_update(chat_id: i64, language_code: &str, text: &str) -> Value {
        let mut message = message(chat_id, language_code);
        message["text"] = json!(text);
        if text.starts_with('/') {
            let command = text.split_whitespace().next().unwrap_or(text);
            let length = command.encode_utf16().count();
            message["entities"] = json!([{"type": "bot_command", "offset": 0, "length": length}]);
        }
        json!({ "message": message })
    }

    /// A shared location.
    pub fn location_update(chat_id: i64, lat: f64, lon: f64) -> Value {
        let mut message = message(chat_id, "it");
        message["location"] = json!({"latitude": lat, "longitude": lon});
        json!({ "message": message })
    }

    /// A photo in two sizes, the last and largest with this file_id and file_size.
    pub fn photo_update(
        chat_id: i64,
        file_id: &str,
        file_size: u64,
        caption: Option<&str>,
    ) -> Value {
        let mut message = message(chat_id, "it");
        message["photo"] = json!([
            {"file_id": format!("{file_id}-thumb"), "file_unique_id": format!("{file_id}-t"),
             "file_size": file_size.min(1500), "width": 90, "height": 68},
            {"file_id": file_id, "file_unique_id": format!("{file_id}-u"),
             "file_size": file_size, "width": 1280, "height": 960},
        ]);
        if let Some(caption) = caption {
            message["caption"] = json!(caption);
        }
        json!({ "message": message })
    }

    /// A press on an inline button of a message the bot sent.
    pub fn callback_update(chat_id: i64, data: &str) -> Value {
        let sender = user(chat_id, "it");
        let mut message = message(chat_id, "it");
        message["from"] = bot_user(None);
        message["text"] = json!("…");
        let id = NEXT_MESSAGE_ID.fetch_add(1, Ordering::Relaxed);
        json!({"callback_query": {
            "id": format!("{}", 4_000_000_000_000_i64 + id), "from": sender, "message": message,
            "chat_instance": format!("{}", chat_id.unsigned_abs().wrapping_mul(7919)), "data": data,
        }})
    }

    /// A sticker, which the bot cannot read.
    pub fn sticker_update(chat_id: i64) -> Value {
        let mut message = message(chat_id, "it");
        message["sticker"] = json!({
            "file_id": "CAACAgIAAxkBAAEBsticker", "file_unique_id": "AgADsticker",
            "type": "regular",
            "width": 512, "height": 512, "is_animated": false, "is_video": false, "emoji": "👍",
        });
        json!({ "message": message })
    }
}

/// Message ids of incoming messages, shared by every stand-in in the process.
static NEXT_MESSAGE_ID: AtomicI64 = AtomicI64::new(1);

fn user(id: i64, language_code: &str) -> Value {
    json!({"id": id, "is_bot": false, "first_name": "Giulia", "language_code": language_code})
}

fn message(chat_id: i64, language_code: &str) -> Value {
    json!({
        "message_id": NEXT_MESSAGE_ID.fetch_add(1, Ordering::Relaxed),
        "from": user(chat_id, language_code),
        "chat": {"id": chat_id, "type": "private", "first_name": "Giulia"},
        "date": unix_now(),
    })
}

fn bump(shared: &Shared) {
    shared.changed.send_modify(|version| *version += 1);
}

/// Counts a long poll as waiting while it lives.
struct Waiting<'a>(&'a Shared);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.lock().polls_waiting -= 1;
        bump(self.0);
    }
}

pub(super) async fn get_updates(shared: &Shared, params: &Params) -> Answer {
    let limit = params.int("limit").unwrap_or(100).clamp(1, 100) as usize;
    let timeout = Duration::from_secs(params.int("timeout").unwrap_or(0).clamp(0, 3600) as u64);
    let deadline = tokio::time::Instant::now() + timeout;
    let mut changed = shared.changed.subscribe();
    let generation = {
        let mut state = shared.lock();
        if state.webhook.is_some() {
            return Err(refusal(409, WEBHOOK_CONFLICT));
        }
        state.allow(params.json("allowed_updates"));
        match params.int("offset") {
            // Telegram forgets the updates an offset confirms, or all but the last -offset.
            Some(offset) if offset > 0 => {
                state
                    .queue
                    .retain(|queued| queued.update_id >= offset || queued.redelivered);
            }
            Some(offset) if offset < 0 => {
                let keep = offset.unsigned_abs() as usize;
                let excess = state.queue.len().saturating_sub(keep);
                state.queue.drain(..excess);
            }
            _ => {}
        }
        state.poll_generation += 1;
        state.poll_generation
    };
    bump(shared);
    let mut waiting = None;
    loop {
        {
            let mut state = shared.lock();
            if shared.stopped.load(Ordering::SeqCst) {
                return Err(refusal(502, "Bad Gateway"));
            }
            if state.poll_generation != generation {
                return Err(refusal(409, POLL_CONFLICT));
            }
            if state.webhook.is_some() {
                return Err(refusal(409, WEBHOOK_CONFLICT));
            }
            if !state.queue.is_empty() || tokio::time::Instant::now() >= deadline {
                let updates = state.queue.iter_mut().take(limit).map(|queued| {
                    queued.redelivered = false;
                    queued.update.clone()
                });
                return Ok(Value::Array(updates.collect()));
            }
            if waiting.is_none() {
                state.polls_waiting += 1;
                drop(state);
                waiting = Some(Waiting(shared));
                bump(shared);
            }
        }
        let _ = tokio::time::timeout_at(deadline, changed.changed()).await;
    }
}

pub(super) fn set_webhook(shared: &Shared, params: &Params) -> Answer {
    let url = params.str("url").unwrap_or_default();
    if url.is_empty() {
        return delete_webhook(shared, params);
    }
    if !url.starts_with("https://") && !url.starts_with("http://") {
        return Err(bad(
            "bad webhook: An HTTPS URL must be provided for webhook",
        ));
    }
    let secret = params
        .str("secret_token")
        .filter(|secret| !secret.is_empty());
    if secret
        .as_deref()
        .is_some_and(|secret| !checks::secret_ok(secret))
    {
        return Err(bad("secret token contains unallowed characters"));
    }
    let mut state = shared.lock();
    if params.flag("drop_pending_updates") {
        state.queue.clear();
    }
    state.allow(params.json("allowed_updates"));
    state.webhook = Some(Webhook { url, secret });
    state.webhook_error = None;
    drop(state);
    bump(shared);
    Ok(json!(true))
}

pub(super) fn delete_webhook(shared: &Shared, params: &Params) -> Answer {
    let mut state = shared.lock();
    if params.flag("drop_pending_updates") {
        state.queue.clear();
    }
    state.webhook = None;
    drop(state);
    bump(shared);
    Ok(json!(true))
}

pub(super) fn webhook_info(shared: &Shared) -> Value {
    let state = shared.lock();
    let mut info = json!({
        "url": state.webhook.as_ref().map_or("", |hook| hook.url.as_str()),
        "has_custom_certificate": false,
        "pending_update_count": state.queue.len(),
    });
    if state.webhook.is_some() {
        info["max_connections"] = json!(40);
        if let Some(kinds) = &state.allowed_updates {
            info["allowed_updates"] = json!(kinds);
        }
        if let Some((date, message)) = &state.webhook_error {
            info["last_error_date"] = json!(date);
            info["last_error_message"] = json!(message);
        }
    }
    info
}

impl State {
    /// The update kinds asked for: an empty list means all but the few Telegram sends on request.
    fn allow(&mut self, kinds: Option<Value>) {
        if let Some(Value::Array(kinds)) = kinds {
            let kinds: Vec<String> = kinds
                .iter()
                .filter_map(|kind| kind.as_str().map(str::to_owned))
                .collect();
            self.allowed_updates = (!kinds.is_empty()).then_some(kinds);
        }
    }
}

/// Posts each queued update to the webhook, one at a time and in order, while one is set.
pub(super) async fn deliver_to_webhook(shared: Arc<Shared>) {
    let mut changed = shared.changed.subscribe();
    loop {
        let job = {
            let state = shared.lock();
            let front = state
                .queue
                .front()
                .map(|queued| (queued.key, queued.update_id, queued.update.clone()));
            state.webhook.clone().zip(front)
        };
        match job {
            Some((hook, (key, update_id, update))) => {
                deliver(&shared, &hook, key, update_id, &update).await
            }
            None => {
                if changed.changed().await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn deliver(shared: &Shared, hook: &Webhook, key: u64, update_id: i64, update: &Value) {
    for attempt in 0..WEBHOOK_ATTEMPTS {
        if attempt > 0 {
            // Telegram waits longer after each failure.
            tokio::time::sleep(Duration::from_millis(50 << attempt).min(Duration::from_secs(1)))
                .await;
        }
        let mut request = shared.http.post(&hook.url).json(update);
        if let Some(secret) = &hook.secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        let outcome = request
            .send()
            .await
            .map(|answer| answer.status())
            .map_err(|error| error.to_string());
        let mut state = shared.lock();
        state.webhook_attempts.push((
            update_id,
            outcome
                .as_ref()
                .map(|status| status.as_u16())
                .map_err(Clone::clone),
        ));
        match outcome {
            Ok(status) if status.is_success() => break,
            Ok(status) => {
                state.webhook_error = Some((
                    unix_now(),
                    format!("Wrong response from the webhook: {status}"),
                ));
            }
            Err(_) => state.webhook_error = Some((unix_now(), "Connection refused".into())),
        }
        if state.webhook.as_ref() != Some(hook)
            || state.queue.front().is_none_or(|queued| queued.key != key)
        {
            return;
        }
    }
    shared.lock().queue.retain(|queued| queued.key != key);
    bump(shared);
}
