//! Building the edge grid: sizing it, placing each zone's cells and edges, grouping them by cell.

use geo::{BoundingRect, Coord, MultiPolygon, Polygon, Rect, coord};

use super::super::Zone;
use super::{
    ALWAYS_EXACT, CELLS_PER_EDGE, CENTRE_INSIDE, COUNT_MASK, EdgeGrid, Entry, MAX_CELLS, MIN_CELLS,
    PAD,
};

impl EdgeGrid {
    /// `zones` must be ordered as the lookup should answer: smallest first.
    pub(in crate::zones) fn new(zones: &[Zone], smallest_first: &[usize]) -> EdgeGrid {
        let edges: usize = zones.iter().map(|zone| vertex_count(&zone.geometry)).sum();
        let bounds = zones.iter().filter_map(Zone::bounding_rect).reduce(union);
        let mut grid = EdgeGrid::sized(bounds, edges);
        let mut placed = Vec::new();
        let mut builder = ZoneCells::default();
        // Each part of a zone is placed on its own, so that crossings are counted per polygon,
        // as the exact test does: where two parts overlap, both count the point in.
        for &slot in smallest_first {
            for part in &zones[slot].geometry {
                builder.place(&mut grid, slot, part, &mut placed);
            }
        }
        grid.index(placed);
        grid
    }

    fn sized(bounds: Option<Rect<f64>>, edges: usize) -> EdgeGrid {
        let bounds = bounds.unwrap_or(Rect::new(
            coord! { x: 0.0, y: 0.0 },
            coord! { x: 1.0, y: 1.0 },
        ));
        let (width, height) = (bounds.width().max(1e-9), bounds.height().max(1e-9));
        let cells = (edges * CELLS_PER_EDGE).clamp(MIN_CELLS, MAX_CELLS) as f64;
        let columns = ((cells * width / height).sqrt().ceil() as usize).clamp(1, 1 << 16);
        let rows = (cells / columns as f64).ceil().max(1.0) as usize;
        EdgeGrid {
            origin: bounds.min(),
            cell: coord! { x: width / columns as f64, y: height / rows as f64 },
            columns,
            rows,
            starts: Vec::new(),
            entries: Vec::new(),
            edge_ids: Vec::new(),
            coords: Vec::new(),
        }
    }

    /// Groups the placed entries by cell, keeping their order within a cell (a counting sort).
    fn index(&mut self, placed: Vec<(u32, Entry)>) {
        let mut starts = vec![0u32; self.columns * self.rows + 1];
        for (cell, _) in &placed {
            starts[*cell as usize + 1] += 1;
        }
        for n in 1..starts.len() {
            starts[n] += starts[n - 1];
        }
        let mut next = starts.clone();
        let empty = Entry {
            zone: 0,
            first_edge: 0,
            edges: 0,
        };
        let mut entries = vec![empty; placed.len()];
        for (cell, entry) in placed {
            entries[next[cell as usize] as usize] = entry;
            next[cell as usize] += 1;
        }
        self.starts = starts;
        self.entries = entries;
    }
}

/// Builds one zone's entries, reusing its buffers from zone to zone.
#[derive(Default)]
struct ZoneCells {
    /// Per row of the zone's box, where its boundary crosses the row's centre line.
    crossings: Vec<Vec<f64>>,
    /// (cell within the zone's box, edge).
    edge_cells: Vec<(u32, u32)>,
}

struct Window {
    column: usize,
    row: usize,
    columns: usize,
    rows: usize,
}

impl ZoneCells {
    fn place(
        &mut self,
        grid: &mut EdgeGrid,
        slot: usize,
        polygon: &Polygon<f64>,
        placed: &mut Vec<(u32, Entry)>,
    ) {
        let Some(rect) = polygon.bounding_rect() else {
            return;
        };
        let (column, last_column) = grid.columns_spanning(rect.min().x, rect.max().x);
        let (row, last_row) = grid.rows_spanning(rect.min().y, rect.max().y);
        let window = Window {
            column,
            row,
            columns: last_column - column + 1,
            rows: last_row - row + 1,
        };
        self.crossings.iter_mut().for_each(Vec::clear);
        self.crossings
            .resize_with(window.rows.max(self.crossings.len()), Vec::new);
        self.edge_cells.clear();
        let edges = push_edges(&mut grid.coords, polygon);
        for &edge in &edges {
            self.add_edge(grid, &window, edge);
        }
        self.edge_cells.sort_unstable();
        // A part with no edge (a point, say) is left to the exact test wherever its box is.
        let edgeless = edges.is_empty();
        let zone = u32::try_from(slot).expect("fewer than 2^32 zones");
        self.emit(grid, &window, zone, edgeless, placed);
    }

