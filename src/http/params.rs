//! Parsing query parameters into typed values, each failure naming the parameter.

use chrono::{DateTime, Utc};
use geo::{Rect, coord};

use crate::problem::{ErrorCode, Problem};

fn invalid(field: &str, message: String) -> Problem {
    Problem::with_field(ErrorCode::InvalidField, field, message)
}

/// `minLon,minLat,maxLon,maxLat` in WGS84 degrees.
pub(super) fn bbox(field: &str, value: &str) -> Result<[f64; 4], Problem> {
    let usage = || {
        invalid(
            field,
            format!(
                "`{field}` must be minLon,minLat,maxLon,maxLat in degrees, e.g. 11.2,44.4,11.5,44.6"
            ),
        )
    };
    let parts: Vec<f64> = value
        .split(',')
        .map(|part| part.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| usage())?;
    let [min_lon, min_lat, max_lon, max_lat] = parts[..] else {
        return Err(usage());
    };
    let in_range = [min_lon, max_lon]
        .iter()
        .all(|lon| (-180.0..=180.0).contains(lon))
        && [min_lat, max_lat]
            .iter()
            .all(|lat| (-90.0..=90.0).contains(lat));
    if !in_range || min_lon > max_lon || min_lat > max_lat {
        return Err(usage());
    }
    Ok([min_lon, min_lat, max_lon, max_lat])
}

pub(super) fn bbox_rect(field: &str, value: &str) -> Result<Rect<f64>, Problem> {
    let [min_lon, min_lat, max_lon, max_lat] = bbox(field, value)?;
    Ok(Rect::new(
        coord! { x: min_lon, y: min_lat },
        coord! { x: max_lon, y: max_lat },
    ))
}

/// An RFC 3339 timestamp, such as `2026-11-24T08:00:00Z`.
pub(super) fn timestamp(field: &str, value: &str) -> Result<DateTime<Utc>, Problem> {
    DateTime::parse_from_rfc3339(value)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| {
            invalid(
                field,
                format!("`{field}` must be an RFC 3339 time such as 2026-11-24T08:00:00Z"),
            )
        })
}

/// A whole number between `min` and `max`.
pub(super) fn integer(field: &str, value: &str, min: i64, max: i64) -> Result<i64, Problem> {
    value
        .parse::<i64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            invalid(
                field,
                format!("`{field}` must be a whole number from {min} to {max}"),
            )
        })
}

/// A finite decimal number.
pub(super) fn number(field: &str, value: &str) -> Result<f64, Problem> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| {
            invalid(
                field,
                format!(
                    "`{field}` must be a decimal number, got `{}`",
                    value.chars().take(40).collect::<String>()
                ),
            )
        })
}

/// `true` or `false`.
pub(super) fn boolean(field: &str, value: &str) -> Result<bool, Problem> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(field, format!("`{field}` must be true or false"))),
    }
}

/// Refuses a form or query field whose percent-escapes decode to bytes that are not UTF-8:
/// the parser would turn them into replacement characters, and the office would read (or
/// search for) words nobody wrote.
pub(super) fn decodes_to_utf8(text: &str) -> Result<(), Problem> {
    for pair in text.split('&') {
        if percent_encoding::percent_decode_str(pair)
            .decode_utf8()
            .is_err()
        {
            let name = pair.split('=').next().unwrap_or_default();
            let name = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
            let message = format!(
                "`{name}` has percent-escapes that are not UTF-8; encode the text as UTF-8 before escaping it"
            );
            return Err(Problem::with_field(ErrorCode::InvalidUtf8, name, message));
        }
    }
    Ok(())
}
