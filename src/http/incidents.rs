//! `/api/v1/incidents`: list and read incidents; merge, split, resolve, escalate, dispatch.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{JsonBody, KnownQuery};
use super::notices::{Created, created};
use super::permit::{Drafting, Permitted, Triaging};
use super::reports::staff_view;
use crate::auth::Staff;
use crate::hub::Hub;
use crate::problem::{ErrorCode, Problem};
use crate::triage::field::DispatchRequest;
use crate::triage::{
    EscalateRequest, IncidentFilter, IncidentStatus, MergeRequest, ResolveRequest, SplitRequest,
};

const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 500;

/// `GET /api/v1/incidents?status=open&category=&limit=&cursor=`, newest first.
pub(super) async fn list(
    State(hub): State<Hub>,
    staff: Staff,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let query = KnownQuery::from_uri(&uri, &["status", "category", "limit", "cursor"])?;
    let page = query.page(DEFAULT_PAGE, MAX_PAGE)?;
    let status = query
        .get("status")
        .map(|value| {
            IncidentStatus::parse(value).ok_or_else(|| {
                Problem::with_field(
                    ErrorCode::InvalidField,
                    "status",
                    "`status` must be open, resolved or merged",
                )
            })
        })
        .transpose()?;
    let filter = IncidentFilter {
        status,
        category: query.get("category").map(str::to_owned),
        before_seq: page.before,
        limit: page.limit,
    };
    let incidents = hub.triage.incidents(&staff, filter).await?;
    let next_cursor = page.next_cursor(&incidents, |incident| incident.seq);
    Ok(Json(
        json!({ "incidents": incidents, "next_cursor": next_cursor }),
    ))
}

/// `GET /api/v1/incidents/{id}`: the incident and its reports.
pub(super) async fn show(
    State(hub): State<Hub>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (incident, reports) = hub.triage.incident(&staff, &id).await?;
    let now = hub.clock.now();
    let reports: Vec<Value> = reports
        .iter()
        .map(|report| staff_view(report, &staff, now))
        .collect();
    Ok(Json(json!({ "incident": incident, "reports": reports })))
}

pub(super) async fn merge(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<Triaging>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<MergeRequest>,
) -> Result<Json<Value>, ApiError> {
    let incident = hub.triage.merge(&staff, &id, request).await?;
    Ok(Json(json!(incident)))
}

/// `POST /api/v1/incidents/{id}/split`: 201 with the new incident.
pub(super) async fn split(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<Triaging>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<SplitRequest>,
) -> Result<Created, ApiError> {
    let incident = hub.triage.split(&staff, &id, request).await?;
    Ok((StatusCode::CREATED, Json(json!(incident))))
}

pub(super) async fn resolve(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<Triaging>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<ResolveRequest>,
) -> Result<Json<Value>, ApiError> {
    let incident = hub.triage.resolve_incident(&staff, &id, request).await?;
    Ok(Json(json!(incident)))
}

/// `POST /api/v1/incidents/{id}/escalate`: 201 with a notice draft awaiting approval.
pub(super) async fn escalate(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<Drafting>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<EscalateRequest>,
) -> Result<Created, ApiError> {
    let notice = hub.triage.escalate_incident(&staff, &id, request).await?;
    Ok(created(&hub, &notice))
}

/// `POST /api/v1/incidents/{id}/dispatch`: 201 with the task sent to the team's devices.
pub(super) async fn dispatch(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<Triaging>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<DispatchRequest>,
) -> Result<Created, ApiError> {
    let task = hub.triage.dispatch_incident(&staff, &id, request).await?;
    Ok((StatusCode::CREATED, Json(json!(task))))
}
