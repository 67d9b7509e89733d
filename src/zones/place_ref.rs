//! Where things are: a checked WGS84 position, and a zone named by id, level and name.

use serde::{Deserialize, Serialize};

use crate::problem::{ErrorCode, Problem};

/// A WGS84 position with finite, in-range coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
}

impl Location {
    /// `lat_field` and `lon_field` name the coordinates as the sender spelled them.
    pub fn parse(
        lat: f64,
        lon: f64,
        lat_field: &str,
        lon_field: &str,
    ) -> Result<Location, Problem> {
        check_coordinate(lat, 90.0, lat_field, "latitude")?;
        check_coordinate(lon, 180.0, lon_field, "longitude")?;
        Ok(Location { lat, lon })
    }
}

fn check_coordinate(value: f64, limit: f64, field: &str, what: &str) -> Result<(), Problem> {
    if value.is_finite() && (-limit..=limit).contains(&value) {
        return Ok(());
    }
    Err(Problem::with_field(
        ErrorCode::InvalidField,
        field,
        format!(
            "`{field}` must be a WGS84 {what} between -{limit} and {limit} degrees, got {value}"
        ),
    ))
}

/// A zone by id, level and name, as it was when a report or notice named it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneRef {
    pub id: String,
    pub level: String,
    pub name: String,
}
