//! The zone layer as vector tiles, cut from one zone index: the level that fits each zoom, with
//! the coarser levels' outlines and one label point per zone.

use std::sync::Arc;

use geo::{Centroid, Contains, InteriorPoint, Point};
use geozero::mvt::TileValue;
use sha2::{Digest, Sha256};

use super::encode::{LayerBuilder, TileId, encode};
use super::levels::Levels;
use crate::zones::{Zone, ZoneIndex};

/// Layer of zone polygons: `id`, `name`, `level`, and `fits` (true for the level of this zoom).
pub const ZONES_LAYER: &str = "zones";
/// Layer of label points for the level of this zoom: `id`, `name`, `level`.
pub const LABELS_LAYER: &str = "zone_labels";

/// Everything needed to cut tiles from one zone index; rebuilt when the zones change.
pub struct ZoneTiles {
    index: Arc<ZoneIndex>,
    levels: Levels,
    /// Rank (0 = coarsest) of each zone's level, by slot in the index.
    ranks: Vec<usize>,
    /// Where each zone's name goes: its centroid when that is inside it, else a point inside.
    label_points: Vec<Option<Point<f64>>>,
    version: String,
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
        let version = version_of(&index);
        ZoneTiles {
            index,
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
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn levels(&self) -> &Levels {
        &self.levels
    }

    /// The index of every zone, for maps that want to know where the zones are.
    pub fn index(&self) -> &ZoneIndex {
        &self.index
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
            zones.add_polygons(slot as u64, &zone.geometry, &properties(zone, Some(fits)));
            if let (true, Some(point)) = (fits, self.label_points[slot]) {
                labels.add_point(slot as u64, point, &properties(zone, None));
            }
        }
        encode(vec![zones, labels])
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
