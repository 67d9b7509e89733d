//! Zones: the administrative areas reports and notices are placed in, and the point lookup.
//!
//! Point lookups read an edge grid over every zone of every level ([`grid`]); area queries read
//! an R-tree of bounding boxes. The index is immutable: a reload builds a new one and swaps it in.

mod demo;
mod display;
mod grid;
mod import;
mod place_ref;
mod places;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use geo::{Area, BoundingRect, MultiPolygon, Rect, coord};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

pub use demo::demo_zone_sets;
pub use display::{DisplayQuery, feature_collection};
pub use import::{
    ImportError, ImportSpec, ZoneRecord, read_feature_collection, records_from, to_multi_polygon,
};
pub use place_ref::{Location, ZoneRef};
pub use places::{Place, search_key};

/// One zone with its exact boundary.
#[derive(Debug, Clone)]
pub struct Zone {
    pub id: String,
    pub level: String,
    pub name: String,
    pub parent_id: Option<String>,
    /// WGS84, x = longitude, y = latitude.
    pub geometry: MultiPolygon<f64>,
    /// In square degrees; only used to order nested zones from the smallest.
    area: f64,
}

impl Zone {
    pub fn new(
        id: String,
        level: String,
        name: String,
        parent_id: Option<String>,
        geometry: MultiPolygon<f64>,
    ) -> Zone {
        let area = geometry.unsigned_area();
        Zone {
            id,
            level,
            name,
            parent_id,
            geometry,
            area,
        }
    }

    pub fn as_ref(&self) -> ZoneRef {
        ZoneRef {
            id: self.id.clone(),
            level: self.level.clone(),
            name: self.name.clone(),
        }
    }

    pub fn bounding_rect(&self) -> Option<Rect<f64>> {
        self.geometry.bounding_rect()
    }
}

type Envelope = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// An immutable index over every zone of every level.
pub struct ZoneIndex {
    zones: Vec<Zone>,
    tree: RTree<Envelope>,
    grid: grid::EdgeGrid,
    by_id: HashMap<String, usize>,
    /// Each zone's name as people type it, for [`ZoneIndex::find_places`].
    search_keys: Vec<String>,
}

impl ZoneIndex {
    pub fn new(zones: Vec<Zone>) -> ZoneIndex {
        let envelopes = zones
            .iter()
            .enumerate()
            .filter_map(|(slot, zone)| {
                let rect = zone.bounding_rect()?;
                let (min, max) = (rect.min(), rect.max());
                Some(GeomWithData::new(
                    Rectangle::from_corners([min.x, min.y], [max.x, max.y]),
                    slot,
                ))
            })
            .collect();
        let by_id = zones
            .iter()
            .enumerate()
            .map(|(slot, zone)| (zone.id.clone(), slot))
            .collect();
        let search_keys = zones.iter().map(|zone| search_key(&zone.name)).collect();
        let mut smallest_first: Vec<usize> = (0..zones.len()).collect();
        smallest_first.sort_by(|&a, &b| zones[a].area.total_cmp(&zones[b].area));
        ZoneIndex {
            tree: RTree::bulk_load(envelopes),
            grid: grid::EdgeGrid::new(&zones, &smallest_first),
            by_id,
            search_keys,
            zones,
        }
    }

    pub fn empty() -> ZoneIndex {
        ZoneIndex::new(Vec::new())
    }

    /// Every zone containing the point, smallest first (municipality, then province, region).
    pub fn locate(&self, location: Location) -> Vec<&Zone> {
        let point = coord! { x: location.lon, y: location.lat };
        // A point on a boundary counts as inside.
        self.grid
            .locate(point, |slot| {
                grid::contains(&self.zones[slot].geometry, point)
            })
            .map(|slot| &self.zones[slot])
            .collect()
    }

    /// Heap bytes of the point lookup's grid, beside the zones' own polygons.
    pub fn lookup_bytes(&self) -> usize {
        self.grid.heap_bytes()
    }

