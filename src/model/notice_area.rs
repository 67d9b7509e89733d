//! A notice's area: polygons, circles and zone ids; the zones it covers; whether a point is in it.

use std::collections::BTreeMap;

use geo::coordinate_position::CoordPos;
use geo::{
    BoundingRect, CoordinatePosition, Destination, Distance, Haversine, LineString, MultiPolygon,
    Point, Polygon, PreparedGeometry, Rect, Relate, Validation, coord,
};
use serde::{Deserialize, Serialize};

use crate::problem::{ErrorCode, Problem};
use crate::zones::ZoneIndex;
use crate::zones::{Location, ZoneRef};

const MAX_SHAPES: usize = 50;
const MAX_POLYGON_POINTS: usize = 5000;
/// Points of all polygons together. Checking that a ring does not cross itself compares each
/// edge with every other, so what an area may cost is bounded here, not only per ring.
const MAX_AREA_POINTS: usize = 10_000;
const MAX_RADIUS_KM: f64 = 2000.0;
/// Sides of the polygon that stands in for a circle when finding covered zones.
const CIRCLE_SIDES: usize = 64;

/// A WGS84 point, named so that latitude and longitude are never swapped.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Circle {
    pub lat: f64,
    pub lon: f64,
    pub radius_km: f64,
}

/// Where a notice applies, as the author gave it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AreaSpec {
    /// Closed rings: at least 4 points, the last repeating the first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub polygons: Vec<Vec<LatLon>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub circles: Vec<Circle>,
    /// Ids of whole zones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawArea {
    pub polygons: Option<Vec<Vec<LatLon>>>,
    pub circles: Option<Vec<Circle>>,
    pub zones: Option<Vec<String>>,
}

impl AreaSpec {
    /// Like [`AreaSpec::parse`], but an empty area is taken: a received alert may give its
    /// area only in codes the office does not hold, and the relay still carries them.
    pub fn parse_received(raw: RawArea, zones: &ZoneIndex) -> Result<AreaSpec, Problem> {
        let none = |len: Option<usize>| len.unwrap_or(0) == 0;
        if none(raw.polygons.as_ref().map(Vec::len))
            && none(raw.circles.as_ref().map(Vec::len))
            && none(raw.zones.as_ref().map(Vec::len))
        {
            return Ok(AreaSpec::default());
        }
        AreaSpec::parse(raw, zones)
    }

    pub fn parse(raw: RawArea, zones: &ZoneIndex) -> Result<AreaSpec, Problem> {
        let spec = AreaSpec {
            polygons: raw.polygons.unwrap_or_default(),
            circles: raw.circles.unwrap_or_default(),
            zones: raw.zones.unwrap_or_default(),
        };
        if spec.polygons.is_empty() && spec.circles.is_empty() && spec.zones.is_empty() {
            return Err(Problem::with_field(
                ErrorCode::MissingField,
                "area",
                "the area is empty: draw a polygon or a circle, or pick zones",
            ));
        }
        if spec.polygons.len() + spec.circles.len() + spec.zones.len() > MAX_SHAPES {
            return Err(Problem::with_field(
                ErrorCode::InvalidField,
                "area",
                format!("the area has more than {MAX_SHAPES} shapes and zones"),
            ));
        }
        let points: usize = spec.polygons.iter().map(Vec::len).sum();
        if points > MAX_AREA_POINTS {
            return Err(Problem::with_field(
                ErrorCode::InvalidField,
                "area.polygons",
                format!(
                    "the polygons have {points} points together; at most {MAX_AREA_POINTS}: simplify the outline"
                ),
            ));
        }
        for (n, ring) in spec.polygons.iter().enumerate() {
            polygon_of(ring, &format!("area.polygons[{n}]"))?;
        }
        for (n, circle) in spec.circles.iter().enumerate() {
            check_circle(circle, &format!("area.circles[{n}]"))?;
        }
        for (n, id) in spec.zones.iter().enumerate() {
            if zones.get(id).is_none() {
                return Err(Problem::with_field(
                    ErrorCode::InvalidField,
                    format!("area.zones[{n}]"),
                    format!(
                        "there is no zone `{}`; GET /api/v1/zones lists them",
                        id.chars().take(64).collect::<String>()
                    ),
                ));
            }
        }
        Ok(spec)
    }
}

