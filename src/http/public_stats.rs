//! `GET /api/v1/public/stats`: how many reports the office received and how fast it answered
//! them, per month, category and zone, for anyone; counts, shares and times only.

use axum::Json;
use axum::extract::State;
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::KnownQuery;
use crate::hub::Hub;
use crate::triage::{Month, PublicStatsRequest};

/// The figures move slowly; readers and caches may keep them this long.
const CACHE_CONTROL: &str = "public, max-age=300";

pub(super) async fn figures(State(hub): State<Hub>, uri: Uri) -> Result<Response, ApiError> {
    let query = KnownQuery::from_uri(&uri, &["from", "to"])?;
    let month = |name: &str| query.get(name).map(|v| Month::parse(name, v)).transpose();
    let request = PublicStatsRequest {
        from: month("from")?,
        to: month("to")?,
    };
    let stats = hub.triage.public_stats(request).await?;
    Ok(([(header::CACHE_CONTROL, CACHE_CONTROL)], Json(stats)).into_response())
}