    /// [`ZoneIndex::locate`] as the references a report keeps.
    pub fn zone_refs(&self, location: Location) -> Vec<ZoneRef> {
        self.locate(location)
            .into_iter()
            .map(Zone::as_ref)
            .collect()
    }

    /// Zones whose bounding box meets `rect`, in no particular order.
    pub fn in_envelope(&self, rect: Rect<f64>) -> impl Iterator<Item = &Zone> {
        self.slots_in_envelope(rect).map(|slot| &self.zones[slot])
    }

    /// Positions in [`ZoneIndex::zones`] of the zones whose bounding box meets `rect`.
    pub fn slots_in_envelope(&self, rect: Rect<f64>) -> impl Iterator<Item = usize> {
        let envelope =
            AABB::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y]);
        self.tree
            .locate_in_envelope_intersecting(&envelope)
            .map(|envelope| envelope.data)
    }

    /// The box around every zone (from the R-tree's root: no vertex is read); `None` when
    /// there are no zones.
    pub fn bounds(&self) -> Option<Rect<f64>> {
        if self.tree.size() == 0 {
            return None;
        }
        let envelope = self.tree.root().envelope();
        let ([west, south], [east, north]) = (envelope.lower(), envelope.upper());
        Some(Rect::new(
            coord! { x: west, y: south },
            coord! { x: east, y: north },
        ))
    }

    pub fn get(&self, id: &str) -> Option<&Zone> {
        self.by_id.get(id).map(|&slot| &self.zones[slot])
    }

    pub fn zones(&self) -> &[Zone] {
        &self.zones
    }

    pub fn len(&self) -> usize {
        self.zones.len()
    }

    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }
}

/// The current index, shared by every channel; replaced whole when zones are reloaded.
#[derive(Clone)]
pub struct ZoneDirectory {
    /// Std lock: held only to clone or swap the `Arc`, never across an `.await`.
    current: Arc<RwLock<Arc<ZoneIndex>>>,
}

impl ZoneDirectory {
    pub fn new(index: ZoneIndex) -> ZoneDirectory {
        ZoneDirectory {
            current: Arc::new(RwLock::new(Arc::new(index))),
        }
    }

    pub fn snapshot(&self) -> Arc<ZoneIndex> {
        self.current.read().expect("zone directory lock").clone()
    }

    pub fn replace(&self, index: ZoneIndex) {
        *self.current.write().expect("zone directory lock") = Arc::new(index);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_index() -> ZoneIndex {
        let zones = demo_zone_sets()
            .unwrap()
            .into_iter()
            .flat_map(|(_, records)| records)
            .map(|record| record.zone);
        ZoneIndex::new(zones.collect())
    }

    #[test]
    fn a_point_is_placed_in_every_level_from_the_smallest_zone_up() {
        let index = demo_index();

        let ids: Vec<String> = index
            .zone_refs(Location {
                lat: 44.33,
                lon: 11.40,
            })
            .into_iter()
            .map(|z| z.id)
            .collect();

        assert_eq!(ids, ["demo-003", "demo-d1"]);
    }

    #[test]
    fn the_bounds_hold_every_zone_and_no_zones_have_none() {
        let bounds = demo_index().bounds().unwrap();

        assert!(
            bounds.min().x <= 11.138 && bounds.max().x >= 11.462,
            "{bounds:?}"
        );
        assert!(
            bounds.min().y <= 44.29 && bounds.max().y >= 44.515,
            "{bounds:?}"
        );
        assert!(ZoneIndex::empty().bounds().is_none());
    }

    #[test]
    fn a_point_outside_every_bounding_box_or_polygon_is_in_no_zone() {
        let index = demo_index();

        assert!(
            index
                .locate(Location {
                    lat: 43.0,
                    lon: 14.0
                })
                .is_empty()
        );
        // Inside the district's bounding box but outside its bent boundary.
        assert!(
            index
                .locate(Location {
                    lat: 44.511,
                    lon: 11.151
                })
                .is_empty()
        );
    }
}
