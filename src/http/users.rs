//! `/api/v1/users`: accounts, for admins.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::JsonBody;
use super::permit::{ManagingUsers, Permitted};
use crate::auth::{NewUser, Staff, UserPatch, UserView};
use crate::hub::Hub;

pub(super) async fn list(State(hub): State<Hub>, staff: Staff) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "users": hub.accounts.users(&staff).await? })))
}

pub(super) async fn create(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<ManagingUsers>,
    JsonBody(user): JsonBody<NewUser>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let created = hub.accounts.create_user(&staff, user).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

pub(super) async fn update(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<ManagingUsers>,
    Path(name): Path<String>,
    JsonBody(patch): JsonBody<UserPatch>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(hub.accounts.change_user(&staff, &name, patch).await?))
}