/// A ring as a valid polygon, or a problem saying what is wrong with it.
fn polygon_of(ring: &[LatLon], field: &str) -> Result<Polygon<f64>, Problem> {
    let invalid = |why: String| {
        Problem::with_field(ErrorCode::InvalidField, field, format!("`{field}` {why}"))
    };
    if ring.len() < 4 {
        return Err(invalid(format!(
            "has {} points; a polygon needs at least 4 (three corners and the first repeated to close it)",
            ring.len()
        )));
    }
    if ring.len() > MAX_POLYGON_POINTS {
        return Err(invalid(format!(
            "has more than {MAX_POLYGON_POINTS} points"
        )));
    }
    if ring.first() != ring.last() {
        return Err(invalid(
            "is not closed: its last point must repeat its first".into(),
        ));
    }
    for (n, point) in ring.iter().enumerate() {
        Location::parse(
            point.lat,
            point.lon,
            &format!("{field}[{n}].lat"),
            &format!("{field}[{n}].lon"),
        )?;
    }
    let polygon = ring_polygon(ring);
    if let Err(err) = polygon.check_validation() {
        return Err(invalid(format!(
            "is not a simple polygon ({err}); an edge must not cross another"
        )));
    }
    Ok(polygon)
}

/// A ring as a polygon (x = longitude, y = latitude), without any check.
fn ring_polygon(ring: &[LatLon]) -> Polygon<f64> {
    Polygon::new(
        LineString::from_iter(ring.iter().map(|p| coord! { x: p.lon, y: p.lat })),
        vec![],
    )
}

fn check_circle(circle: &Circle, field: &str) -> Result<(), Problem> {
    Location::parse(
        circle.lat,
        circle.lon,
        &format!("{field}.lat"),
        &format!("{field}.lon"),
    )?;
    // A radius of 0 is a point (CAP's way to give an epicentre, as USGS does).
    if !(circle.radius_km.is_finite()
        && circle.radius_km >= 0.0
        && circle.radius_km <= MAX_RADIUS_KM)
    {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            format!("{field}.radius_km"),
            format!(
                "`{field}.radius_km` must be 0 (a point) up to {MAX_RADIUS_KM} km, got {}",
                circle.radius_km
            ),
        ));
    }
    Ok(())
}

/// The geometry of a parsed area, for matching points and zones.
#[derive(Debug, Clone)]
pub struct NoticeArea {
    /// Polygons and the geometries of whole zones.
    shapes: Vec<MultiPolygon<f64>>,
    circles: Vec<Circle>,
    zone_ids: Vec<String>,
}

impl NoticeArea {
    /// Builds the geometry of a spec that already passed [`AreaSpec::parse`]. Its polygons are
    /// not validated again: the self-intersection check compares every edge with every other,
    /// and this runs on the store's writer at publish time and for every notice replayed to a
    /// subscriber.
    pub fn of(spec: &AreaSpec, zones: &ZoneIndex) -> NoticeArea {
        let polygons = spec
            .polygons
            .iter()
            .filter(|ring| ring.len() >= 4 && ring.first() == ring.last())
            .map(|ring| MultiPolygon::new(vec![ring_polygon(ring)]));
        let zone_shapes = spec
            .zones
            .iter()
            .filter_map(|id| zones.get(id))
            .map(|zone| zone.geometry.clone());
        NoticeArea {
            shapes: polygons.chain(zone_shapes).collect(),
            circles: spec.circles.clone(),
            zone_ids: spec.zones.clone(),
        }
    }

    /// Whether the point lies in the area (on its edge counts as in).
    pub fn contains(&self, location: Location) -> bool {
        let point = coord! { x: location.lon, y: location.lat };
        self.shapes
            .iter()
            .any(|shape| shape.coordinate_position(&point) != CoordPos::Outside)
            || self.circles.iter().any(|circle| {
                Haversine.distance(Point::new(circle.lon, circle.lat), Point::from(point))
                    <= circle.radius_km * 1000.0
            })
    }

    /// Every zone whose interior shares some ground with the area, by level, then name.
    /// Zones that only touch it along a border are not covered.
    pub fn covered_zones(&self, zones: &ZoneIndex) -> Vec<ZoneRef> {
        let mut covered: BTreeMap<(String, String), ZoneRef> = BTreeMap::new();
        for id in &self.zone_ids {
            if let Some(zone) = zones.get(id) {
                covered.insert((zone.level.clone(), zone.id.clone()), zone.as_ref());
            }
        }
        for point in self.points() {
            let rect = Rect::new(point.0, point.0);
            for zone in zones.in_envelope(rect) {
                if zone.geometry.coordinate_position(&point.0) != CoordPos::Outside {
                    covered.insert((zone.level.clone(), zone.id.clone()), zone.as_ref());
                }
            }
        }
        let circles = self
            .circles
            .iter()
            .filter(|circle| circle.radius_km > 0.0)
            .map(circle_polygon);
        for shape in self.shapes.iter().cloned().chain(circles) {
            let Some(rect) = shape.bounding_rect() else {
                continue;
            };
            let prepared = PreparedGeometry::from(&shape);
            for zone in zones.in_envelope(rect) {
                let key = (zone.level.clone(), zone.id.clone());
                if covered.contains_key(&key) {
                    continue;
                }
                let relation = prepared.relate(&zone.geometry);
                if relation.is_intersects() && !relation.is_touches() {
                    covered.insert(key, zone.as_ref());
                }
            }
        }
        let mut refs: Vec<ZoneRef> = covered.into_values().collect();
        refs.sort_by(|a, b| (&a.level, &a.name).cmp(&(&b.level, &b.name)));
        refs
    }

