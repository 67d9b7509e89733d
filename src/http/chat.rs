//! Chat over HTTP: `POST /chat/telegram/webhook`, the updates Telegram posts in webhook mode
//! (each refused unless it carries the bot's secret token), and a report's conversation for staff.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::error::ApiError;
use crate::auth::Staff;
use crate::channels::telegram::Update;
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
