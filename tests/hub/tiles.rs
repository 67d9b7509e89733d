//! Maps at real scale: zone vector tiles cut per zoom and cached forever, the place search, the
//! offline basemap (PMTiles by range requests, MBTiles by tile), and compressed answers.

use geozero::mvt::{Message, Tile};
use reqwest::header;
use serde_json::Value;
use vedetta::tiles::{TileId, ZONES_LAYER};

use crate::support::basemap::{write_mbtiles, write_pmtiles};
use crate::support::italy::import_italy;
use crate::support::{TestApp, assert_valid, test_config};

/// The zone tile URL the pages are told to use.
async fn tile_template(app: &TestApp) -> String {
    let (status, settings) = app.get_json("/ui/config.json").await;
    assert_eq!(status, 200);
    assert_valid("ui-config", &settings);
    settings["zone_tiles"]["url"].as_str().unwrap().to_owned()
}

fn tile_url(template: &str, z: u8, x: u32, y: u32) -> String {
    template
        .replace("{z}", &z.to_string())
        .replace("{x}", &x.to_string())
        .replace("{y}", &y.to_string())
}

/// The tile holding `(lat, lon)` at zoom `z`.
fn tile_at(template: &str, z: u8, (lat, lon): (f64, f64)) -> String {
    let id = TileId::containing(z, lon, lat);
    tile_url(template, z, id.x, id.y)
}

/// The names in a layer of a tile, with `fits` marked.
fn names(tile: &Tile, layer: &str) -> Vec<String> {
    let Some(layer) = tile.layers.iter().find(|l| l.name == layer) else {
        return Vec::new();
    };
    let name_key = layer.keys.iter().position(|k| k == "name").unwrap() as u32;
    layer
        .features
        .iter()
        .map(|feature| {
            let value = feature.tags.chunks(2).find(|kv| kv[0] == name_key).unwrap()[1];
            layer.values[value as usize].string_value.clone().unwrap()
        })
        .collect()
}

