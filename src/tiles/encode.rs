//! One vector tile: Web Mercator tile geometry, simplification per zoom, clipping, and the
//! Mapbox Vector Tile encoding of the result.

use std::f64::consts::PI;

use geo::orient::{Direction, Orient};
use geo::{
    Area, BooleanOps, BoundingRect, Coord, Geometry, LineString, MapCoords, MultiPolygon, Point,
    Polygon, Rect, RemoveRepeatedPoints, Simplify, coord,
};
use geozero::mvt::tile::{self, GeomType};
use geozero::mvt::{Message, TagsBuilder, TileValue};
use geozero::{ToMvt, mvt::Tile};

/// Tile coordinate units across one tile (the MVT default).
pub const EXTENT: u32 = 4096;
/// Tile units drawn beyond each edge, so outlines and labels meet cleanly at tile borders.
const BUFFER: f64 = 64.0;
/// Vertices closer than this (in tile units: 16 units is one pixel of a 256-pixel tile) to the
/// simplified line are dropped; nobody sees them.
const SIMPLIFY_UNITS: f64 = 8.0;
/// Rings smaller than this many square tile units after simplification are invisible.
const MIN_RING_AREA: f64 = 16.0;

/// The address of a tile in the usual XYZ scheme (y grows southwards).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileId {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

impl TileId {
    /// `None` when x or y is outside the `2^z × 2^z` grid.
    pub fn new(z: u8, x: u32, y: u32) -> Option<TileId> {
        let side = 1u64 << z;
        (z <= 30 && u64::from(x) < side && u64::from(y) < side).then_some(TileId { z, x, y })
    }

    /// The tile holding a longitude/latitude at zoom `z` (clamped to the grid).
    pub fn containing(z: u8, lon: f64, lat: f64) -> TileId {
        let probe = TileId { z, x: 0, y: 0 };
        let at = probe.project(coord! { x: lon, y: lat });
        let last = (1u32 << z) - 1;
        let cell = |units: f64| ((units / f64::from(EXTENT)).floor().max(0.0) as u32).min(last);
        TileId {
            z,
            x: cell(at.x),
            y: cell(at.y),
        }
    }

    /// The tile's longitude/latitude box, widened by the buffer.
    pub fn buffered_bounds(&self) -> Rect<f64> {
        let pad = BUFFER / f64::from(EXTENT);
        let (west, north) =
            tile_to_lon_lat(self.z, f64::from(self.x) - pad, f64::from(self.y) - pad);
        let (east, south) = tile_to_lon_lat(
            self.z,
            f64::from(self.x) + 1.0 + pad,
            f64::from(self.y) + 1.0 + pad,
        );
        Rect::new(coord! { x: west, y: south }, coord! { x: east, y: north })
    }

    /// A longitude/latitude in this tile's coordinate units (y downwards).
    fn project(&self, lon_lat: Coord<f64>) -> Coord<f64> {
        self.tile_units(to_world(lon_lat))
    }

    /// A point in world units (see [`to_world`]) in this tile's coordinate units.
    fn tile_units(&self, world: Coord<f64>) -> Coord<f64> {
        let tiles = f64::from(1u32 << self.z);
        coord! {
            x: (world.x * tiles - f64::from(self.x)) * f64::from(EXTENT),
            y: (world.y * tiles - f64::from(self.y)) * f64::from(EXTENT),
        }
    }
}

