//! `/api/v1/zones`: zone boundaries as GeoJSON for GIS clients, the zones at a point, and
//! `/api/v1/places`: finding a zone by name.

use axum::Json;
use axum::extract::State;
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::KnownQuery;
use super::params;
use crate::hub::Hub;
use crate::problem::{ErrorCode, Problem};
use crate::reports::Location;
use crate::zones::{DisplayQuery, ZoneIndex, feature_collection};

/// Tolerances below this are pointless for display and above it unrecognisable.
const MAX_SIMPLIFY_METRES: i64 = 10_000;

/// `GET /api/v1/zones?level=&simplify=<metres>&bbox=`.
pub(super) async fn list(State(hub): State<Hub>, uri: Uri) -> Result<Response, ApiError> {
    let query = KnownQuery::from_uri(&uri, &["level", "simplify", "bbox"])?;
    let index = hub.zones.snapshot();
    if let Some(level) = query.get("level") {
        known_level(&index, level)?;
    }
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
    // Simplifying thousands of polygons is CPU work; keep it off the async workers.
    let body = tokio::task::spawn_blocking(move || {
        serde_json::to_vec(&feature_collection(&index, &display))
    })
    .await
    .map_err(|err| ApiError(crate::problem::Problem::internal(&err)))?
    .map_err(|err| ApiError(crate::problem::Problem::internal(&err)))?;
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], body).into_response())
}

/// Refuses a level none of the office's zones has (`comune` for `municipality`, say), which
/// would otherwise list nothing and look like a map with no zones.
fn known_level(index: &ZoneIndex, level: &str) -> Result<(), Problem> {
    if index.is_empty() || index.zones().iter().any(|zone| zone.level == level) {
        return Ok(());
    }
    let mut levels: Vec<&str> = index
        .zones()
        .iter()
        .map(|zone| zone.level.as_str())
        .collect();
    levels.sort_unstable();
    levels.dedup();
    Err(Problem::with_field(
        ErrorCode::InvalidField,
        "level",
        format!(
            "there is no zone level `{level}` here; the levels are: {}",
            levels.join(", ")
        ),
    ))
}

/// `GET /api/v1/zones/lookup?lat=&lon=`: every zone containing the point, smallest first.
pub(super) async fn lookup(State(hub): State<Hub>, uri: Uri) -> Result<Json<Value>, ApiError> {
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

/// Ids one `places?ids=` request may name.
const MAX_PLACE_IDS: usize = 100;
/// Places one search answers with at most.
const MAX_PLACES: i64 = 20;

/// `GET /api/v1/places?q=<name>&limit=` or `?ids=a,b`: places to move a map to, by name or id.
pub(super) async fn places(State(hub): State<Hub>, uri: Uri) -> Result<Json<Value>, ApiError> {
    let query = KnownQuery::from_uri(&uri, &["q", "limit", "ids"])?;
    let index = hub.zones.snapshot();
    let places = match (query.get("q"), query.get("ids")) {
        (Some(text), None) => {
            let limit = query
                .get("limit")
                .map(|v| params::integer("limit", v, 1, MAX_PLACES))
                .transpose()?
                .unwrap_or(8);
            if text.chars().count() > 100 {
                return Err(Problem::with_field(
                    ErrorCode::TooLong,
                    "q",
                    "a place name is at most 100 characters",
                )
                .into());
            }
            index.find_places(text, limit as usize)
        }
        (None, Some(ids)) => {
            let ids: Vec<&str> = ids.split(',').filter(|id| !id.is_empty()).collect();
            if ids.len() > MAX_PLACE_IDS {
                return Err(Problem::with_field(
                    ErrorCode::InvalidField,
                    "ids",
                    format!("ask for at most {MAX_PLACE_IDS} zone ids at a time"),
                )
                .into());
            }
            index.places(&ids)
        }
        _ => {
            return Err(Problem::with_field(
                ErrorCode::MissingField,
                "q",
                "give either `q` (part of a place name) or `ids` (zone ids, comma-separated)",
            )
            .into());
        }
    };
    Ok(Json(json!({ "places": places })))
}