async fn get_tile(app: &TestApp, url: &str) -> (reqwest::header::HeaderMap, Tile) {
    let response = app.http.get(app.url(url)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    let headers = response.headers().clone();
    let tile = Tile::decode(response.bytes().await.unwrap()).unwrap();
    (headers, tile)
}

#[tokio::test]
async fn zone_tiles_show_the_level_that_fits_the_zoom_and_are_kept_forever() {
    let app = TestApp::spawn().await;
    let template = tile_template(&app).await;

    let (_, found) = app.get_json("/api/v1/places?q=monteverde").await;
    let at = (
        found["places"][0]["lat"].as_f64().unwrap(),
        found["places"][0]["lon"].as_f64().unwrap(),
    );

    let (headers, wide) = get_tile(&app, &tile_at(&template, 8, at)).await;
    let (_, close) = get_tile(&app, &tile_at(&template, 12, at)).await;

    assert_eq!(
        headers[header::CONTENT_TYPE],
        "application/vnd.mapbox-vector-tile"
    );
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert!(
        names(&wide, ZONES_LAYER)
            .iter()
            .any(|n| n.contains("Distretto")),
        "{:?}",
        names(&wide, ZONES_LAYER)
    );
    assert!(
        names(&wide, "zone_labels")
            .iter()
            .all(|n| !n.contains("Monteverde"))
    );
    assert!(
        names(&close, "zone_labels").contains(&"Monteverde".to_owned()),
        "{:?}",
        names(&close, "zone_labels")
    );
}

#[tokio::test]
async fn a_tile_out_of_range_or_misnamed_gets_a_json_404() {
    let app = TestApp::spawn().await;
    let template = tile_template(&app).await;

    for url in [
        tile_url(&template, 15, 0, 0),
        tile_url(&template, 3, 8, 0),
        tile_url(&template, 3, 1, 1).replace(".mvt", ".png"),
        "/tiles/zones/x/a/b/c.mvt".to_owned(),
    ] {
        let (status, body) = app.get_json(&url).await;
        assert_eq!(status, 404, "{url}");
        assert_eq!(body["error"], "not_found", "{url}");
        assert!(
            body["message"].as_str().unwrap().contains("z from 0 to 14"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_zone_import_changes_the_tile_version_and_old_urls_are_no_longer_kept() {
    let app = TestApp::spawn().await;
    let before = tile_template(&app).await;
    let stale_url = tile_url(&before, 8, 135, 92);

    let demo = app.running().hub().zones.snapshot();
    let fewer: Vec<_> = demo
        .zones()
        .iter()
        .filter(|z| z.level != "district")
        .cloned()
        .collect();
    app.running()
        .hub()
        .zones
        .replace(vedetta::zones::ZoneIndex::new(fewer));
    let after = tile_template(&app).await;
    let stale = app.http.get(app.url(&stale_url)).send().await.unwrap();

    assert_ne!(before, after, "a new zone set is a new tile version");
    assert_eq!(stale.headers()[header::CACHE_CONTROL], "no-cache");
    let tile = Tile::decode(stale.bytes().await.unwrap()).unwrap();
    assert!(
        names(&tile, ZONES_LAYER)
            .iter()
            .all(|n| !n.contains("Distretto")),
        "today's zones"
    );
}

#[tokio::test]
async fn with_all_of_italy_a_national_tile_is_light_and_places_are_found_without_accents() {
    let dir = tempfile::tempdir().unwrap();
    import_italy(dir.path());
    let app = TestApp::start(test_config(dir.path()), dir).await;
    let template = tile_template(&app).await;
    let (_, settings) = app.get_json("/ui/config.json").await;
    let levels: Vec<&str> = settings["zone_tiles"]["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["level"].as_str().unwrap())
        .collect();

    let national = app
        .http
        .get(app.url(&tile_url(&template, 5, 17, 11)))
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    let (status, found) = app.get_json("/api/v1/places?q=forli&limit=3").await;
    let (_, english) = app.get_json("/api/v1/places?q=Florence").await;
    let (_, by_id) = app.get_json("/api/v1/places?ids=037006,nothing,08").await;

    assert_eq!(levels, ["region", "province", "municipality"]);
    assert_eq!(national.headers()[header::CONTENT_ENCODING], "gzip");
    let bytes = national.bytes().await.unwrap().len();
    assert!(
        bytes < 60_000,
        "a national tile is {bytes} bytes compressed"
    );
    assert_eq!(status, 200);
    assert_valid("places", &found);
    assert_eq!(found["places"][0]["name"], "Forlì");
    assert_eq!(
        found["places"][0]["context"],
        "Forlì-Cesena, Emilia-Romagna"
    );
    assert_eq!(english["places"][0]["name"], "Firenze");
    let ids: Vec<&str> = by_id["places"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["037006", "08"]);
}

#[tokio::test]
async fn a_place_search_with_nothing_to_search_for_is_refused_with_json() {
    let app = TestApp::spawn().await;

    let (none, body) = app.get_json("/api/v1/places").await;
    let (long, _) = app
        .get_json(&format!("/api/v1/places?q={}", "a".repeat(101)))
        .await;
    let (limit, _) = app.get_json("/api/v1/places?q=mont&limit=500").await;
    let (ok, found) = app.get_json("/api/v1/places?q=MONTE").await;

    assert_eq!((none, long, limit, ok), (422, 422, 422, 200));
    assert_eq!(body["error"], "missing_field");
    assert_eq!(found["places"][0]["name"], "Monteverde");
}

#[tokio::test]
async fn a_pmtiles_basemap_is_served_by_range_requests_uncompressed() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_pmtiles(dir.path());
    let app = TestApp::spawn_with(|config| config.ui.basemap = Some(file.clone())).await;
    let (_, settings) = app.get_json("/ui/config.json").await;

    let header_range = app
        .http
        .get(app.url("/tiles/basemap.pmtiles"))
        .header(header::RANGE, "bytes=0-126")
        .header(header::ACCEPT_ENCODING, "gzip, br")
        .send()
        .await
        .unwrap();

    assert_eq!(settings["basemap"]["kind"], "pmtiles");
    assert_eq!(settings["basemap"]["url"], "/tiles/basemap.pmtiles");
    assert_eq!(header_range.status(), 206);
    assert!(
        header_range
            .headers()
            .get(header::CONTENT_ENCODING)
            .is_none()
    );
    let bytes = header_range.bytes().await.unwrap();
    assert_eq!(bytes.len(), 127);
    assert_eq!(&bytes[..7], b"PMTiles");
    let (status, _) = app.get_json("/tiles/basemap/1/0/0.mvt").await;
    assert_eq!(
        status, 404,
        "an MBTiles address of a PMTiles basemap does not exist"
    );
}

#[tokio::test]
async fn an_mbtiles_basemap_is_served_tile_by_tile() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_mbtiles(dir.path());
    let app = TestApp::spawn_with(|config| config.ui.basemap = Some(file.clone())).await;
    let (_, settings) = app.get_json("/ui/config.json").await;

    let url = settings["basemap"]["url"].as_str().unwrap().to_owned();
    let (_, tile) = get_tile(&app, &tile_at(&url, 12, (44.45, 11.22))).await;
    let empty = app
        .http
        .get(app.url(&tile_url(&url, 12, 0, 0)))
        .send()
        .await
        .unwrap();
    let (deep, _) = app.get_json(&tile_url(&url, 13, 0, 0)).await;

    assert_eq!(settings["basemap"]["kind"], "mvt");
    let layers: Vec<&str> = tile.layers.iter().map(|l| l.name.as_str()).collect();
    assert!(
        layers.contains(&"earth") && layers.contains(&"places"),
        "{layers:?}"
    );
    assert_eq!(empty.status(), 204, "no tile there: nothing to draw");
    assert_eq!(deep, 404, "deeper than the basemap goes");
}

#[tokio::test]
async fn a_basemap_that_is_missing_or_not_a_basemap_stops_the_hub_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pmtiles");
    std::fs::write(&junk, "not a map at all").unwrap();
    let truncated = dir.path().join("short.pmtiles");
    let whole = std::fs::read(write_pmtiles(dir.path())).unwrap();
    std::fs::write(&truncated, &whole[..200]).unwrap();

    for (file, expected) in [
        (dir.path().join("missing.pmtiles"), "cannot read"),
        (junk, "neither a PMTiles nor an MBTiles"),
        (truncated, "damaged or unsupported PMTiles"),
    ] {
        let data = tempfile::tempdir().unwrap();
        let mut config = test_config(data.path());
        config.ui.basemap = Some(file.clone());
        let error = vedetta::app::start(config)
            .await
            .err()
            .expect("the hub refuses to start");
        let message = format!("{error:#}");
        assert!(
            message.contains("ui.basemap") && message.contains(expected),
            "{message}"
        );
    }
}

#[tokio::test]
async fn json_answers_are_compressed_and_revalidated_cheaply() {
    let app = TestApp::spawn().await;

    let compressed = app
        .http
        .get(app.url("/api/v1/openapi.json"))
        .header(header::ACCEPT_ENCODING, "br")
        .send()
        .await
        .unwrap();
    let identity = app
        .http
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    let settings = app
        .http
        .get(app.url("/ui/config.json"))
        .send()
        .await
        .unwrap();

    assert_eq!(compressed.headers()[header::CONTENT_ENCODING], "br");
    assert!(identity.headers().get(header::CONTENT_ENCODING).is_none());
    let (small, whole) = (
        compressed.bytes().await.unwrap(),
        identity.bytes().await.unwrap(),
    );
    assert!(
        small.len() * 4 < whole.len(),
        "{} of {} bytes",
        small.len(),
        whole.len()
    );
    let _: Value = serde_json::from_slice(&whole).unwrap();
    assert_eq!(settings.headers()[header::CACHE_CONTROL], "no-cache");

    let first = app
        .http
        .get(app.url("/api/v1/categories"))
        .send()
        .await
        .unwrap();
    let etag = first.headers()[header::ETAG].clone();
    let again = app
        .http
        .get(app.url("/api/v1/categories"))
        .header(header::IF_NONE_MATCH, etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304, "an unchanged answer is not sent twice");
    assert_eq!(again.headers()[header::ETAG], etag);
    assert_eq!(
        first.headers()[header::CACHE_CONTROL],
        "private, no-cache",
        "no proxy keeps the API"
    );
    assert!(again.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_client_that_accepts_no_encoding_we_speak_still_gets_plain_answers() {
    let app = TestApp::spawn().await;

    for path in ["/healthz", "/api/v1/categories", "/ui/config.json"] {
        let response = app
            .http
            .get(app.url(path))
            .header(header::ACCEPT_ENCODING, "identity;q=0, zstd")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            response.headers().get(header::CONTENT_ENCODING).is_none(),
            "{path}"
        );
    }
}
