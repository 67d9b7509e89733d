//! `GET /api/v1/audit`: the append-only log of who did what, for admins.

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::KnownQuery;
use super::params;
use crate::auth::{Action, Staff};
use crate::hub::Hub;
use crate::store::audit::{self, AuditFilter};

const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 1000;

pub async fn list(State(hub): State<Hub>, staff: Staff, uri: Uri) -> Result<Json<Value>, ApiError> {
    staff.require(Action::ReadAudit)?;
    let query = KnownQuery::from_uri(&uri, &["actor", "action", "subject", "limit", "cursor"])?;
    let limit = query
        .get("limit")
        .map(|v| params::integer("limit", v, 1, MAX_PAGE))
        .transpose()?
        .unwrap_or(DEFAULT_PAGE) as usize;
    let filter = AuditFilter {
        actor: query.get("actor").map(str::to_owned),
        action: query.get("action").map(str::to_owned),
        subject: query.get("subject").map(str::to_owned),
        before_seq: query
            .get("cursor")
            .map(|v| params::integer("cursor", v, 1, i64::MAX))
            .transpose()?,
        limit,
    };
    let entries = hub
        .store
        .read(move |conn| audit::list(conn, &filter))
        .await?;
    let next_cursor = (entries.len() == limit)
        .then(|| entries.last().map(|e| e.seq.to_string()))
        .flatten();
    Ok(Json(
        json!({ "entries": entries, "next_cursor": next_cursor }),
    ))
}
