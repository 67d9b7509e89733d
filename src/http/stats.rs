//! `/api/v1/stats` for staff, and `/api/v1/reports/export.{geojson,csv}`: open data with
//! personal data removed.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth::MaybeStaff;
use super::error::ApiError;
use super::extract::KnownQuery;
use super::params;
use crate::auth::Staff;
use crate::hub::Hub;
use crate::problem::Problem;
use crate::reports::ReportFilter;
use crate::triage::{Bucket, OpenData, OpenRecord, StatsScope, parse_status};

const DEFAULT_EXPORT: i64 = 10_000;
const MAX_EXPORT: i64 = 100_000;
const CSV_COLUMNS: [&str; 11] = [
    "category",
    "status",
    "rejection_reason",
    "lat",
    "lon",
    "zone_id",
    "zone_name",
    "incident_id",
    "received_at",
    "acknowledged_at",
    "closed_at",
];

/// `GET /api/v1/stats?since=&until=&category=&zone=&bucket=`.
pub(super) async fn stats(
    State(hub): State<Hub>,
    staff: Staff,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let query = KnownQuery::from_uri(&uri, &["since", "until", "category", "zone", "bucket"])?;
    let scope = StatsScope {
        since: time(&query, "since")?,
        until: time(&query, "until")?,
        category: query.get("category").map(str::to_owned),
        zone: query.get("zone").map(str::to_owned),
    };
    let bucket = query.get("bucket").map(Bucket::parse).transpose()?;
    Ok(Json(json!(hub.triage.stats(&staff, scope, bucket).await?)))
}

fn time(query: &KnownQuery, name: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, Problem> {
    query
        .get(name)
        .map(|v| params::timestamp(name, v))
        .transpose()
}

/// `GET /api/v1/reports/export.geojson`.
pub(super) async fn export_geojson(
    State(hub): State<Hub>,
    MaybeStaff(staff): MaybeStaff,
    uri: Uri,
) -> Result<Response, ApiError> {
    let data = export(&hub, staff.as_ref(), &uri).await?;
    let features: Vec<Value> = data.records.iter().map(OpenRecord::feature).collect();
    let body = json!({
        "type": "FeatureCollection",
        "features": features,
        "next_cursor": data.next_cursor.map(|seq| seq.to_string()),
    });
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], Json(body)).into_response())
}

/// `GET /api/v1/reports/export.csv`; the next page's cursor is in the `X-Next-Cursor` header.
pub(super) async fn export_csv(
    State(hub): State<Hub>,
    MaybeStaff(staff): MaybeStaff,
    uri: Uri,
) -> Result<Response, ApiError> {
    let data = export(&hub, staff.as_ref(), &uri).await?;
    let csv = to_csv(&data).map_err(|err| ApiError(Problem::internal(&err)))?;
    let mut response = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response();
    if let Some(cursor) = data.next_cursor {
        response
            .headers_mut()
            .insert("x-next-cursor", HeaderValue::from(cursor));
    }
    Ok(response)
}

async fn export(hub: &Hub, staff: Option<&Staff>, uri: &Uri) -> Result<OpenData, ApiError> {
    let query = KnownQuery::from_uri(
        uri,
        &["since", "until", "category", "status", "limit", "cursor"],
    )?;
    let page = query.page(DEFAULT_EXPORT, MAX_EXPORT)?;
    let filter = ReportFilter {
        since: time(&query, "since")?,
        until: time(&query, "until")?,
        category: query.get("category").map(str::to_owned),
        status: query.get("status").map(parse_status).transpose()?,
        before_seq: page.before,
        limit: page.limit,
        ..ReportFilter::default()
    };
    Ok(hub.triage.open_data(staff, filter).await?)
}

fn to_csv(data: &OpenData) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(CSV_COLUMNS)?;
    let time = |at: Option<chrono::DateTime<chrono::Utc>>| {
        at.map(|at| at.to_rfc3339()).unwrap_or_default()
    };
    for record in &data.records {
        writer.write_record([
            record.category.clone(),
            record.status.as_str().to_owned(),
            record.rejection_reason.clone().unwrap_or_default(),
            record.lat.to_string(),
            record.lon.to_string(),
            record.zone_id.clone().unwrap_or_default(),
            record.zone_name.clone().unwrap_or_default(),
            record.incident_id.clone().unwrap_or_default(),
            record.received_at.to_rfc3339(),
            time(record.acknowledged_at),
            time(record.closed_at),
        ])?;
    }
    writer.into_inner().map_err(|err| err.into_error().into())
}
