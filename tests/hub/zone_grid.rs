//! The point lookup's grid against the exact polygon test, on Italy's three real levels.

use std::collections::BTreeSet;

use geo::coordinate_position::CoordPos;
use geo::{Area, CoordinatePosition, Rect, coord};
use vedetta::zones::{
    ImportSpec, Location, Zone, ZoneIndex, read_feature_collection, records_from,
};

use crate::support::italy::shared_data;

fn italy() -> ZoneIndex {
    let levels = [
        ("regions", "region", "reg_istat_code", "reg_name"),
        ("provinces", "province", "prov_istat_code", "prov_name"),
        ("municipalities", "municipality", "com_istat_code", "name"),
    ];
    let zones = levels.into_iter().flat_map(|(file, level, id, name)| {
        let spec = ImportSpec {
            level: level.into(),
            id_prop: id.into(),
            name_prop: name.into(),
            parent_prop: None,
        };
        let collection = read_feature_collection(&shared_data(&format!("{file}.geojson.gz")));
        records_from(collection.unwrap(), &spec).unwrap()
    });
    ZoneIndex::new(zones.map(|record| record.zone).collect())
}

/// Every zone holding the point by the exact winding test, found through the bounding boxes.
fn exactly(index: &ZoneIndex, lon: f64, lat: f64) -> BTreeSet<(String, String)> {
    let point = coord! { x: lon, y: lat };
    index
        .in_envelope(Rect::new(point, point))
        .filter(|zone| zone.geometry.coordinate_position(&point) != CoordPos::Outside)
        .map(|zone| (zone.level.clone(), zone.id.clone()))
        .collect()
}

/// Points where a grid could go wrong: random ones, every vertex of a sample of zones, the
/// midpoints of their edges, and points a hair to either side of those.
fn hard_points(index: &ZoneIndex) -> Vec<(f64, f64)> {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut unit = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut points: Vec<(f64, f64)> = (0..20_000)
        .map(|_| (6.6 + unit() * 12.0, 35.5 + unit() * 11.6))
        .collect();
    let sample: Vec<&Zone> = index.zones().iter().step_by(40).collect();
    for zone in sample {
        for polygon in &zone.geometry {
            for pair in polygon.exterior().0.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                let middle = ((a.x + b.x) / 2.0, (a.y + b.y) / 2.0);
                points.extend([
                    (a.x, a.y),
                    middle,
                    (middle.0 + 1e-10, middle.1),
                    (a.x, a.y - 1e-10),
                ]);
            }
        }
    }
    points
}

#[test]
fn the_grid_finds_exactly_the_zones_the_polygons_hold_even_on_their_boundaries() {
    let index = italy();
    let points = hard_points(&index);
    assert!(points.len() > 100_000, "{}", points.len());
    for (lon, lat) in points {
        let found = index.locate(Location { lat, lon });
        let ids: BTreeSet<(String, String)> = found
            .iter()
            .map(|zone| (zone.level.clone(), zone.id.clone()))
            .collect();
        assert_eq!(ids, exactly(&index, lon, lat), "at {lat},{lon}");
        assert_eq!(ids.len(), found.len(), "no zone twice at {lat},{lon}");
        let areas: Vec<f64> = found
            .iter()
            .map(|zone| zone.geometry.unsigned_area())
            .collect();
        assert!(
            areas.is_sorted(),
            "smallest first at {lat},{lon}: {areas:?}"
        );
    }
}
