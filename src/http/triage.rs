//! `/api/v1/reports/{id}/...`: triage a report, read its history, and (for its reporter) its updates.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::JsonBody;
use super::notices::{Created, created};
use super::reports::staff_view;
use crate::auth::Staff;
use crate::hub::Hub;
use crate::triage::field::DispatchRequest;
use crate::triage::{EscalateRequest, RawChange};

/// `POST /api/v1/reports/{id}/status`: a new status and/or notes, at the version the operator saw.
pub async fn change(
    State(hub): State<Hub>,
    staff: Staff,
    Path(id): Path<String>,
    JsonBody(raw): JsonBody<RawChange>,
) -> Result<Json<Value>, ApiError> {
    let report = hub.triage.change(&staff, &id, raw).await?;
    Ok(Json(staff_view(&report, &staff, hub.clock.now())))
}

/// `GET /api/v1/reports/{id}/history`: every change, internal notes included.
pub async fn history(
    State(hub): State<Hub>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let history = hub.triage.history(&staff, &id).await?;
    Ok(Json(json!({ "report_id": id, "history": history })))
}

/// `GET /api/v1/reports/{id}/updates`: what the reporter was told, as the same frames the
/// WebSocket and MQTT channels carry. Public: the report id is what the reporter holds.
pub async fn updates(State(hub): State<Hub>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let updates = hub.triage.updates(&id).await?;
    let frames: Vec<&str> = updates.iter().map(|update| update.frame.as_str()).collect();
    let body = format!(
        "{{\"report_id\":{},\"updates\":[{}]}}",
        json!(id),
        frames.join(",")
    );
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `POST /api/v1/reports/{id}/escalate`: 201 with a notice draft awaiting approval.
pub async fn escalate(
    State(hub): State<Hub>,
    staff: Staff,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<EscalateRequest>,
) -> Result<Created, ApiError> {
    let notice = hub.triage.escalate_report(&staff, &id, request).await?;
    Ok(created(&hub, &notice))
}

/// `POST /api/v1/reports/{id}/dispatch`: 201 with the task sent to the team's devices.
pub async fn dispatch(
    State(hub): State<Hub>,
    staff: Staff,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<DispatchRequest>,
) -> Result<Created, ApiError> {
    let task = hub.triage.dispatch_report(&staff, &id, request).await?;
    Ok((StatusCode::CREATED, Json(json!(task))))
}
