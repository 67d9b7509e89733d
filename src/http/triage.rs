//! `/api/v1/reports/{id}/...`: triage a report, read its history, and (for its reporter) its updates.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth::MaybeStaff;
use super::error::ApiError;
use super::extract::{JsonBody, KnownQuery};
use super::notices::{Created, created};
use super::permit::{Drafting, Permitted, Triaging};
use super::reports::staff_view;
use crate::auth::Staff;
use crate::hub::Hub;
use crate::triage::field::DispatchRequest;
use crate::triage::{EscalateRequest, RawChange, RawPublication, UpdatesReader};

/// `POST /api/v1/reports/{id}/status`: a new status and/or notes, at the version the operator saw.
pub(super) async fn change(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<Triaging>,
    Path(id): Path<String>,
    JsonBody(raw): JsonBody<RawChange>,
) -> Result<Json<Value>, ApiError> {
    let report = hub.triage.change(&staff, &id, raw).await?;
    Ok(Json(staff_view(&report, &staff, hub.clock.now())))
}

/// `POST /api/v1/reports/{id}/publication`: publish the report's text in Open311 until a date,
/// or withdraw it.
pub(super) async fn publication(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<Triaging>,
    Path(id): Path<String>,
    JsonBody(raw): JsonBody<RawPublication>,
) -> Result<Json<Value>, ApiError> {
    let report = hub.triage.publish(&staff, &id, raw).await?;
    Ok(Json(staff_view(&report, &staff, hub.clock.now())))
}

/// `GET /api/v1/reports/{id}/history`: every change, internal notes included.
pub(super) async fn history(
    State(hub): State<Hub>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let history = hub.triage.history(&staff, &id).await?;
    Ok(Json(json!({ "report_id": id, "history": history })))
}

/// `GET /api/v1/reports/{id}/updates?token=`: what the reporter was told, as the same frames
/// the WebSocket and MQTT channels carry. For the holder of the report's follow token, or staff.
pub(super) async fn updates(
    State(hub): State<Hub>,
    MaybeStaff(staff): MaybeStaff,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let query = KnownQuery::from_uri(&uri, &["token"])?;
    let reader = match &staff {
        Some(staff) => {
            // Staff need no token, but one that cannot be a token is refused all the same.
            if let Some(token) = query.get("token") {
                crate::triage::follow::present(token, "token")?;
            }
            UpdatesReader::Staff(staff)
        }
        None => UpdatesReader::Reporter(query.get("token")),
    };
    let updates = hub.triage.updates(&id, reader).await?;
    let frames: Vec<&str> = updates.iter().map(|update| update.frame.as_str()).collect();
    let body = format!(
        "{{\"report_id\":{},\"updates\":[{}]}}",
        json!(id),
        frames.join(",")
    );
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `POST /api/v1/reports/{id}/escalate`: 201 with a notice draft awaiting approval.
pub(super) async fn escalate(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<Drafting>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<EscalateRequest>,
) -> Result<Created, ApiError> {
    let notice = hub.triage.escalate_report(&staff, &id, request).await?;
    Ok(created(&hub, &notice))
}

/// `POST /api/v1/reports/{id}/dispatch`: 201 with the task sent to the team's devices.
pub(super) async fn dispatch(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<Triaging>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<DispatchRequest>,
) -> Result<Created, ApiError> {
    let task = hub.triage.dispatch_report(&staff, &id, request).await?;
    Ok((StatusCode::CREATED, Json(json!(task))))
}
