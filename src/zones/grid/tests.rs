//! The grid against the exact test on shapes made to trip it: holes, overlapping parts,
//! edges along cell borders and centre lines, a zone with no area, points on every border.

use geo::{Coord, LineString, MultiPolygon, Polygon, coord};

use super::{EdgeGrid, contains};
use crate::zones::Zone;

fn ring(points: &[(f64, f64)]) -> LineString<f64> {
    LineString::from(points.to_vec())
}

fn zone(id: &str, polygons: Vec<Polygon<f64>>) -> Zone {
    Zone::new(
        id.into(),
        "test".into(),
        id.into(),
        None,
        MultiPolygon(polygons),
    )
}

fn square(x: f64, y: f64, side: f64) -> LineString<f64> {
    ring(&[
        (x, y),
        (x + side, y),
        (x + side, y + side),
        (x, y + side),
        (x, y),
    ])
}

fn shapes() -> Vec<Zone> {
    vec![
        zone(
            "holed",
            vec![Polygon::new(
                square(0.0, 0.0, 10.0),
                vec![square(2.5, 2.5, 3.75)],
            )],
        ),
        zone(
            "overlapping",
            vec![
                Polygon::new(square(20.0, 0.0, 10.0), vec![]),
                Polygon::new(square(25.0, 5.0, 10.0), vec![]),
            ],
        ),
        zone(
            "notched",
            vec![Polygon::new(
                ring(&[
                    (0.0, 20.0),
                    (15.0, 20.0),
                    (15.0, 30.0),
                    (8.75, 23.75),
                    (0.0, 30.0),
                    (0.0, 20.0),
                ]),
                vec![],
            )],
        ),
        zone(
            "point",
            vec![Polygon::new(ring(&[(40.0, 40.0); 4]), vec![])],
        ),
        // 16 by 16 cells of 2.5: the shapes' edges run along cell borders (multiples of 2.5)
        // and centre lines (1.25 beyond them), and the notch's tip is a cell's centre.
        zone("whole", vec![Polygon::new(square(0.0, 0.0, 40.0), vec![])]),
    ]
}

fn expected(zones: &[Zone], order: &[usize], point: Coord<f64>) -> Vec<usize> {
    order
        .iter()
        .copied()
        .filter(|&slot| contains(&zones[slot].geometry, point))
        .collect()
}

#[test]
fn every_point_of_a_lattice_and_every_cell_border_and_centre_gets_the_exact_answer() {
    let zones = shapes();
    let mut order: Vec<usize> = (0..zones.len()).collect();
    order.sort_by(|&a, &b| zones[a].area.total_cmp(&zones[b].area));
    let grid = EdgeGrid::new(&zones, &order);
    assert_eq!((grid.columns, grid.rows), (16, 16));
    assert_eq!(grid.cell, coord! { x: 2.5, y: 2.5 });
    let mut points: Vec<Coord<f64>> = (-8..=172)
        .flat_map(|x| (-8..=172).map(move |y| coord! { x: x as f64 / 4.0, y: y as f64 / 4.0 }))
        .collect();
    for column in 0..=grid.columns {
        for row in 0..=grid.rows {
            let corner = coord! {
                x: grid.origin.x + column as f64 * grid.cell.x,
                y: grid.origin.y + row as f64 * grid.cell.y,
            };
            points.push(corner);
            points.push(grid.centre(column.min(grid.columns - 1), row.min(grid.rows - 1)));
        }
    }
    assert!(points.contains(&coord! { x: 40.0, y: 40.0 }));
    for point in points {
        let found: Vec<usize> = grid
            .locate(point, |slot| contains(&zones[slot].geometry, point))
            .collect();
        assert_eq!(found, expected(&zones, &order, point), "at {point:?}");
    }
    let nowhere = coord! { x: f64::NAN, y: 1.0 };
    assert_eq!(grid.locate(nowhere, |_| true).count(), 0);
}
