//! A small offline basemap made from the zones the project ships (the district as land, sea
//! around it), in the Protomaps basemap schema (`earth`, `water`, `places`), written as
//! PMTiles and as MBTiles: what an office's
//! regional extract looks like to the hub and the pages.

use std::fs::File;
use std::path::{Path, PathBuf};

use geo::{BoundingRect, Centroid, MultiPolygon, Rect, coord};
use pmtiles::{PmTilesWriter, TileCoord, TileType};
use vedetta::tiles::{LayerBuilder, TileId, TileValue, encode};
use vedetta::zones::demo_zone_sets;

/// Zooms the test basemap covers.
pub const MAX_ZOOM: u8 = 12;

/// Land shaped like the demo district, sea around it, and a place label per municipality.
fn tile(id: TileId, land: &MultiPolygon<f64>, places: &[(String, geo::Point<f64>)]) -> Vec<u8> {
    let sea = Rect::new(coord! { x: 10.0, y: 43.5 }, coord! { x: 12.5, y: 45.5 });
    let mut water = LayerBuilder::new(id, "water");
    water.add_polygons(
        1,
        &MultiPolygon::new(vec![sea.to_polygon()]),
        &[("kind", TileValue::Str("ocean".into()))],
    );
    let mut earth = LayerBuilder::new(id, "earth");
    earth.add_polygons(2, land, &[("kind", TileValue::Str("earth".into()))]);
    let mut labels = LayerBuilder::new(id, "places");
    for (n, (name, at)) in places.iter().enumerate() {
        let properties = [
            ("kind", TileValue::Str("locality".into())),
            ("name", TileValue::Str(name.clone())),
            ("min_zoom", TileValue::Int(6)),
            ("population_rank", TileValue::Int(10)),
        ];
        labels.add_point(100 + n as u64, *at, &properties);
    }
    encode(vec![water, earth, labels])
}

/// The tiles of the test basemap, every zoom from 0 to [`MAX_ZOOM`] over the demo district.
fn tiles() -> Vec<(TileId, Vec<u8>)> {
    let sets = demo_zone_sets().expect("the demo zones parse");
    let zones: Vec<_> = sets
        .into_iter()
        .flat_map(|(_, records)| records)
        .map(|r| r.zone)
        .collect();
    let land = zones
        .iter()
        .find(|zone| zone.level == "district")
        .expect("a district")
        .geometry
        .clone();
    let places: Vec<_> = zones
        .iter()
        .filter(|zone| zone.level == "municipality")
        .filter_map(|zone| Some((zone.name.clone(), zone.geometry.centroid()?)))
        .collect();
    let bounds = land.bounding_rect().expect("land has an extent");
    let mut out = Vec::new();
    for z in 0..=MAX_ZOOM {
        let north_west = TileId::containing(z, bounds.min().x, bounds.max().y);
        let south_east = TileId::containing(z, bounds.max().x, bounds.min().y);
        for x in north_west.x..=south_east.x {
            for y in north_west.y..=south_east.y {
                let id = TileId::new(z, x, y).expect("inside the grid");
                out.push((id, tile(id, &land, &places)));
            }
        }
    }
    out
}

/// Writes the basemap as a PMTiles v3 archive in `dir`.
pub fn write_pmtiles(dir: &Path) -> PathBuf {
    let path = dir.join("basemap.pmtiles");
    let file = File::create(&path).expect("create the basemap file");
    let mut writer = PmTilesWriter::new(TileType::Mvt)
        .min_zoom(0)
        .max_zoom(MAX_ZOOM)
        .metadata(r#"{"name":"vedetta test basemap","vector_layers":[{"id":"earth"},{"id":"water"},{"id":"places"}]}"#)
        .create(file)
        .expect("start the archive");
    for (id, bytes) in tiles() {
        writer
            .add_tile(TileCoord::new(id.z, id.x, id.y).expect("a tile"), &bytes)
            .expect("add a tile");
    }
    writer.finalize().expect("finish the archive");
    path
}

/// Writes the basemap as an MBTiles file in `dir`.
pub fn write_mbtiles(dir: &Path) -> PathBuf {
    let path = dir.join("basemap.mbtiles");
    let db = rusqlite::Connection::open(&path).expect("create the basemap file");
    db.execute_batch(
        "CREATE TABLE metadata (name TEXT, value TEXT);
         CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);
         INSERT INTO metadata VALUES ('name', 'vedetta test basemap'), ('format', 'pbf'),
             ('minzoom', '0'), ('maxzoom', '12');",
    )
    .expect("create the tables");
    for (id, bytes) in tiles() {
        let row = (1u32 << id.z) - 1 - id.y;
        db.execute(
            "INSERT INTO tiles VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![id.z, id.x, row, bytes],
        )
        .expect("add a tile");
    }
    path
}