    /// The circles of radius 0: points, covering the zone they lie in.
    fn points(&self) -> impl Iterator<Item = Point<f64>> + '_ {
        self.circles
            .iter()
            .filter(|circle| circle.radius_km == 0.0)
            .map(|circle| Point::new(circle.lon, circle.lat))
    }

    /// Bounding box of the whole area, for map views.
    pub fn bounding_rect(&self) -> Option<Rect<f64>> {
        let circles = self.circles.iter().map(circle_polygon);
        self.shapes
            .iter()
            .cloned()
            .chain(circles)
            .filter_map(|shape| shape.bounding_rect())
            .reduce(|a, b| {
                Rect::new(
                    coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                    coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
                )
            })
    }
}

/// A circle as a polygon of `CIRCLE_SIDES` points on the sphere.
pub(crate) fn circle_polygon(circle: &Circle) -> MultiPolygon<f64> {
    let centre = Point::new(circle.lon, circle.lat);
    let points: Vec<Point<f64>> = (0..=CIRCLE_SIDES)
        .map(|n| {
            let bearing = 360.0 * (n % CIRCLE_SIDES) as f64 / CIRCLE_SIDES as f64;
            Haversine.destination(centre, bearing, circle.radius_km * 1000.0)
        })
        .collect();
    MultiPolygon::new(vec![Polygon::new(LineString::from(points), vec![])])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A closed ring of `points` points (the first repeated last) around the demo district.
    fn round_ring(points: usize) -> Vec<LatLon> {
        let mut ring: Vec<LatLon> = (0..points - 1)
            .map(|n| {
                let angle = std::f64::consts::TAU * n as f64 / (points - 1) as f64;
                LatLon {
                    lat: 44.4 + 0.05 * angle.cos(),
                    lon: 11.25 + 0.05 * angle.sin(),
                }
            })
            .collect();
        ring.push(ring[0]);
        ring
    }

    #[test]
    fn building_a_parsed_areas_geometry_does_not_check_its_rings_again() {
        // Found by fuzzing the CAP import: the self-intersection check compares every edge
        // with every other, and `NoticeArea::of` ran it again on every build of a parsed area
        // (on the writer at publish time, and for every notice replayed to a subscriber); ten
        // 5000-point rings took minutes. A bow tie, which `parse` refuses, shows that `of`
        // trusts what `parse` checked.
        let bow_tie = vec![
            LatLon {
                lat: 44.40,
                lon: 11.20,
            },
            LatLon {
                lat: 44.50,
                lon: 11.30,
            },
            LatLon {
                lat: 44.50,
                lon: 11.20,
            },
            LatLon {
                lat: 44.40,
                lon: 11.30,
            },
            LatLon {
                lat: 44.40,
                lon: 11.20,
            },
        ];
        let zones = ZoneIndex::empty();
        let raw = RawArea {
            polygons: Some(vec![bow_tie.clone()]),
            ..RawArea::default()
        };

        let refused = AreaSpec::parse(raw, &zones).unwrap_err();
        let spec = AreaSpec {
            polygons: vec![bow_tie],
            ..AreaSpec::default()
        };
        let area = NoticeArea::of(&spec, &zones);

        assert_eq!(refused.field.as_deref(), Some("area.polygons[0]"));
        assert_eq!(area.shapes.len(), 1);
    }

    #[test]
    fn an_area_may_not_hold_more_points_than_its_checks_can_afford() {
        let zones = ZoneIndex::empty();
        let raw = RawArea {
            polygons: Some(vec![round_ring(MAX_POLYGON_POINTS); 3]),
            ..RawArea::default()
        };

        let refused = AreaSpec::parse(raw, &zones).unwrap_err();

        assert_eq!(refused.field.as_deref(), Some("area.polygons"));
        assert!(refused.message.contains("10000"), "{}", refused.message);
    }
}
