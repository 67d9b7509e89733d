//! Reading a zone set from a GeoJSON FeatureCollection (plain or gzipped).

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use geo::{BoundingRect, MultiPolygon};
use geojson::{Feature, FeatureCollection, GeoJson};

use super::Zone;

/// Zone sets larger than this are refused; the whole of Italy's municipalities is about 30 MB.
const MAX_GEOJSON_BYTES: u64 = 512 * 1024 * 1024;

/// How to read zones out of a FeatureCollection's properties.
#[derive(Debug, Clone)]
pub struct ImportSpec {
    pub level: String,
    pub id_prop: String,
    pub name_prop: String,
    pub parent_prop: Option<String>,
}

/// A zone ready to be stored: the index entry plus its geometry as GeoJSON text.
#[derive(Debug, Clone)]
pub struct ZoneRecord {
    pub zone: Zone,
    pub geometry_json: String,
    /// min lon, min lat, max lon, max lat.
    pub bbox: [f64; 4],
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is larger than {MAX_GEOJSON_BYTES} bytes; split it into smaller files")]
    TooLarge { path: String },
    #[error("{0} is not GeoJSON: {1}")]
    NotGeoJson(String, String),
    #[error("{0} holds a single {1}; a zone set must be a FeatureCollection")]
    NotCollection(String, &'static str),
    #[error("the level `{0}` must be 1 to 32 characters of lowercase letters, digits, '_' or '-'")]
    InvalidLevel(String),
    #[error("feature #{index}: {reason}")]
    Feature { index: usize, reason: String },
    #[error("zone id `{0}` appears more than once in this file")]
    DuplicateId(String),
    #[error(
        "zone id `{id}` already exists at level `{level}`; zone ids must be unique across levels"
    )]
    IdTakenByLevel { id: String, level: String },
    #[error("the file has no features")]
    Empty,
    #[error("the zones could not be stored: {0}")]
    Store(String),
}

/// Reads a GeoJSON FeatureCollection, gunzipping it if it starts with the gzip magic bytes.
pub fn read_feature_collection(path: &Path) -> Result<FeatureCollection, ImportError> {
    let shown = path.display().to_string();
    let io = |source| ImportError::Io {
        path: shown.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_GEOJSON_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut inflated = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .take(MAX_GEOJSON_BYTES + 1)
            .read_to_end(&mut inflated)
            .map_err(io)?;
        bytes = inflated;
    }
    if bytes.len() as u64 > MAX_GEOJSON_BYTES {
        return Err(ImportError::TooLarge { path: shown });
    }
    parse_collection(&bytes, &shown)
}

pub(crate) fn parse_collection(
    bytes: &[u8],
    shown: &str,
) -> Result<FeatureCollection, ImportError> {
    let geojson: GeoJson = serde_json::from_slice(bytes)
        .map_err(|err| ImportError::NotGeoJson(shown.to_owned(), err.to_string()))?;
    match geojson {
        GeoJson::FeatureCollection(collection) => Ok(collection),
        GeoJson::Feature(_) => Err(ImportError::NotCollection(shown.to_owned(), "Feature")),
        GeoJson::Geometry(_) => Err(ImportError::NotCollection(shown.to_owned(), "Geometry")),
    }
}

/// Turns every feature into a zone of `spec.level`, checking ids, names and geometry.
pub fn records_from(
    collection: FeatureCollection,
    spec: &ImportSpec,
) -> Result<Vec<ZoneRecord>, ImportError> {
    check_level(&spec.level)?;
    if collection.features.is_empty() {
        return Err(ImportError::Empty);
    }
    let mut seen = HashSet::new();
    let mut records = Vec::with_capacity(collection.features.len());
    for (index, feature) in collection.features.into_iter().enumerate() {
        let record =
            record_from(feature, spec).map_err(|reason| ImportError::Feature { index, reason })?;
        if !seen.insert(record.zone.id.clone()) {
            return Err(ImportError::DuplicateId(record.zone.id));
        }
        records.push(record);
    }
    Ok(records)
}

