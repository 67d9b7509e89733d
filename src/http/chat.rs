//! Chat over HTTP: `POST /chat/telegram/webhook`, the updates Telegram posts in webhook mode
//! (each refused unless it carries the bot's secret token); `/chat/whatsapp/webhook`, Meta's
//! handshake and its notifications (each refused unless signed with the app secret); and a
//! report's conversation for staff.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::error::ApiError;
use crate::auth::Staff;
use crate::channels::telegram::Update;
use crate::channels::whatsapp::{self, WhatsAppBot};
use crate::hub::Hub;
use crate::problem::{ErrorCode, Problem};

const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

pub(super) async fn telegram_webhook(
    State(hub): State<Hub>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let Some(bot) = hub
        .telegram
        .as_ref()
        .filter(|bot| bot.webhook_secret.is_some())
    else {
        return Err(Problem::new(
            ErrorCode::NotFound,
            "this hub takes no Telegram webhook (telegram.mode is not \"webhook\")",
        )
        .into());
    };
    let given = headers
        .get(SECRET_HEADER)
        .map(axum::http::HeaderValue::as_bytes);
    if !bot.webhook_secret_matches(given) {
        return Err(Problem::new(
            ErrorCode::Unauthorized,
            "the request does not carry this bot's secret token in X-Telegram-Bot-Api-Secret-Token",
        )
        .into());
    }
    let update: Update = serde_json::from_slice(&body).map_err(|err| {
        Problem::new(
            ErrorCode::MalformedJson,
            format!("the body is not a Telegram update: {err}"),
        )
    })?;
    bot.take(update).await?;
    Ok(Json(json!({})))
}

const SIGNATURE_HEADER: &str = "x-hub-signature-256";

fn whatsapp_of(hub: &Hub) -> Result<&WhatsAppBot, ApiError> {
    hub.whatsapp.as_ref().ok_or_else(|| {
        Problem::new(
            ErrorCode::NotFound,
            "this hub takes no WhatsApp webhook (whatsapp.enabled is false)",
        )
        .into()
    })
}

/// `GET /chat/whatsapp/webhook`: Meta's subscription handshake; the challenge is echoed as
/// plain text when the verify token is the office's.
pub(super) async fn whatsapp_handshake(
    State(hub): State<Hub>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<String, ApiError> {
    let number = whatsapp_of(&hub)?;
    let field = |name: &str| query.get(name).map(String::as_str);
    match number.handshake(
        field("hub.mode"),
        field("hub.verify_token"),
        field("hub.challenge"),
    ) {
        Some(challenge) => Ok(challenge.to_owned()),
        None => Err(Problem::new(
            ErrorCode::Forbidden,
            "the handshake needs hub.mode=subscribe, this hub's hub.verify_token and a \
             hub.challenge",
        )
        .into()),
    }
}

/// `POST /chat/whatsapp/webhook`: a notification, read only once its signature over the exact
/// bytes holds.
pub(super) async fn whatsapp_webhook(
    State(hub): State<Hub>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let number = whatsapp_of(&hub)?;
    let signature = headers
        .get(SIGNATURE_HEADER)
        .map(axum::http::HeaderValue::as_bytes);
    if !number.signature_matches(signature, &body) {
        return Err(Problem::new(
            ErrorCode::Unauthorized,
            "the request is not signed with this app's secret in X-Hub-Signature-256 \
             (sha256=<hex HMAC-SHA256 of the body>)",
        )
        .into());
    }
    number.take(whatsapp::parse(&body)?).await?;
    Ok(Json(json!({})))
}

/// `GET /api/v1/reports/{id}/conversation`: the chat messages of a report, for the staff who
/// see reporters.
pub(super) async fn conversation(
    State(hub): State<Hub>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let messages = hub
        .conversations
        .conversation_of_report(&staff, &id)
        .await?;
    Ok(Json(json!({ "report_id": id, "messages": messages })))
}
