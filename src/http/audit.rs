//! `GET /api/v1/audit`: the append-only log of who did what, for admins, filtered by actor,
//! action, subject and period.

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::KnownQuery;
use super::params;
use crate::auth::{AuditFilter, Staff};
use crate::hub::Hub;

const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 1000;

pub(super) async fn list(
    State(hub): State<Hub>,
    staff: Staff,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let query = KnownQuery::from_uri(
        &uri,
        &[
            "actor", "action", "subject", "since", "until", "limit", "cursor",
        ],
    )?;
    let time = |name: &str| -> Result<Option<i64>, ApiError> {
        Ok(query
            .get(name)
            .map(|value| params::timestamp(name, value))
            .transpose()?
            .map(|at| at.timestamp_millis()))
    };
    let page = query.page(DEFAULT_PAGE, MAX_PAGE)?;
    let filter = AuditFilter {
        actor: query.get("actor").map(str::to_owned),
        action: query.get("action").map(str::to_owned),
        subject: query.get("subject").map(str::to_owned),
        since_ms: time("since")?,
        until_ms: time("until")?,
        before_seq: page.before,
        limit: page.limit,
    };
    let entries = hub.accounts.audit_entries(&staff, filter).await?;
    let next_cursor = page.next_cursor(&entries, |entry| entry.seq);
    Ok(Json(
        json!({ "entries": entries, "next_cursor": next_cursor }),
    ))
}
