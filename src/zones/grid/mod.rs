//! The point lookup's edge grid: for each cell, the zones that cover it whole and the boundary edges that cross it.
//!
//! A uniform grid over every zone. A cell's entry for a zone's part (one polygon) is either
//! "inside" (no boundary crosses the cell and its centre is inside) or "boundary": the part's
//! edges that meet the cell and whether the centre is inside. A point in a boundary cell is
//! inside when the segment from the centre to it crosses those edges an odd number of times,
//! so a lookup reads a handful of edges instead of the whole polygon. Any touching or collinear
//! case falls back to the exact winding test on the zone's polygons, so the answer is the
//! exact one for valid polygons (a ring that crosses itself may be read differently).

use geo::coordinate_position::CoordPos;
use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{Coord, CoordinatePosition, MultiPolygon, coord};

mod build;
#[cfg(test)]
mod tests;

/// Cells per boundary edge: measured on Italy's municipalities, where 2 keeps most points of a
/// municipality in cells it covers whole while the index stays small.
const CELLS_PER_EDGE: usize = 2;
const MAX_CELLS: usize = 1 << 22;
const MIN_CELLS: usize = 256;
/// Edges are assigned to every cell within this fraction of a cell, so a point whose cell was
/// rounded across a border still finds every edge near it.
const PAD: f64 = 1e-6;

const CENTRE_INSIDE: u32 = 1 << 31;
const ALWAYS_EXACT: u32 = 1 << 30;
const COUNT_MASK: u32 = ALWAYS_EXACT - 1;

#[derive(Debug, Clone, Copy)]
struct Entry {
    zone: u32,
    first_edge: u32,
    /// The number of edges, with [`CENTRE_INSIDE`] and [`ALWAYS_EXACT`] as flags.
    edges: u32,
}

pub(super) struct EdgeGrid {
    origin: Coord<f64>,
    cell: Coord<f64>,
    columns: usize,
    rows: usize,
    /// The entries of cell `c` are `entries[starts[c]..starts[c + 1]]`, smallest zone first.
    starts: Vec<u32>,
    entries: Vec<Entry>,
    /// Per boundary entry, the edges that meet its cell: edge `e` runs from `coords[e]` to
    /// `coords[e + 1]`.
    edge_ids: Vec<u32>,
    coords: Vec<Coord<f64>>,
}

impl EdgeGrid {
    /// Positions of the zones containing `point`, smallest first; `exact` decides the cases
    /// the grid cannot.
    pub(super) fn locate(
        &self,
        point: Coord<f64>,
        exact: impl Fn(usize) -> bool,
    ) -> impl Iterator<Item = usize> {
        let cell = self.cell_of(point);
        let range = match cell {
            Some(cell) => self.starts[cell] as usize..self.starts[cell + 1] as usize,
            None => 0..0,
        };
        let centre = cell.map(|cell| self.centre(cell % self.columns, cell / self.columns));
        // A zone's parts have their own entries, next to each other in a cell: a zone found
        // by one part is not looked at again.
        let mut found = None;
        self.entries[range].iter().filter_map(move |entry| {
            let zone = entry.zone as usize;
            if found == Some(zone) {
                return None;
            }
            let inside = match (entry.edges, centre) {
                (0, _) => true,
                (flags, _) if flags & ALWAYS_EXACT != 0 => exact(zone),
                (flags, Some(centre)) => match self.crosses_odd(entry, centre, point) {
                    Some(odd) => odd != (flags & CENTRE_INSIDE != 0),
                    None => exact(zone),
                },
                (_, None) => false,
            };
            inside.then(|| {
                found = Some(zone);
                zone
            })
        })
    }

    /// Whether the segment from the centre to the point crosses the entry's edges an odd number
    /// of times; `None` when it touches one or runs along one.
    fn crosses_odd(&self, entry: &Entry, centre: Coord<f64>, point: Coord<f64>) -> Option<bool> {
        let first = entry.first_edge as usize;
        let ids = &self.edge_ids[first..first + (entry.edges & COUNT_MASK) as usize];
        let mut odd = false;
        for &id in ids {
            let (a, b) = (self.coords[id as usize], self.coords[id as usize + 1]);
            if a.x.max(b.x) < centre.x.min(point.x)
                || a.x.min(b.x) > centre.x.max(point.x)
                || a.y.max(b.y) < centre.y.min(point.y)
                || a.y.min(b.y) > centre.y.max(point.y)
            {
                continue;
            }
            let across = sides(a, b, centre, point);
            if matches!(across, Side::Same) {
                continue;
            }
            match (across, sides(centre, point, a, b)) {
                (_, Side::Same) => {}
                (Side::Opposite, Side::Opposite) => odd = !odd,
                _ => return None,
            }
        }
        Some(odd)
    }

    fn cell_of(&self, point: Coord<f64>) -> Option<usize> {
        let column = ((point.x - self.origin.x) / self.cell.x).floor();
        let row = ((point.y - self.origin.y) / self.cell.y).floor();
        // A point on the far border belongs to the last cell.
        let column = if column == self.columns as f64 {
            column - 1.0
        } else {
            column
        };
        let row = if row == self.rows as f64 {
            row - 1.0
        } else {
            row
        };
        let inside =
            (0.0..self.columns as f64).contains(&column) && (0.0..self.rows as f64).contains(&row);
        inside.then(|| row as usize * self.columns + column as usize)
    }

    fn centre(&self, column: usize, row: usize) -> Coord<f64> {
        coord! {
            x: self.origin.x + (column as f64 + 0.5) * self.cell.x,
            y: self.origin.y + (row as f64 + 0.5) * self.cell.y,
        }
    }

    /// The first and last columns covering `west..=east`, padded, clamped to the grid.
    fn columns_spanning(&self, west: f64, east: f64) -> (usize, usize) {
        span(west, east, self.origin.x, self.cell.x, self.columns)
    }

    /// The first and last rows covering `south..=north`, padded, clamped to the grid.
    fn rows_spanning(&self, south: f64, north: f64) -> (usize, usize) {
        span(south, north, self.origin.y, self.cell.y, self.rows)
    }

    pub(super) fn heap_bytes(&self) -> usize {
        self.starts.capacity() * size_of::<u32>()
            + self.entries.capacity() * size_of::<Entry>()
            + self.edge_ids.capacity() * size_of::<u32>()
            + self.coords.capacity() * size_of::<Coord<f64>>()
    }
}

enum Side {
    Same,
    Opposite,
    Touching,
}

/// Where `p` and `q` lie against the line through `a` and `b`.
fn sides(a: Coord<f64>, b: Coord<f64>, p: Coord<f64>, q: Coord<f64>) -> Side {
    let (one, two) = (
        RobustKernel::orient2d(a, b, p),
        RobustKernel::orient2d(a, b, q),
    );
    match (one, two) {
        (Orientation::Collinear, _) | (_, Orientation::Collinear) => Side::Touching,
        (one, two) if one == two => Side::Same,
        _ => Side::Opposite,
    }
}

/// Cells covering `from..=to` along one axis of `count` cells of `size` from `origin`.
fn span(from: f64, to: f64, origin: f64, size: f64, count: usize) -> (usize, usize) {
    let low = ((from - origin) / size - PAD).floor().max(0.0) as usize;
    let high = ((to - origin) / size + PAD).floor().max(0.0) as usize;
    (low.min(count - 1), high.min(count - 1))
}

/// The exact test the grid falls back on.
pub(super) fn contains(geometry: &MultiPolygon<f64>, point: Coord<f64>) -> bool {
    geometry.coordinate_position(&point) != CoordPos::Outside
}
