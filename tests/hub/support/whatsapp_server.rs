//! The Cloud API stand-in's HTTP side: sending messages (with Meta's refusals, the 24-hour
//! window and the throughput limits), marking messages read, and media.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::checks;
use super::{Call, Sent, Shared, State, new_wamid, random, sha256_hex};

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// A Graph API error: the HTTP status, Meta's code, message and (for WhatsApp's own errors)
/// details.
pub(super) struct GraphError {
    pub(super) status: u16,
    pub(super) code: u64,
    pub(super) message: String,
    pub(super) details: Option<String>,
}

impl GraphError {
    pub(super) fn new(status: u16, code: u64, message: &str, details: &str) -> GraphError {
        GraphError {
            status,
            code,
            message: format!("(#{code}) {message}"),
            details: Some(details.to_owned()),
        }
    }

    fn body(&self) -> Value {
        let mut error = json!({
            "message": self.message, "type": "OAuthException", "code": self.code,
            "fbtrace_id": format!("A{:016x}", random()),
        });
        if let Some(details) = &self.details {
            error["error_data"] = json!({"messaging_product": "whatsapp", "details": details});
        }
        json!({ "error": error })
    }
}

/// 400 with code 100 "Invalid parameter", as Meta refuses a malformed message.
pub(super) fn invalid(details: impl Into<String>) -> GraphError {
    GraphError::new(400, 100, "Invalid parameter", &details.into())
}

fn bad_token() -> GraphError {
    GraphError {
        status: 401,
        code: 190,
        message: "Invalid OAuth access token - Cannot parse access token".into(),
        details: None,
    }
}

fn unknown_path(path: &str) -> GraphError {
    GraphError {
        status: 400,
        code: 2500,
        message: format!("Unknown path components: {path}"),
        details: None,
    }
}

type Answer = Result<Response, GraphError>;

fn json_response(body: &Value) -> Response {
    let content_type = [(header::CONTENT_TYPE, "application/json")];
    (StatusCode::OK, content_type, body.to_string()).into_response()
}

fn refused(error: &GraphError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    let content_type = [(header::CONTENT_TYPE, "application/json")];
    (status, content_type, error.body().to_string()).into_response()
}

async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let answer = answer(&shared, &method, &uri, &headers, &json);
    let call = Call {
        method: method.to_string(),
        path,
        body: json,
        status: answer
            .as_ref()
            .map_or_else(|e| e.status, |r| r.status().as_u16()),
        code: answer.as_ref().err().map(|error| error.code),
        error: answer.as_ref().err().map(|error| match &error.details {
            Some(details) => format!("{} ({details})", error.message),
            None => error.message.clone(),
        }),
    };
    let mut state = shared.lock();
    if !state.lean || call.error.is_some() {
        state.calls.push(call);
    }
    drop(state);
    answer.unwrap_or_else(|error| refused(&error))
}

fn answer(
    shared: &Arc<Shared>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Value,
) -> Answer {
    let segments: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    let authorized = authorized(shared, uri, headers);
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["media-download", media_id]) => {
            if !authorized {
                return Err(bad_token());
            }
            download(shared, media_id)
        }
        (_, [version, ..]) if !version_ok(version) => Err(unknown_path(uri.path())),
        _ if !authorized => Err(bad_token()),
        ("POST", [_, phone_number_id, "messages"]) => {
            if *phone_number_id != shared.phone_number_id {
                return Err(unknown_object(phone_number_id));
            }
            post_message(shared, body).map(|answer| json_response(&answer))
        }
        ("GET", [_, id]) if *id == shared.phone_number_id => Ok(json_response(&json!({
            "verified_name": "Vedetta test", "display_phone_number": "+1 555-000-1111",
            "id": id, "quality_rating": "GREEN", "code_verification_status": "VERIFIED",
            "platform_type": "CLOUD_API", "throughput": {"level": "STANDARD"},
        }))),
        ("GET", [_, media_id]) => media_info(shared, media_id).map(|info| json_response(&info)),
        _ => Err(unknown_path(uri.path())),
    }
}

/// `Authorization: Bearer <token>`, or `?access_token=<token>`, with the right token.
fn authorized(shared: &Shared, uri: &Uri, headers: &HeaderMap) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let query = uri.query().unwrap_or("").split('&');
    let mut given = bearer
        .into_iter()
        .chain(query.filter_map(|pair| pair.strip_prefix("access_token=")));
    given.any(|token| token.trim() == shared.access_token)
}

