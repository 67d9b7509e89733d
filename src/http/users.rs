//! `/api/v1/users`: accounts, for admins.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::JsonBody;
use crate::auth::{Action, Role, Staff, UserChanges, UserView};
use crate::hub::Hub;
use crate::problem::{ErrorCode, Problem};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    name: String,
    role: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    role: Option<String>,
    disabled: Option<bool>,
    password: Option<String>,
}

fn parse_role(value: &str) -> Result<Role, Problem> {
    Role::parse(value).ok_or_else(|| {
        Problem::with_field(
            ErrorCode::InvalidField,
            "role",
            "`role` must be viewer, operator, approver or admin",
        )
    })
}

pub async fn list(State(hub): State<Hub>, staff: Staff) -> Result<Json<Value>, ApiError> {
    staff.require(Action::ManageUsers)?;
    Ok(Json(json!({ "users": hub.accounts.list_users().await? })))
}

pub async fn create(
    State(hub): State<Hub>,
    staff: Staff,
    JsonBody(user): JsonBody<NewUser>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    staff.require(Action::ManageUsers)?;
    let created = hub
        .accounts
        .add_user(
            &staff.name,
            &user.name,
            parse_role(&user.role)?,
            &user.password,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

pub async fn update(
    State(hub): State<Hub>,
    staff: Staff,
    Path(name): Path<String>,
    JsonBody(patch): JsonBody<UserPatch>,
) -> Result<Json<UserView>, ApiError> {
    staff.require(Action::ManageUsers)?;
    let changes = UserChanges {
        role: patch.role.as_deref().map(parse_role).transpose()?,
        disabled: patch.disabled,
        password: patch.password,
    };
    Ok(Json(
        hub.accounts
            .update_user(&staff.name, &name, changes)
            .await?,
    ))
}
