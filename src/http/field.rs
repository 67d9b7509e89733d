//! `/api/v1/teams`, `/api/v1/devices`, `/api/v1/tasks`: field teams, their devices and tasks.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{JsonBody, KnownQuery};
use super::permit::{Permitted, Triaging};
use crate::auth::Staff;
use crate::hub::Hub;
use crate::problem::{ErrorCode, Problem};
use crate::triage::field::RawTeam;

const DEFAULT_TASKS: i64 = 100;
const MAX_TASKS: i64 = 1000;

pub(super) async fn teams(State(hub): State<Hub>, staff: Staff) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "teams": hub.triage.teams(&staff).await? })))
}

/// `POST /api/v1/teams`: creates a team (or replaces one with the same id).
pub(super) async fn create_team(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<Triaging>,
    JsonBody(raw): JsonBody<RawTeam>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(hub.triage.save_team(&staff, raw).await?)))
}

pub(super) async fn team(
    State(hub): State<Hub>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(hub.triage.team(&staff, &id).await?)))
}

/// `PUT /api/v1/teams/{id}`: new name and devices.
pub(super) async fn replace_team(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<Triaging>,
    Path(id): Path<String>,
    JsonBody(mut raw): JsonBody<RawTeam>,
) -> Result<Json<Value>, ApiError> {
    if raw.id.as_ref().is_some_and(|given| *given != id) {
        return Err(ApiError(Problem::with_field(
            ErrorCode::InvalidField,
            "id",
            "`id` differs from the team in the path; leave it out",
        )));
    }
    raw.id = Some(id);
    Ok(Json(json!(hub.triage.save_team(&staff, raw).await?)))
}

pub(super) async fn devices(State(hub): State<Hub>, staff: Staff) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        json!({ "devices": hub.triage.devices(&staff).await? }),
    ))
}

pub(super) async fn device(
    State(hub): State<Hub>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(hub.triage.device(&staff, &id).await?)))
}

/// `GET /api/v1/tasks?open=true&limit=`, newest first.
pub(super) async fn tasks(
    State(hub): State<Hub>,
    staff: Staff,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let query = KnownQuery::from_uri(&uri, &["open", "limit"])?;
    let open = query
        .get("open")
        .map(|v| super::params::boolean("open", v))
        .transpose()?
        .unwrap_or(false);
    let limit = query
        .get("limit")
        .map(|v| super::params::integer("limit", v, 1, MAX_TASKS))
        .transpose()?
        .unwrap_or(DEFAULT_TASKS);
    let tasks = hub.triage.tasks(&staff, open, limit as usize).await?;
    Ok(Json(json!({ "tasks": tasks })))
}

pub(super) async fn task(
    State(hub): State<Hub>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(hub.triage.task(&staff, &id).await?)))
}