/// A Graph API version segment: `v21.0`.
fn version_ok(segment: &str) -> bool {
    let Some((major, minor)) = segment.strip_prefix('v').and_then(|v| v.split_once('.')) else {
        return false;
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    digits(major) && digits(minor)
}

fn unknown_object(id: &str) -> GraphError {
    invalid(format!(
        "Unsupported post request. Object with ID '{id}' does not exist, cannot be loaded due \
         to missing permissions, or does not support this operation."
    ))
}

/// `POST /{version}/{phone_number_id}/messages`: a message, or a read receipt. A free-form
/// message outside the user's 24 hours is accepted, as Meta accepts it, and its failure
/// (131047) comes afterwards in a status notification.
fn post_message(shared: &Arc<Shared>, body: &Value) -> Result<Value, GraphError> {
    if body.get("status").is_some() && body.get("to").is_none() {
        return mark_read(shared, body);
    }
    let outgoing = checks::outgoing(body)?;
    let to = outgoing.to;
    let now = Instant::now();
    let mut state = shared.lock();
    if state.blocked.contains(&to) {
        return Err(GraphError::new(
            400,
            131026,
            "Message undeliverable",
            "Unable to deliver message. Reasons can include: The recipient phone number is not \
             a WhatsApp phone number; the recipient blocked this business.",
        ));
    }
    if let Some((name, language, params)) = &outgoing.template {
        let key = (name.clone(), language.clone());
        let Some(&expected) = state.templates.get(&key) else {
            return Err(GraphError::new(
                404,
                132001,
                "Template name does not exist in the translation",
                &format!("template name ({name}) does not exist in {language}"),
            ));
        };
        if params.len() != expected {
            return Err(GraphError::new(
                400,
                132000,
                "Number of parameters does not match the expected number of params",
                &format!(
                    "body: number of localizable_params ({}) does not match the expected \
                     number of params ({expected})",
                    params.len()
                ),
            ));
        }
    }
    let outside_window = outgoing.template.is_none() && !state.window_open(&to, now);
    if let Err(refusal) = state.admit(&to, now) {
        state.refused_rate += 1;
        return Err(refusal);
    }
    let wamid = new_wamid();
    if outside_window {
        state.refused_later.push((wamid.clone(), to.clone()));
        drop(state);
        let answer = accepted(&to, &wamid);
        let shared = shared.clone();
        tokio::spawn(async move { shared.report_outside_window(&wamid, &to).await });
        return Ok(answer);
    }
    let seq = state.sent.len() as u64 + 1;
    let lean = state.lean;
    state.sent.push(Sent {
        seq,
        at: now,
        to: to.clone(),
        kind: outgoing.kind,
        text: if lean { String::new() } else { outgoing.text },
        body: if lean { Value::Null } else { body.clone() },
        wamid: if lean { String::new() } else { wamid.clone() },
    });
    let count = state.sent.len();
    drop(state);
    shared.sent_count.send_replace(count);
    Ok(accepted(&to, &wamid))
}

fn accepted(to: &str, wamid: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to}],
        "messages": [{"id": wamid}],
    })
}

/// `{"messaging_product":"whatsapp","status":"read","message_id":"wamid.…"}`.
fn mark_read(shared: &Shared, body: &Value) -> Result<Value, GraphError> {
    if body["messaging_product"] != "whatsapp" {
        return Err(invalid("messaging_product must be whatsapp"));
    }
    if body["status"] != "read" {
        return Err(invalid("status must be read"));
    }
    let message_id = body["message_id"].as_str().unwrap_or_default();
    let mut state = shared.lock();
    if !state.lean && !state.notifications.contains_key(message_id) {
        return Err(invalid(format!("Invalid message_id: {message_id:?}")));
    }
    state.marked_read.push(message_id.to_owned());
    Ok(json!({"success": true}))
}

/// `GET /{version}/{media_id}`: where to download a media object.
fn media_info(shared: &Shared, media_id: &str) -> Result<Value, GraphError> {
    let state = shared.lock();
    let Some(media) = state.media.get(media_id) else {
        return Err(unknown_object(media_id));
    };
    Ok(json!({
        "messaging_product": "whatsapp",
        "url": format!("{}/media-download/{media_id}", shared.base_url),
        "mime_type": media.mime_type,
        "sha256": sha256_hex(&media.bytes),
        "file_size": media.bytes.len(),
        "id": media_id,
    }))
}

fn download(shared: &Shared, media_id: &str) -> Answer {
    let state = shared.lock();
    let Some(media) = state.media.get(media_id) else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    let content_type = [(header::CONTENT_TYPE, media.mime_type.clone())];
    Ok((StatusCode::OK, content_type, media.bytes.clone()).into_response())
}

impl State {
    /// Takes a message to `to` into the sliding windows, or says which limit it hits.
    fn admit(&mut self, to: &str, now: Instant) -> Result<(), GraphError> {
        let overall = self.limits.per_second;
        if !fits(
            &mut self.overall_window,
            overall,
            Duration::from_secs(1),
            now,
        ) {
            return Err(GraphError::new(
                400,
                130429,
                "Rate limit hit",
                "Message failed to send because there were too many messages sent from this \
                 phone number in a short period of time.",
            ));
        }
        let pair = self.pair_windows.entry(to.to_owned()).or_default();
        let per_recipient = self.limits.per_recipient_per_6s;
        if !fits(pair, per_recipient, Duration::from_secs(6), now) {
            return Err(GraphError::new(
                400,
                131056,
                "(Business Account, Consumer Account) pair rate limit hit",
                "Message failed to send because there were too many messages sent from this \
                 phone number to the same phone number in a short period of time.",
            ));
        }
        pair.push_back(now);
        self.overall_window.push_back(now);
        Ok(())
    }
}

/// Forgets sends older than `window`; then whether one more fits under `limit`.
fn fits(
    sends: &mut std::collections::VecDeque<Instant>,
    limit: u32,
    window: Duration,
    now: Instant,
) -> bool {
    while sends
        .front()
        .is_some_and(|&at| now.saturating_duration_since(at) >= window)
    {
        sends.pop_front();
    }
    sends.len() < limit as usize
}