/// Web Mercator in world units: x and y from 0 to 1 across the whole map, y southwards. Zones
/// are projected once; a tile then only scales and shifts them.
pub(super) fn to_world(lon_lat: Coord<f64>) -> Coord<f64> {
    let lat = lon_lat.y.clamp(-85.051_13, 85.051_13).to_radians();
    coord! {
        x: (lon_lat.x + 180.0) / 360.0,
        y: (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0,
    }
}

/// A longitude/latitude shape in world units.
pub(super) fn world_shape(shape: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    shape.map_coords(to_world)
}

/// A world-unit shape with the vertices dropped that nobody sees at zoom `z`.
pub(super) fn simplified_for_zoom(world: &MultiPolygon<f64>, z: u8) -> MultiPolygon<f64> {
    let tolerance = SIMPLIFY_UNITS / (f64::from(EXTENT) * f64::from(1u32 << z));
    world.simplify(tolerance)
}

fn tile_to_lon_lat(z: u8, x: f64, y: f64) -> (f64, f64) {
    let n = f64::from(1u32 << z);
    let lon = x / n * 360.0 - 180.0;
    let lat = (PI * (1.0 - 2.0 * y / n)).sinh().atan().to_degrees();
    (lon, lat)
}

/// One feature's properties, in the order they are written.
pub(super) type Properties<'a> = &'a [(&'static str, TileValue)];

/// Builds one layer of a tile, feature by feature.
pub struct LayerBuilder {
    tile: TileId,
    name: &'static str,
    tags: TagsBuilder,
    features: Vec<tile::Feature>,
}

impl LayerBuilder {
    pub fn new(tile: TileId, name: &'static str) -> LayerBuilder {
        LayerBuilder {
            tile,
            name,
            tags: TagsBuilder::new(),
            features: Vec::new(),
        }
    }

    /// Adds the part of `shape` (longitude/latitude) that shows in this tile, if any does.
    pub fn add_polygons(&mut self, id: u64, shape: &MultiPolygon<f64>, properties: Properties) {
        let prepared = simplified_for_zoom(&world_shape(shape), self.tile.z);
        self.add_prepared(id, &prepared, properties);
    }

    /// Adds the part of a shape already in world units and simplified for this zoom
    /// ([`simplified_for_zoom`]) that shows in this tile, if any does.
    pub fn add_prepared(&mut self, id: u64, prepared: &MultiPolygon<f64>, properties: Properties) {
        if let Some(geometry) = tile_polygons(self.tile, prepared) {
            self.push(
                id,
                Geometry::MultiPolygon(geometry),
                GeomType::Polygon,
                properties,
            );
        }
    }

    /// Adds a point (longitude/latitude) if it falls inside this tile proper, so a label is
    /// placed by exactly one tile.
    pub fn add_point(&mut self, id: u64, at: Point<f64>, properties: Properties) {
        let projected = self.tile.project(at.0);
        let inside = (0.0..f64::from(EXTENT)).contains(&projected.x)
            && (0.0..f64::from(EXTENT)).contains(&projected.y);
        if inside {
            let point = Point::from(coord! { x: projected.x.floor(), y: projected.y.floor() });
            self.push(id, Geometry::Point(point), GeomType::Point, properties);
        }
    }

    fn push(&mut self, id: u64, geometry: Geometry<f64>, kind: GeomType, properties: Properties) {
        let Ok(mut feature) = geometry.to_mvt_unscaled() else {
            return;
        };
        feature.id = Some(id);
        feature.set_type(kind);
        for (key, value) in properties {
            let (key, value) = self.tags.insert_ref(key, value.clone());
            feature.tags.extend([key, value]);
        }
        self.features.push(feature);
    }

    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    fn finish(self) -> tile::Layer {
        let (keys, values) = self.tags.into_tags();
        tile::Layer {
            version: 2,
            name: self.name.to_owned(),
            features: self.features,
            keys,
            values: values.into_iter().map(Into::into).collect(),
            extent: Some(EXTENT),
        }
    }
}

/// The encoded tile (uncompressed protobuf), skipping empty layers.
pub fn encode(layers: Vec<LayerBuilder>) -> Vec<u8> {
    let tile = Tile {
        layers: layers
            .into_iter()
            .filter(|layer| !layer.is_empty())
            .map(LayerBuilder::finish)
            .collect(),
    };
    tile.encode_to_vec()
}

/// A prepared shape in tile units, cut to the buffered tile, with exterior rings of positive
/// area as the MVT specification wants (y downwards).
fn tile_polygons(tile: TileId, prepared: &MultiPolygon<f64>) -> Option<MultiPolygon<f64>> {
    // Parts wholly outside the tile are dropped before any cutting.
    let window = Rect::new(
        coord! { x: -BUFFER, y: -BUFFER },
        coord! { x: f64::from(EXTENT) + BUFFER, y: f64::from(EXTENT) + BUFFER },
    );
    let parts: Vec<Polygon<f64>> = prepared
        .0
        .iter()
        .map(|polygon| polygon.map_coords(|c| tile.tile_units(c)))
        .filter(|polygon| {
            polygon
                .bounding_rect()
                .is_some_and(|b| overlaps(&window, &b))
        })
        .collect();
    let visible = MultiPolygon::new(parts);
    let bounds = visible.bounding_rect()?;
    let clipped = if contains_rect(&window, &bounds) {
        visible
    } else if overlaps(&window, &bounds) {
        visible.intersection(&MultiPolygon::new(vec![window.to_polygon()]))
    } else {
        return None;
    };
    let snapped = snap_to_grid(clipped);
    (!snapped.0.is_empty()).then(|| snapped.orient(Direction::Default))
}

/// Whole tile units, as the encoding stores them; rings that vanish on the grid are dropped.
fn snap_to_grid(shape: MultiPolygon<f64>) -> MultiPolygon<f64> {
    let round = |ring: &LineString<f64>| -> Option<LineString<f64>> {
        let snapped = ring
            .map_coords(|c| coord! { x: c.x.round(), y: c.y.round() })
            .remove_repeated_points();
        let visible = snapped.0.len() >= 4
            && Polygon::new(snapped.clone(), vec![]).unsigned_area() >= MIN_RING_AREA;
        visible.then_some(snapped)
    };
    let polygons = shape
        .0
        .iter()
        .filter_map(|polygon| {
            let exterior = round(polygon.exterior())?;
            let holes = polygon.interiors().iter().filter_map(round).collect();
            Some(Polygon::new(exterior, holes))
        })
        .collect();
    MultiPolygon::new(polygons)
}

fn contains_rect(outer: &Rect<f64>, inner: &Rect<f64>) -> bool {
    outer.min().x <= inner.min().x
        && outer.min().y <= inner.min().y
        && outer.max().x >= inner.max().x
        && outer.max().y >= inner.max().y
}

fn overlaps(a: &Rect<f64>, b: &Rect<f64>) -> bool {
    a.min().x <= b.max().x
        && b.min().x <= a.max().x
        && a.min().y <= b.max().y
        && b.min().y <= a.max().y
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn decode(bytes: &[u8]) -> Tile {
        Tile::decode(bytes).unwrap()
    }

    #[test]
    fn a_tile_outside_the_grid_does_not_exist() {
        assert!(TileId::new(2, 3, 3).is_some());
        assert!(TileId::new(2, 4, 0).is_none());
        assert!(TileId::new(0, 0, 1).is_none());
    }

    #[test]
    fn a_polygon_inside_the_tile_is_encoded_with_its_properties() {
        let tile = TileId::new(8, 135, 93).unwrap();
        let bounds = tile.buffered_bounds();
        let (w, s) = (bounds.min().x + 0.1, bounds.min().y + 0.1);
        let square: MultiPolygon<f64> = polygon![
            (x: w, y: s), (x: w + 0.5, y: s), (x: w + 0.5, y: s + 0.5), (x: w, y: s + 0.5),
        ]
        .into();
        let mut layer = LayerBuilder::new(tile, "zones");
        layer.add_polygons(7, &square, &[("name", TileValue::Str("Budrio".into()))]);

        let decoded = decode(&encode(vec![layer]));

        assert_eq!(decoded.layers.len(), 1);
        let layer = &decoded.layers[0];
        assert_eq!(layer.name, "zones");
        assert_eq!(layer.features[0].id, Some(7));
        assert_eq!(layer.keys, ["name"]);
        assert!(!layer.features[0].geometry.is_empty());
    }

    #[test]
    fn a_polygon_far_larger_than_the_tile_is_cut_to_the_buffered_tile() {
        let tile = TileId::new(10, 545, 370).unwrap();
        let huge: MultiPolygon<f64> = polygon![
            (x: 5.0, y: 35.0), (x: 20.0, y: 35.0), (x: 20.0, y: 48.0), (x: 5.0, y: 48.0),
        ]
        .into();

        let cut = tile_polygons(tile, &simplified_for_zoom(&world_shape(&huge), tile.z)).unwrap();

        let rect = cut.bounding_rect().unwrap();
        assert!(rect.min().x >= -BUFFER && rect.max().x <= f64::from(EXTENT) + BUFFER);
        assert!(cut.signed_area() > 0.0, "exterior rings have positive area");
    }

    #[test]
    fn labels_are_placed_only_by_the_tile_that_holds_them() {
        let tile = TileId::new(6, 34, 23).unwrap();
        let bounds = tile.buffered_bounds();
        let inside = Point::new(bounds.center().x, bounds.center().y);
        let outside = Point::new(bounds.max().x + 1.0, bounds.center().y);
        let mut layer = LayerBuilder::new(tile, "zone_labels");

        layer.add_point(1, inside, &[]);
        layer.add_point(2, outside, &[]);

        assert_eq!(layer.features.len(), 1);
    }
}
