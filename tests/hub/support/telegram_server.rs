//! The Bot API stand-in's HTTP side: its methods and answers, sending with Telegram's rate
//! limits, files.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::checks::{self, Params};
use super::updates::{delete_webhook, get_updates, set_webhook, webhook_info};
use super::{Call, Sent, Shared, State, bot_user, unix_now};

/// Files the Bot API lets a bot download.
const MAX_DOWNLOAD: usize = 20 * 1024 * 1024;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// A refusal: Telegram's error_code (the HTTP status too) and description.
pub(super) struct Refusal {
    status: u16,
    description: String,
    retry_after: Option<u64>,
}

pub(super) type Answer = Result<Value, Refusal>;

pub(super) fn refusal(status: u16, description: impl Into<String>) -> Refusal {
    Refusal {
        status,
        description: description.into(),
        retry_after: None,
    }
}

pub(super) fn bad(description: impl std::fmt::Display) -> Refusal {
    refusal(400, format!("Bad Request: {description}"))
}

fn respond(answer: &Answer) -> Response {
    let (status, body) = match answer {
        Ok(result) => (200, json!({"ok": true, "result": result})),
        Err(refused) => {
            let mut body = json!({
                "ok": false, "error_code": refused.status, "description": refused.description,
            });
            if let Some(seconds) = refused.retry_after {
                body["parameters"] = json!({"retry_after": seconds});
            }
            (refused.status, body)
        }
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(rest) = uri.path().strip_prefix("/file/bot") {
        return download(&shared, rest);
    }
    let Some((token, method)) = uri
        .path()
        .strip_prefix("/bot")
        .and_then(|rest| rest.split_once('/'))
    else {
        return respond(&Err(refusal(404, "Not Found")));
    };
    if token != shared.token {
        return respond(&Err(refusal(401, "Unauthorized")));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let params = match Params::read(uri.query(), content_type, &body) {
        Ok(params) => params,
        Err(why) => return respond(&Err(bad(why))),
    };
    let answer = match method.to_ascii_lowercase().as_str() {
        "getme" => Ok(get_me(&shared)),
        "getupdates" => get_updates(&shared, &params).await,
        "setwebhook" => set_webhook(&shared, &params),
        "deletewebhook" => delete_webhook(&shared, &params),
        "getwebhookinfo" => Ok(webhook_info(&shared)),
        "sendmessage" => send(&shared, &params, "sendMessage"),
        "sendphoto" => send(&shared, &params, "sendPhoto"),
        "answercallbackquery" => match params.str("callback_query_id") {
            Some(id) if !id.is_empty() => Ok(json!(true)),
            _ => Err(bad("QUERY_ID_INVALID")),
        },
        "editmessagereplymarkup" | "editmessagetext" => edit(&shared, &params, method),
        "getfile" => get_file(&shared, &params),
        "setmycommands" | "deletemycommands" | "setmydescription" | "setmyshortdescription" => {
            Ok(json!(true))
        }
        _ => Err(refusal(404, "Not Found")),
    };
    let call = Call {
        method: method.to_owned(),
        params: params.to_value(),
        status: answer
            .as_ref()
            .map_or_else(|refused| refused.status, |_| 200),
        error: answer
            .as_ref()
            .err()
            .map(|refused| refused.description.clone()),
    };
    let mut state = shared.lock();
    if !state.lean || call.status != 200 {
        state.calls.push(call);
    }
    drop(state);
    respond(&answer)
}

fn download(shared: &Shared, rest: &str) -> Response {
    let state = shared.lock();
    let file = rest
        .split_once('/')
        .filter(|(token, _)| *token == shared.token)
        .and_then(|(_, path)| state.files.values().find(|file| file.path == path));
    match file {
        Some(file) => {
            let bytes = file.bytes.clone();
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/octet-stream")],
                bytes,
            )
                .into_response()
        }
        None => respond(&Err(refusal(404, "Not Found"))),
    }
}

fn get_me(shared: &Shared) -> Value {
    let mut me = bot_user(Some(&shared.token));
    for (key, value) in [
        ("can_join_groups", true),
        ("can_read_all_group_messages", false),
        ("supports_inline_queries", false),
        ("can_connect_to_business", false),
        ("has_main_web_app", false),
    ] {
        me[key] = json!(value);
    }
    me
}

/// A chat_id as given: a chat's id, or a public channel's `@username`.
enum ChatRef {
    Id(i64),
    Channel(String),
}

fn chat_ref(params: &Params) -> Result<ChatRef, Refusal> {
    let chat = match params.get("chat_id") {
        None => None,
        Some(Value::Number(number)) => Some(number.as_i64().map(ChatRef::Id)),
        Some(Value::String(text)) if text.trim().is_empty() => None,
        Some(Value::String(text)) => Some(match text.trim().parse() {
            Ok(id) => Some(ChatRef::Id(id)),
            Err(_) => {
                let name = text.trim().strip_prefix('@').unwrap_or("");
                let valid = (5..=32).contains(&name.len())
                    && name
                        .bytes()
                        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_');
                valid.then(|| ChatRef::Channel(name.to_ascii_lowercase()))
            }
        }),
        Some(_) => Some(None),
    };
    match chat {
        None | Some(Some(ChatRef::Id(0))) => Err(bad("chat_id is empty")),
        Some(None) => Err(bad("chat not found")),
        Some(Some(chat)) => Ok(chat),
    }
}

/// The text of a message or caption, checked as Telegram does; returns it and its parse_mode.
fn checked_text(
    params: &Params,
    key: &str,
    max: usize,
) -> Result<(String, Option<String>), Refusal> {
    let text = params.str(key).unwrap_or_default();
    let parse_mode = params.str("parse_mode").filter(|mode| !mode.is_empty());
    let visible = match &parse_mode {
        Some(mode) => checks::visible_text(mode, &text).map_err(bad)?,
        None => text.clone(),
    };
    if key == "text" && visible.trim().is_empty() {
        return Err(bad("message text is empty"));
    }
    if visible.encode_utf16().count() > max {
        return Err(bad(if key == "text" {
            "message is too long"
        } else {
            "message caption is too long"
        }));
    }
    Ok((text, parse_mode))
}

fn checked_markup(params: &Params) -> Result<Option<Value>, Refusal> {
    params
        .get("reply_markup")
        .map(checks::reply_markup)
        .transpose()
        .map_err(bad)
}

fn send(shared: &Shared, params: &Params, method: &str) -> Answer {
    let chat = chat_ref(params)?;
    let photo = method == "sendPhoto";
    if photo && params.str("photo").is_none_or(|photo| photo.is_empty()) {
        return Err(bad("there is no photo in the request"));
    }
    let (text, parse_mode) = if photo {
        checked_text(params, "caption", 1024)?
    } else {
        checked_text(params, "text", 4096)?
    };
    let reply_markup = checked_markup(params)?;
    let mut state = shared.lock();
    let chat_id = match chat {
        ChatRef::Id(id) => id,
        ChatRef::Channel(name) => {
            let next = -1_001_000_000_000 - state.channels.len() as i64;
            *state.channels.entry(name).or_insert(next)
        }
    };
    if state.blocked.contains(&chat_id) {
        return Err(refusal(403, "Forbidden: bot was blocked by the user"));
    }
    let now = Instant::now();
    if let Err(seconds) = state.admit(chat_id, now) {
        state.refused_429 += 1;
        let description = format!("Too Many Requests: retry after {seconds}");
        return Err(Refusal {
            status: 429,
            description,
            retry_after: Some(seconds),
        });
    }
    let message_id = state.next_message_id;
    state.next_message_id += 1;
    let seq = state.sent.len() as u64 + 1;
    let chat = chat_json(&state, chat_id);
    let mut message = json!({
        "message_id": message_id, "from": bot_user(Some(&shared.token)), "chat": chat,
        "date": unix_now(),
    });
    if photo {
        let file_id = params.str("photo").unwrap_or_default();
        message["photo"] = json!([{
            "file_id": file_id, "file_unique_id": format!("AQADsent{message_id}"),
            "width": 1280, "height": 960,
        }]);
        if !text.is_empty() {
            message["caption"] = json!(text);
        }
    } else {
        message["text"] = json!(text);
    }
    if let Some(markup) = reply_markup
        .as_ref()
        .filter(|markup| markup.get("inline_keyboard").is_some())
    {
        message["reply_markup"] = markup.clone();
    }
    let method = method.to_owned();
    let text = if state.lean { String::new() } else { text };
    state.sent.push(Sent {
        seq,
        at: now,
        chat_id,
        text,
        reply_markup,
        method,
        parse_mode,
        message_id,
    });
    let count = state.sent.len();
    drop(state);
    shared.sent_count.send_replace(count);
    Ok(message)
}

fn chat_json(state: &State, chat_id: i64) -> Value {
    if chat_id > 0 {
        return json!({"id": chat_id, "type": "private", "first_name": "Giulia"});
    }
    match state.channels.iter().find(|&(_, id)| *id == chat_id) {
        Some((name, _)) => {
            json!({"id": chat_id, "type": "channel", "title": "Test channel", "username": name})
        }
        None if chat_id <= -1_000_000_000_000 => {
            json!({"id": chat_id, "type": "supergroup", "title": "Test group"})
        }
        None => json!({"id": chat_id, "type": "group", "title": "Test group"}),
    }
}

/// editMessageText and editMessageReplyMarkup of a message the bot sent; not rate limited.
fn edit(shared: &Shared, params: &Params, method: &str) -> Answer {
    let chat_id = match chat_ref(params)? {
        ChatRef::Id(id) => id,
        ChatRef::Channel(name) => *shared
            .lock()
            .channels
            .get(&name)
            .ok_or_else(|| bad("chat not found"))?,
    };
    let new_text = if method.eq_ignore_ascii_case("editMessageText") {
        Some(checked_text(params, "text", 4096)?.0)
    } else {
        None
    };
    let reply_markup = checked_markup(params)?;
    let state = shared.lock();
    let message_id = params.int("message_id").unwrap_or(0);
    let Some(sent) = state
        .sent
        .iter()
        .find(|sent| sent.chat_id == chat_id && sent.message_id == message_id)
    else {
        return Err(bad("message to edit not found"));
    };
    let text = new_text.unwrap_or_else(|| sent.text.clone());
    let mut message = json!({
        "message_id": message_id, "from": bot_user(Some(&shared.token)),
        "chat": chat_json(&state, chat_id), "date": unix_now(), "edit_date": unix_now(),
        "text": text,
    });
    if let Some(markup) = reply_markup.filter(|markup| markup.get("inline_keyboard").is_some()) {
        message["reply_markup"] = markup;
    }
    Ok(message)
}

fn get_file(shared: &Shared, params: &Params) -> Answer {
    let file_id = params.str("file_id").unwrap_or_default();
    let state = shared.lock();
    let Some(file) = state.files.get(&file_id) else {
        return Err(bad("invalid file_id"));
    };
    if file.bytes.len() > MAX_DOWNLOAD {
        return Err(bad("file is too big"));
    }
    Ok(json!({
        "file_id": file_id, "file_unique_id": file.unique_id,
        "file_size": file.bytes.len(), "file_path": file.path,
    }))
}

impl State {
    /// Takes a message to `chat_id` into the sliding windows, or says in how many whole seconds
    /// one frees.
    fn admit(&mut self, chat_id: i64, now: Instant) -> Result<(), u64> {
        let (chat_limit, chat_window) = if chat_id > 0 {
            (self.limits.per_chat_per_sec, Duration::from_secs(1))
        } else {
            (self.limits.per_group_per_min, Duration::from_secs(60))
        };
        let global_limit = self.limits.global_per_sec;
        let chat = self.chat_windows.entry(chat_id).or_default();
        let wait = [
            wait_in(
                &mut self.global_window,
                global_limit,
                Duration::from_secs(1),
                now,
            ),
            wait_in(chat, chat_limit, chat_window, now),
        ]
        .into_iter()
        .max()
        .unwrap_or_default();
        if wait > Duration::ZERO {
            return Err((wait.as_millis() as u64).div_ceil(1000).max(1));
        }
        chat.push_back(now);
        self.global_window.push_back(now);
        Ok(())
    }
}

/// Forgets sends older than `window`; then how long until one more fits under `limit`.
fn wait_in(
    sends: &mut std::collections::VecDeque<Instant>,
    limit: u32,
    window: Duration,
    now: Instant,
) -> Duration {
    while sends
        .front()
        .is_some_and(|&at| now.duration_since(at) >= window)
    {
        sends.pop_front();
    }
    let limit = limit as usize;
    if sends.len() < limit {
        return Duration::ZERO;
    }
    match sends.get(sends.len() - limit) {
        Some(&oldest) => (oldest + window).saturating_duration_since(now),
        None => window,
    }
}
