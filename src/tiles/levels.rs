//! Which zone level a map shows at each zoom: the finest level whose typical zone is still big
//! enough on screen to be read (regions, then provinces, then municipalities).

use std::collections::BTreeMap;

use geo::BoundingRect;
use serde::Serialize;

use crate::zones::ZoneIndex;

/// The deepest zoom the hub cuts zone tiles for; maps draw deeper zooms from these.
pub const MAX_ZOOM: u8 = 14;
/// A level fits a zoom once its median zone is at least this many pixels across.
const MIN_PIXELS_ACROSS: f64 = 48.0;
/// Pixels across a tile.
const TILE_PIXELS: f64 = 256.0;

/// The zooms at which a level is the one shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelRange {
    pub level: String,
    pub min_zoom: u8,
    pub max_zoom: u8,
}

/// The levels of a zone index, coarsest first, each with the zooms it is shown at.
#[derive(Debug, Clone, Default)]
pub struct Levels {
    ranges: Vec<LevelRange>,
    fitting: Vec<usize>,
}

impl Levels {
    pub fn of(index: &ZoneIndex) -> Levels {
        let widths = median_widths(index);
        let mut coarsest_first: Vec<(String, f64)> = widths.into_iter().collect();
        coarsest_first.sort_by(|a, b| b.1.total_cmp(&a.1));
        let fitting: Vec<usize> = (0..=MAX_ZOOM)
            .map(|zoom| {
                let pixels = |degrees: f64| degrees / 360.0 * TILE_PIXELS * f64::from(1u32 << zoom);
                coarsest_first
                    .iter()
                    .rposition(|(_, width)| pixels(*width) >= MIN_PIXELS_ACROSS)
                    .unwrap_or(0)
            })
            .collect();
        let ranges = coarsest_first
            .iter()
            .enumerate()
            .filter_map(|(rank, (level, _))| {
                let zooms: Vec<u8> = (0..=MAX_ZOOM)
                    .filter(|&z| fitting[usize::from(z)] == rank)
                    .collect();
                Some(LevelRange {
                    level: level.clone(),
                    min_zoom: *zooms.first()?,
                    max_zoom: *zooms.last()?,
                })
            })
            .collect();
        let fitting = if coarsest_first.is_empty() {
            Vec::new()
        } else {
            fitting
        };
        Levels {
            ranges: Self::ranked(ranges, &coarsest_first),
            fitting,
        }
    }

    /// Keeps every level in rank order, even one no zoom fits (it is then never shown).
    fn ranked(shown: Vec<LevelRange>, coarsest_first: &[(String, f64)]) -> Vec<LevelRange> {
        coarsest_first
            .iter()
            .map(|(level, _)| {
                shown
                    .iter()
                    .find(|range| &range.level == level)
                    .cloned()
                    .unwrap_or(LevelRange {
                        level: level.clone(),
                        min_zoom: MAX_ZOOM + 1,
                        max_zoom: MAX_ZOOM + 1,
                    })
            })
            .collect()
    }

    /// Levels coarsest first, with the zooms each is shown at.
    pub fn ranges(&self) -> impl Iterator<Item = &LevelRange> {
        self.ranges
            .iter()
            .filter(|range| range.min_zoom <= MAX_ZOOM)
    }

    /// The rank (0 = coarsest) of the level shown at `zoom`, if there are zones at all.
    pub fn fitting_rank(&self, zoom: u8) -> Option<usize> {
        self.fitting.get(usize::from(zoom.min(MAX_ZOOM))).copied()
    }

    pub fn rank_of(&self, level: &str) -> Option<usize> {
        self.ranges.iter().position(|range| range.level == level)
    }
}

/// The median width in degrees (the larger of the two sides) of each level's zones.
fn median_widths(index: &ZoneIndex) -> BTreeMap<String, f64> {
    let mut by_level: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for zone in index.zones() {
        if let Some(rect) = zone.geometry.bounding_rect() {
            let width = rect.width().max(rect.height());
            by_level.entry(zone.level.clone()).or_default().push(width);
        }
    }
    by_level
        .into_iter()
        .map(|(level, mut widths)| {
            widths.sort_by(f64::total_cmp);
            (level, widths[widths.len() / 2])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zones::{Zone, ZoneIndex};
    use geo::{MultiPolygon, Rect, coord};

    fn square(id: &str, level: &str, size: f64) -> Zone {
        let rect = Rect::new(
            coord! { x: 11.0, y: 44.0 },
            coord! { x: 11.0 + size, y: 44.0 + size },
        );
        let shape = MultiPolygon::new(vec![rect.to_polygon()]);
        Zone::new(id.into(), level.into(), id.into(), None, shape)
    }

    #[test]
    fn coarse_levels_show_at_low_zooms_and_fine_ones_as_the_map_zooms_in() {
        let index = ZoneIndex::new(vec![
            square("r", "region", 3.0),
            square("p", "province", 0.7),
            square("m", "municipality", 0.1),
        ]);

        let levels = Levels::of(&index);

        let names: Vec<&str> = levels.ranges().map(|r| r.level.as_str()).collect();
        assert_eq!(names, ["region", "province", "municipality"]);
        assert_eq!(levels.fitting_rank(3), Some(0));
        assert_eq!(levels.fitting_rank(8), Some(1));
        assert_eq!(levels.fitting_rank(12), Some(2));
        let ranges: Vec<(u8, u8)> = levels.ranges().map(|r| (r.min_zoom, r.max_zoom)).collect();
        assert_eq!(ranges, [(0, 6), (7, 9), (10, MAX_ZOOM)]);
    }

    #[test]
    fn no_zones_means_no_levels() {
        let levels = Levels::of(&ZoneIndex::empty());
        assert_eq!(levels.ranges().count(), 0);
        assert_eq!(levels.fitting_rank(5), None);
    }
}
