//! `/api/v1/webhooks`: endpoints of other systems that receive every notice, for admins.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::JsonBody;
use super::permit::{ManagingWebhooks, Permitted};
use crate::auth::Staff;
use crate::hub::Hub;
use crate::outbox::{NewWebhook, WebhookView};

/// `schemas/webhook-new.schema.json`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WebhookRequest {
    url: String,
    label: Option<String>,
    #[serde(default)]
    zones: Vec<String>,
    severities: Option<Vec<String>>,
    events: Option<Vec<String>>,
    #[serde(default)]
    allow_private_network: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WebhookPatch {
    enabled: bool,
}

pub(super) async fn list(State(hub): State<Hub>, staff: Staff) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        json!({ "webhooks": hub.outbox.webhooks(&staff).await? }),
    ))
}

pub(super) async fn create(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<ManagingWebhooks>,
    JsonBody(request): JsonBody<WebhookRequest>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    let new = NewWebhook {
        url: request.url,
        label: request.label,
        zones: request.zones,
        severities: request.severities,
        events: request.events,
        allow_private_network: request.allow_private_network,
    };
    Ok((
        StatusCode::CREATED,
        Json(hub.outbox.add_webhook(&staff, new).await?),
    ))
}

pub(super) async fn update(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<ManagingWebhooks>,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<WebhookPatch>,
) -> Result<Json<WebhookView>, ApiError> {
    Ok(Json(
        hub.outbox
            .set_webhook_enabled(&staff, &id, patch.enabled)
            .await?,
    ))
}

pub(super) async fn remove(
    State(hub): State<Hub>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    hub.outbox.remove_webhook(&staff, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
