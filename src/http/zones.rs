//! `/api/v1/zones`: zone boundaries as GeoJSON for maps, and the zones at a point.

use axum::Json;
use axum::extract::State;
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::KnownQuery;
use super::params;
use crate::hub::Hub;
use crate::reports::Location;
use crate::zones::{DisplayQuery, feature_collection};

/// Tolerances below this are pointless for display and above it unrecognisable.
const MAX_SIMPLIFY_METRES: i64 = 10_000;

/// `GET /api/v1/zones?level=&simplify=<metres>&bbox=`.
pub async fn list(State(hub): State<Hub>, uri: Uri) -> Result<Response, ApiError> {
    let query = KnownQuery::from_uri(&uri, &["level", "simplify", "bbox"])?;
    let display = DisplayQuery {
        level: query.get("level").map(str::to_owned),
        simplify_metres: query
            .get("simplify")
            .map(|v| params::integer("simplify", v, 0, MAX_SIMPLIFY_METRES))
            .transpose()?
            .map(|metres| metres as f64),
        bbox: query
            .get("bbox")
            .map(|v| params::bbox_rect("bbox", v))
            .transpose()?,
    };
    let index = hub.zones.snapshot();
    // Simplifying thousands of polygons is CPU work; keep it off the async workers.
    let body = tokio::task::spawn_blocking(move || {
        serde_json::to_vec(&feature_collection(&index, &display))
    })
    .await
    .map_err(|err| ApiError(crate::problem::Problem::internal(&err)))?
    .map_err(|err| ApiError(crate::problem::Problem::internal(&err)))?;
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], body).into_response())
}

/// `GET /api/v1/zones/lookup?lat=&lon=`: every zone containing the point, smallest first.
pub async fn lookup(State(hub): State<Hub>, uri: Uri) -> Result<Json<Value>, ApiError> {
    let query = KnownQuery::from_uri(&uri, &["lat", "lon"])?;
    let coordinate = |name: &str| -> Result<f64, ApiError> {
        let value = query.get(name).ok_or_else(|| {
            crate::problem::Problem::with_field(
                crate::problem::ErrorCode::MissingField,
                name,
                format!("`{name}` is required"),
            )
        })?;
        Ok(params::number(name, value)?)
    };
    let location = Location::parse(coordinate("lat")?, coordinate("lon")?, "lat", "lon")?;
    let zones = hub.zones.snapshot().zone_refs(location);
    Ok(Json(
        json!({ "in_area": !zones.is_empty(), "zones": zones }),
    ))
}
