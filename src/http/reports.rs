//! `/api/v1/reports`: submit a report as JSON, read one, and list them as JSON or GeoJSON.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{JsonBody, KnownQuery, Page, PeerAddr};
use super::params;
use crate::auth::Staff;
use crate::hub::Hub;
use crate::problem::{ErrorCode, Problem};
use crate::reports::{Origin, RawSubmission, Report, ReportFilter, ReportView, Source};
use crate::triage::parse_status;

const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 500;
const LIST_PARAMS: &[&str] = &[
    "bbox", "zone", "category", "status", "since", "until", "incident", "overdue", "limit",
    "cursor", "format",
];

/// `POST /api/v1/reports`: 201 with the receipt, or 200 with the same receipt for a retry.
pub(super) async fn create(
    State(hub): State<Hub>,
    PeerAddr(peer): PeerAddr,
    JsonBody(raw): JsonBody<RawSubmission>,
) -> Result<Response, ApiError> {
    let origin = Origin {
        source: Source::Http,
        peer_ip: peer.map(|addr| addr.ip()),
        device_id: None,
    };
    let receipt = hub.intake.submit(origin, raw).await?;
    let status = if receipt.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(receipt)).into_response())
}

/// `GET /api/v1/reports/{id}`.
pub(super) async fn show(
    State(hub): State<Hub>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let report = hub.triage.report(&staff, &id).await?;
    Ok(Json(staff_view(&report, &staff, hub.clock.now())))
}

/// `GET /api/v1/reports/{id}/photo`, for the staff who handle reports.
pub(super) async fn photo(
    State(hub): State<Hub>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (content_type, bytes) = hub.triage.photo(&staff, &id).await?;
    // A citizen's bytes in a staff member's browser: never read as anything but the image,
    // and opened alone they may run nothing.
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox".into(),
        ),
    ];
    Ok((headers, bytes).into_response())
}

/// What a staff member sees: contact details only for the roles that handle reports.
pub(super) fn staff_view(report: &Report, staff: &Staff, now: DateTime<Utc>) -> Value {
    json!(ReportView::of(report, staff.sees_reporters(), now))
}

/// `GET /api/v1/reports`: newest first, filtered, one page at a time.
pub(super) async fn list(
    State(hub): State<Hub>,
    staff: Staff,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let query = KnownQuery::from_uri(&uri, LIST_PARAMS)?;
    let page = query.page(DEFAULT_PAGE, MAX_PAGE)?;
    let now = hub.clock.now();
    let filter = parse_filter(&query, &hub, page, now)?;
    let geojson = wants_geojson(&query, &headers)?;
    let reports = hub.triage.reports(&staff, filter).await?;
    let next_cursor = page.next_cursor(&reports, |report| report.seq);
    if geojson {
        let body = json!({
            "type": "FeatureCollection",
            "features": reports.iter().map(|report| feature(report, &staff, now)).collect::<Vec<_>>(),
            "next_cursor": next_cursor,
        });
        return Ok(([(header::CONTENT_TYPE, "application/geo+json")], Json(body)).into_response());
    }
    let views: Vec<Value> = reports
        .iter()
        .map(|report| staff_view(report, &staff, now))
        .collect();
    Ok(Json(json!({ "reports": views, "next_cursor": next_cursor })).into_response())
}

fn parse_filter(
    query: &KnownQuery,
    hub: &Hub,
    page: Page,
    now: DateTime<Utc>,
) -> Result<ReportFilter, Problem> {
    let category = query.get("category").map(str::to_owned);
    if let Some(code) = &category {
        crate::reports::parse_category(code.clone(), &hub.intake.rules().catalog)?;
    }
    let overdue = query
        .get("overdue")
        .map(|v| params::boolean("overdue", v))
        .transpose()?;
    Ok(ReportFilter {
        closed: None,
        until: query
            .get("until")
            .map(|v| params::timestamp("until", v))
            .transpose()?,
        incident: query.get("incident").map(str::to_owned),
        overdue_at: overdue.filter(|overdue| *overdue).map(|_| now),
        bbox: query
            .get("bbox")
            .map(|v| params::bbox("bbox", v))
            .transpose()?,
        zone: query.get("zone").map(str::to_owned),
        category,
        status: query.get("status").map(parse_status).transpose()?,
        since: query
            .get("since")
            .map(|v| params::timestamp("since", v))
            .transpose()?,
        before_seq: page.before,
        limit: page.limit,
    })
}

/// GeoJSON when `format=geojson` or the client accepts only `application/geo+json`.
fn wants_geojson(query: &KnownQuery, headers: &HeaderMap) -> Result<bool, Problem> {
    match query.get("format") {
        Some("geojson") => Ok(true),
        Some("json") => Ok(false),
        Some(_) => Err(Problem::with_field(
            ErrorCode::InvalidField,
            "format",
            "`format` must be json or geojson",
        )),
        None => Ok(headers
            .get(header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("application/geo+json"))),
    }
}

fn feature(report: &Report, staff: &Staff, now: DateTime<Utc>) -> Value {
    json!({
        "type": "Feature",
        "id": report.id,
        "geometry": { "type": "Point", "coordinates": [report.location.lon, report.location.lat] },
        "properties": staff_view(report, staff, now),
    })
}