fn check_level(level: &str) -> Result<(), ImportError> {
    let valid = !level.is_empty()
        && level.len() <= 32
        && level
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(ImportError::InvalidLevel(level.to_owned()))
    }
}

fn record_from(feature: Feature, spec: &ImportSpec) -> Result<ZoneRecord, String> {
    let id = property(&feature, &spec.id_prop)?
        .ok_or_else(|| format!("has no `{}` property", spec.id_prop))?;
    check_zone_id(&id)?;
    let name = property(&feature, &spec.name_prop)?
        .ok_or_else(|| format!("has no `{}` property", spec.name_prop))?;
    let parent_id = match &spec.parent_prop {
        Some(prop) => property(&feature, prop)?,
        None => None,
    };
    let geometry = feature.geometry.ok_or("has no geometry")?;
    let multi_polygon = to_multi_polygon(&geometry).map_err(|why| format!("zone `{id}`: {why}"))?;
    let rect = multi_polygon
        .bounding_rect()
        .ok_or_else(|| format!("zone `{id}` has an empty geometry"))?;
    check_wgs84(rect).map_err(|why| format!("zone `{id}`: {why}"))?;
    let geometry_json = serde_json::to_string(&geometry).map_err(|err| err.to_string())?;
    Ok(ZoneRecord {
        bbox: [rect.min().x, rect.min().y, rect.max().x, rect.max().y],
        zone: Zone::new(id, spec.level.clone(), name, parent_id, multi_polygon),
        geometry_json,
    })
}

/// A property as text: strings as they are, numbers printed. Absent or null is `None`.
fn property(feature: &Feature, name: &str) -> Result<Option<String>, String> {
    match feature.property(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(serde_json::Value::String(text)) => Ok(Some(text.trim().to_owned())),
        Some(serde_json::Value::Number(number)) => Ok(Some(number.to_string())),
        Some(other) => Err(format!(
            "property `{name}` must be text or a number, not {other}"
        )),
    }
}

/// Zone ids become MQTT topic levels and URL path segments.
fn check_zone_id(id: &str) -> Result<(), String> {
    if id.len() > 64 {
        return Err(format!("zone id `{id}` is longer than 64 characters"));
    }
    if let Some(bad) = id
        .chars()
        .find(|c| matches!(c, '/' | '+' | '#' | '?' | '%') || c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "zone id `{id}` contains {bad:?}, which MQTT topics and URLs cannot carry"
        ));
    }
    Ok(())
}

pub fn to_multi_polygon(geometry: &geojson::Geometry) -> Result<MultiPolygon<f64>, String> {
    let converted: geo::Geometry<f64> = geometry
        .try_into()
        .map_err(|err: geojson::Error| err.to_string())?;
    match converted {
        geo::Geometry::Polygon(polygon) => Ok(MultiPolygon::new(vec![polygon])),
        geo::Geometry::MultiPolygon(multi) => Ok(multi),
        other => Err(format!(
            "a zone must be a Polygon or MultiPolygon, not {}",
            geometry_kind(&other)
        )),
    }
}

fn geometry_kind(geometry: &geo::Geometry<f64>) -> &'static str {
    match geometry {
        geo::Geometry::Point(_) => "a Point",
        geo::Geometry::MultiPoint(_) => "a MultiPoint",
        geo::Geometry::LineString(_) | geo::Geometry::Line(_) => "a LineString",
        geo::Geometry::MultiLineString(_) => "a MultiLineString",
        geo::Geometry::GeometryCollection(_) => "a GeometryCollection",
        _ => "this geometry",
    }
}

fn check_wgs84(rect: geo::Rect<f64>) -> Result<(), String> {
    let (min, max) = (rect.min(), rect.max());
    if min.x < -180.0 || max.x > 180.0 || min.y < -90.0 || max.y > 90.0 {
        return Err(
            "coordinates are outside WGS84 longitude/latitude ranges; reproject to EPSG:4326"
                .into(),
        );
    }
    Ok(())
}
