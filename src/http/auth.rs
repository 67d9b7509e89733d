//! Bearer-token authentication for every staff endpoint, and `/api/v1/auth`.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{JsonBody, PeerAddr};
use crate::auth::{Login, Staff};
use crate::hub::Hub;
use crate::problem::{ErrorCode, Problem};

/// The token in `Authorization: Bearer <token>`.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<Hub> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, hub: &Hub) -> Result<Staff, ApiError> {
        let token = bearer(&parts.headers).ok_or_else(|| {
            ApiError(Problem::new(
                ErrorCode::Unauthorized,
                "this needs a staff login: send Authorization: Bearer <token>, from POST /api/v1/auth/login",
            ))
        })?;
        Ok(hub.accounts.authenticate(token).await?)
    }
}

/// A staff member if the request carries a valid token; nobody if it carries none.
pub(super) struct MaybeStaff(pub Option<Staff>);

impl FromRequestParts<Hub> for MaybeStaff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, hub: &Hub) -> Result<MaybeStaff, ApiError> {
        if bearer(&parts.headers).is_none() {
            return Ok(MaybeStaff(None));
        }
        Staff::from_request_parts(parts, hub)
            .await
            .map(|staff| MaybeStaff(Some(staff)))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Credentials {
    name: String,
    password: String,
}

/// `POST /api/v1/auth/login`.
pub(super) async fn login(
    State(hub): State<Hub>,
    PeerAddr(peer): PeerAddr,
    JsonBody(credentials): JsonBody<Credentials>,
) -> Result<Json<Login>, ApiError> {
    let login = hub
        .accounts
        .login(
            peer.map(|addr| addr.ip()),
            &credentials.name,
            &credentials.password,
        )
        .await?;
    Ok(Json(login))
}

/// `POST /api/v1/auth/logout`: ends this token's session.
pub(super) async fn logout(
    State(hub): State<Hub>,
    staff: Staff,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let token = bearer(&headers).unwrap_or_default();
    hub.accounts.logout(&staff, token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/auth/me`.
pub(super) async fn me(staff: Staff) -> Json<Staff> {
    Json(staff)
}
