//! The zone layer as vector tiles, cut from one zone index: the level that fits each zoom, with
//! the coarser levels' outlines and one label point per zone.

use std::sync::Arc;

use geo::{Centroid, Contains, CoordsIter, InteriorPoint, MultiPolygon, Point};
use geozero::mvt::TileValue;
use quick_cache::sync::Cache;
use sha2::{Digest, Sha256};

use super::encode::{LayerBuilder, TileId, encode, simplified_for_zoom, world_shape};
use super::levels::Levels;
use crate::zones::{Zone, ZoneIndex};

/// Layer of zone polygons: `id`, `name`, `level`, and `fits` (true for the level of this zoom).
pub const ZONES_LAYER: &str = "zones";
/// Layer of label points for the level of this zoom: `id`, `name`, `level`.
pub const LABELS_LAYER: &str = "zone_labels";

/// Vertices of simplified zone outlines kept for reuse by the next tiles of the same zoom.
const SIMPLIFIED_VERTICES: u64 = 4_000_000;

/// Everything needed to cut tiles from one zone index; rebuilt when the zones change.
pub struct ZoneTiles {
    index: Arc<ZoneIndex>,
    /// Each zone in Web Mercator world units, projected once.
    world: Vec<MultiPolygon<f64>>,
    /// Each zone simplified for a zoom, by (slot, zoom): a region's outline is simplified once
    /// for all the tiles of a zoom it crosses, not once per tile.
    simplified: Cache<(usize, u8), Arc<MultiPolygon<f64>>, VertexWeight>,
    levels: Levels,
    /// Rank (0 = coarsest) of each zone's level, by slot in the index.
    ranks: Vec<usize>,
    /// Where each zone's name goes: its centroid when that is inside it, else a point inside.
    label_points: Vec<Option<Point<f64>>>,
    version: Arc<str>,
}

impl ZoneTiles {
    /// Walks every vertex (for the version and label points): run it off the async workers.
    pub fn new(index: Arc<ZoneIndex>) -> ZoneTiles {
        let levels = Levels::of(&index);
        let ranks = index
            .zones()
            .iter()
            .map(|zone| levels.rank_of(&zone.level).unwrap_or(0))
            .collect();
        let label_points = index.zones().iter().map(label_point).collect();
        let version = Arc::from(version_of(&index));
        let world = index
            .zones()
            .iter()
            .map(|zone| world_shape(&zone.geometry))
            .collect();
        ZoneTiles {
            index,
            world,
            simplified: Cache::with_weighter(16_384, SIMPLIFIED_VERTICES, VertexWeight),
            levels,
            ranks,
            label_points,
            version,
        }
    }

    /// Whether these tiles were cut from `index`.
    pub fn is_of(&self, index: &Arc<ZoneIndex>) -> bool {
        Arc::ptr_eq(&self.index, index)
    }

    /// Changes whenever any zone does, so tile URLs carrying it can be cached forever.
    pub fn version(&self) -> &Arc<str> {
        &self.version
    }

    pub fn levels(&self) -> &Levels {
        &self.levels
    }

    /// The index of every zone, for maps that want to know where the zones are.
    pub fn index(&self) -> &ZoneIndex {
        &self.index
    }

    /// Whether no zone comes near the tile: such a tile is empty and costs a look in the
    /// R-tree only. Most of the world is like that.
    pub fn is_far_from_zones(&self, id: TileId) -> bool {
        self.index
            .slots_in_envelope(id.buffered_bounds())
            .next()
            .is_none()
    }

    /// The encoded tile; an empty tile where there are no zones.
    pub fn tile(&self, id: TileId) -> Vec<u8> {
        let Some(fitting) = self.levels.fitting_rank(id.z) else {
            return Vec::new();
        };
        let mut zones = LayerBuilder::new(id, ZONES_LAYER);
        let mut labels = LayerBuilder::new(id, LABELS_LAYER);
        let zone_slots = self.index.slots_in_envelope(id.buffered_bounds());
        for slot in zone_slots.filter(|&slot| self.ranks[slot] <= fitting) {
            let zone = &self.index.zones()[slot];
            let fits = self.ranks[slot] == fitting;
            let outline = self.simplified(slot, id.z);
            zones.add_prepared(slot as u64, &outline, &properties(zone, Some(fits)));
            if let (true, Some(point)) = (fits, self.label_points[slot]) {
                labels.add_point(slot as u64, point, &properties(zone, None));
            }
        }
        encode(vec![zones, labels])
    }
}

impl ZoneTiles {
    fn simplified(&self, slot: usize, z: u8) -> Arc<MultiPolygon<f64>> {
        self.simplified
            .get_or_insert_with(&(slot, z), || {
                Ok::<_, std::convert::Infallible>(Arc::new(simplified_for_zoom(
                    &self.world[slot],
                    z,
                )))
            })
            .unwrap_or_else(|never| match never {})
    }
}

#[derive(Clone)]
struct VertexWeight;

impl quick_cache::Weighter<(usize, u8), Arc<MultiPolygon<f64>>> for VertexWeight {
    fn weight(&self, _key: &(usize, u8), shape: &Arc<MultiPolygon<f64>>) -> u64 {
        shape.coords_count() as u64 + 1
    }
}

fn properties(zone: &Zone, fits: Option<bool>) -> Vec<(&'static str, TileValue)> {
    let mut properties = vec![
        ("id", TileValue::Str(zone.id.clone())),
        ("name", TileValue::Str(zone.name.clone())),
        ("level", TileValue::Str(zone.level.clone())),
    ];
    if let Some(fits) = fits {
        properties.push(("fits", TileValue::Bool(fits)));
    }
    properties
}

/// A point inside the zone to hang its name on; the centroid reads best when it is inside.
fn label_point(zone: &Zone) -> Option<Point<f64>> {
    zone.geometry
        .centroid()
        .filter(|centroid| zone.geometry.contains(centroid))
        .or_else(|| zone.geometry.interior_point())
}

/// A digest of every zone's identity, names and vertices.
fn version_of(index: &ZoneIndex) -> String {
    let mut digest = Sha256::new();
    for zone in index.zones() {
        for text in [&zone.id, &zone.level, &zone.name] {
            digest.update(text.as_bytes());
            digest.update([0]);
        }
        for polygon in &zone.geometry {
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                digest.update((ring.0.len() as u64).to_le_bytes());
                for point in &ring.0 {
                    digest.update(point.x.to_le_bytes());
                    digest.update(point.y.to_le_bytes());
                }
            }
        }
    }
    digest.finalize()[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
