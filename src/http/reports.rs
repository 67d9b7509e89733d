//! `/api/v1/reports`: submit a report as JSON, read one, and list them as JSON or GeoJSON.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{JsonBody, KnownQuery, Page, PeerAddr};
use super::params;
use crate::auth::{Action, Staff};
use crate::hub::Hub;
use crate::problem::{ErrorCode, Problem};
use crate::reports::{Origin, RawSubmission, Report, ReportStatus, Source};
use crate::store::reports::{self as report_rows, ReportFilter};

const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 500;
const LIST_PARAMS: &[&str] = &[
    "bbox", "zone", "category", "status", "since", "limit", "cursor", "format",
];

/// `POST /api/v1/reports`: 201 with the receipt, or 200 with the same receipt for a retry.
pub async fn create(
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
pub async fn show(
    State(hub): State<Hub>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    staff.require(Action::Read)?;
    let report = load(&hub, &id).await?;
    Ok(Json(staff_view(&report, &staff)))
}

async fn load(hub: &Hub, id: &str) -> Result<Report, ApiError> {
    let lookup = id.to_owned();
    hub.store
        .read(move |conn| report_rows::get(conn, &lookup))
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("report {id}")))
}

/// `GET /api/v1/reports/{id}/photo`, for the staff who handle reports.
pub async fn photo(
    State(hub): State<Hub>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    staff.require(Action::Triage)?;
    let lookup = id.clone();
    let (content_type, bytes) = hub
        .store
        .read(move |conn| report_rows::photo(conn, &lookup))
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("a photo of report {id}")))?;
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}

/// What a staff member sees: everything public, plus how to reach the reporter for the roles
/// that handle reports.
fn staff_view(report: &Report, staff: &Staff) -> Value {
    let mut view = json!(PublicReport::of(report));
    if staff.role.may(Action::Triage) {
        view["contact"] = json!(report.contact);
        view["device_id"] = json!(report.device_id);
    }
    view
}

/// `GET /api/v1/reports`: newest first, filtered, one page at a time.
pub async fn list(
    State(hub): State<Hub>,
    staff: Staff,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    staff.require(Action::Read)?;
    let query = KnownQuery::from_uri(&uri, LIST_PARAMS)?;
    let page = query.page(DEFAULT_PAGE, MAX_PAGE)?;
    let filter = parse_filter(&query, &hub, page)?;
    let geojson = wants_geojson(&query, &headers)?;
    let reports = hub
        .store
        .read(move |conn| report_rows::list(conn, &filter))
        .await?;
    let next_cursor = page.next_cursor(&reports, |report| report.seq);
    if geojson {
        let body = json!({
            "type": "FeatureCollection",
            "features": reports.iter().map(|report| feature(report, &staff)).collect::<Vec<_>>(),
            "next_cursor": next_cursor,
        });
        return Ok(([(header::CONTENT_TYPE, "application/geo+json")], Json(body)).into_response());
    }
    let views: Vec<Value> = reports
        .iter()
        .map(|report| staff_view(report, &staff))
        .collect();
    Ok(Json(json!({ "reports": views, "next_cursor": next_cursor })).into_response())
}

fn parse_filter(query: &KnownQuery, hub: &Hub, page: Page) -> Result<ReportFilter, Problem> {
    let category = query.get("category").map(str::to_owned);
    if let Some(code) = &category {
        crate::reports::parse_category(code.clone(), &hub.intake.rules().catalog)?;
    }
    Ok(ReportFilter {
        closed: None,
        until: None,
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

fn parse_status(value: &str) -> Result<ReportStatus, Problem> {
    ReportStatus::parse(value).ok_or_else(|| {
        let known: Vec<&str> = ReportStatus::ALL.iter().map(|s| s.as_str()).collect();
        Problem::with_field(
            ErrorCode::InvalidField,
            "status",
            format!("`status` must be one of: {}", known.join(", ")),
        )
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

fn feature(report: &Report, staff: &Staff) -> Value {
    json!({
        "type": "Feature",
        "id": report.id,
        "geometry": { "type": "Point", "coordinates": [report.location.lon, report.location.lat] },
        "properties": staff_view(report, staff),
    })
}

/// A report as anyone may see it: no contact details, no device id, no idempotency key.
#[derive(Serialize)]
pub struct PublicReport<'a> {
    pub id: &'a str,
    pub source: Source,
    pub category: &'a str,
    pub status: ReportStatus,
    pub location: crate::reports::Location,
    pub text: &'a str,
    pub zones: &'a [crate::reports::ZoneRef],
    pub in_area: bool,
    pub has_photo: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_url: Option<&'a str>,
    pub version: i64,
    pub received_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl<'a> PublicReport<'a> {
    pub fn of(report: &'a Report) -> PublicReport<'a> {
        PublicReport {
            id: &report.id,
            source: report.source,
            category: &report.category,
            status: report.status,
            location: report.location,
            text: &report.text,
            zones: &report.zones,
            in_area: report.in_area,
            has_photo: report.has_photo,
            media_url: report.media_url.as_deref(),
            version: report.version,
            received_at: report.received_at,
            updated_at: report.updated_at,
        }
    }
}
