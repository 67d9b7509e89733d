//! Zones as GeoJSON for maps, optionally simplified so a whole region stays light to draw.

use geo::{Intersects, MultiPolygon, Rect, Simplify};
use geojson::{Feature, FeatureCollection, JsonObject};

use super::{Zone, ZoneIndex};

/// Degrees of latitude per metre, close enough for choosing a simplification tolerance.
const DEGREES_PER_METRE: f64 = 1.0 / 111_320.0;

/// What the map asks for.
#[derive(Debug, Clone, Default)]
pub struct DisplayQuery {
    pub level: Option<String>,
    /// Drop vertices closer than this many metres to the simplified line.
    pub simplify_metres: Option<f64>,
    pub bbox: Option<Rect<f64>>,
}

pub fn feature_collection(index: &ZoneIndex, query: &DisplayQuery) -> FeatureCollection {
    let in_view: Vec<&Zone> = match query.bbox {
        Some(rect) => index
            .in_envelope(rect)
            .filter(|zone| zone.geometry.intersects(&rect))
            .collect(),
        None => index.zones().iter().collect(),
    };
    let features = in_view
        .into_iter()
        .filter(|zone| {
            query
                .level
                .as_ref()
                .is_none_or(|level| &zone.level == level)
        })
        .map(|zone| to_feature(zone, query.simplify_metres))
        .collect();
    FeatureCollection {
        bbox: None,
        features,
        foreign_members: None,
    }
}

fn to_feature(zone: &Zone, simplify_metres: Option<f64>) -> Feature {
    let geometry: MultiPolygon<f64> = match simplify_metres {
        Some(metres) if metres > 0.0 => zone.geometry.simplify(metres * DEGREES_PER_METRE),
        _ => zone.geometry.clone(),
    };
    let mut properties = JsonObject::new();
    properties.insert("id".into(), zone.id.clone().into());
    properties.insert("level".into(), zone.level.clone().into());
    properties.insert("name".into(), zone.name.clone().into());
    properties.insert("parent_id".into(), zone.parent_id.clone().into());
    Feature {
        bbox: None,
        geometry: Some(geojson::Geometry::from(&geometry)),
        id: Some(geojson::feature::Id::String(zone.id.clone())),
        properties: Some(properties),
        foreign_members: None,
    }
}