    fn add_edge(&mut self, grid: &EdgeGrid, window: &Window, edge: u32) {
        let (a, b) = (grid.coords[edge as usize], grid.coords[edge as usize + 1]);
        let (first_row, last_row) = grid.rows_spanning(a.y.min(b.y), a.y.max(b.y));
        for row in first_row.max(window.row)..=last_row.min(window.row + window.rows - 1) {
            let local_row = row - window.row;
            let centre_line = grid.origin.y + (row as f64 + 0.5) * grid.cell.y;
            if (a.y > centre_line) != (b.y > centre_line) {
                let x = a.x + (centre_line - a.y) * (b.x - a.x) / (b.y - a.y);
                self.crossings[local_row].push(x);
            }
            let bottom = grid.origin.y + (row as f64 - PAD) * grid.cell.y;
            let top = grid.origin.y + (row as f64 + 1.0 + PAD) * grid.cell.y;
            let (west, east) = x_extent(a, b, bottom, top);
            let (first_column, last_column) = grid.columns_spanning(west, east);
            let columns = first_column.max(window.column)
                ..=last_column.min(window.column + window.columns - 1);
            for column in columns {
                let local = local_row * window.columns + (column - window.column);
                self.edge_cells.push((local as u32, edge));
            }
        }
    }

    fn emit(
        &mut self,
        grid: &mut EdgeGrid,
        window: &Window,
        zone: u32,
        edgeless: bool,
        placed: &mut Vec<(u32, Entry)>,
    ) {
        let mut edge_cells = self.edge_cells.iter().peekable();
        for local_row in 0..window.rows {
            let crossings = &mut self.crossings[local_row];
            crossings.sort_unstable_by(f64::total_cmp);
            let mut before = 0;
            for local_column in 0..window.columns {
                let centre = grid.centre(window.column + local_column, window.row + local_row);
                while before < crossings.len() && crossings[before] < centre.x {
                    before += 1;
                }
                let near = |x: f64| (x - centre.x).abs() <= grid.cell.x * PAD;
                let doubtful = crossings.get(before).is_some_and(|&x| near(x))
                    || before > 0 && near(crossings[before - 1]);
                let local = (local_row * window.columns + local_column) as u32;
                let first_edge = u32::try_from(grid.edge_ids.len()).expect("under 2^32 edges");
                while let Some(&(_, edge)) = edge_cells.next_if(|(cell, _)| *cell == local) {
                    grid.edge_ids.push(edge);
                }
                let count = grid.edge_ids.len() as u32 - first_edge;
                let centre_inside = before % 2 == 1;
                let always_exact = edgeless || count > 0 && doubtful || count > COUNT_MASK;
                if count == 0 && !centre_inside && !always_exact {
                    continue;
                }
                let mut edges = count;
                if count > 0 && centre_inside {
                    edges |= CENTRE_INSIDE;
                }
                if always_exact {
                    edges = ALWAYS_EXACT | 1;
                }
                let cell = (window.row + local_row) * grid.columns + window.column + local_column;
                placed.push((
                    cell as u32,
                    Entry {
                        zone,
                        first_edge,
                        edges,
                    },
                ));
            }
        }
    }
}

/// Appends the polygon's rings to `coords`; returns the edges, as the index of their start.
fn push_edges(coords: &mut Vec<Coord<f64>>, polygon: &Polygon<f64>) -> Vec<u32> {
    let mut edges = Vec::new();
    let rings = std::iter::once(polygon.exterior()).chain(polygon.interiors());
    for ring in rings {
        let start = coords.len();
        coords.extend(ring.coords().copied());
        for at in start..coords.len().saturating_sub(1) {
            if coords[at] != coords[at + 1] {
                edges.push(u32::try_from(at).expect("under 2^32 vertices"));
            }
        }
    }
    edges
}

/// The x range of segment `a`–`b` between heights `bottom` and `top`.
fn x_extent(a: Coord<f64>, b: Coord<f64>, bottom: f64, top: f64) -> (f64, f64) {
    if a.y == b.y {
        return (a.x.min(b.x), a.x.max(b.x));
    }
    let at = |y: f64| {
        let t = ((y - a.y) / (b.y - a.y)).clamp(0.0, 1.0);
        a.x + t * (b.x - a.x)
    };
    let (x1, x2) = (at(bottom), at(top));
    (x1.min(x2), x1.max(x2))
}

fn vertex_count(geometry: &MultiPolygon<f64>) -> usize {
    geometry
        .iter()
        .map(|polygon| {
            polygon.exterior().0.len()
                + polygon
                    .interiors()
                    .iter()
                    .map(|ring| ring.0.len())
                    .sum::<usize>()
        })
        .sum()
}

fn union(a: Rect<f64>, b: Rect<f64>) -> Rect<f64> {
    Rect::new(
        coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
        coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
    )
}
