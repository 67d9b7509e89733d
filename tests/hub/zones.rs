//! Zone sets: the full Italian municipalities, provinces and regions imported by the CLI, point lookups, GeoJSON output.

use serde_json::{Value, json};

use crate::support::italy::{import_italy, zones_cli};
use crate::support::{TestApp, assert_valid, report, test_config};

async fn zones_at(app: &TestApp, lat: f64, lon: f64) -> Vec<(String, String)> {
    let (status, body) = app
        .get_json(&format!("/api/v1/zones/lookup?lat={lat}&lon={lon}"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_valid("zone-lookup", &body);
    body["zones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|zone| {
            (
                zone["id"].as_str().unwrap().to_owned(),
                zone["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_full_italian_set_imports_and_known_towns_are_found_with_their_region() {
    let dir = tempfile::tempdir().unwrap();
    import_italy(dir.path());
    let app = TestApp::start(test_config(dir.path()), dir).await;

    let towns = [
        ((41.8986, 12.4768), "058091", "Roma", "12"),
        ((45.4642, 9.1900), "015146", "Milano", "03"),
        ((40.8518, 14.2681), "063049", "Napoli", "15"),
        ((44.4949, 11.3426), "037006", "Bologna", "08"),
        ((38.1157, 13.3615), "082053", "Palermo", "19"),
    ];
    for ((lat, lon), code, name, region) in towns {
        let zones = zones_at(&app, lat, lon).await;
        assert_eq!(
            zones[0],
            (code.to_owned(), name.to_owned()),
            "at {lat},{lon}: {zones:?}"
        );
        assert_eq!(zones[1].0.len(), 3, "a province code for {name}: {zones:?}");
        assert_eq!(zones[2].0, region, "region of {name}");
    }
    assert!(
        zones_at(&app, 40.0, 12.0).await.is_empty(),
        "the Tyrrhenian sea is in no municipality"
    );
    let receipt: Value = app
        .post_report(&report("roma-1", (41.8986, 12.4768)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        receipt["zones"][0],
        json!({"id": "058091", "level": "municipality", "name": "Roma"})
    );
    assert_eq!(receipt["zones"][1]["level"], "province");
    assert_eq!(receipt["zones"][2]["level"], "region");
}

#[tokio::test]
async fn a_new_hub_serves_the_demo_zones_as_geojson_filtered_by_level_and_bbox() {
    let app = TestApp::spawn().await;

    let (status, all) = app.get_json("/api/v1/zones").await;
    let (_, municipalities) = app.get_json("/api/v1/zones?level=municipality").await;
    let (_, north_west) = app
        .get_json("/api/v1/zones?level=municipality&bbox=11.15,44.45,11.2,44.49")
        .await;

    assert_eq!(status, 200);
    for collection in [&all, &municipalities, &north_west] {
        assert_valid("zone-features", collection);
    }
    assert_eq!(all["features"].as_array().unwrap().len(), 5);
    assert_eq!(municipalities["features"].as_array().unwrap().len(), 4);
    let ids: Vec<&str> = north_west["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["demo-001"]);
    assert_eq!(
        north_west["features"][0]["properties"]["parent_id"],
        "demo-d1"
    );
}

fn vertex_count(collection: &Value) -> usize {
    fn count(value: &Value) -> usize {
        match value {
            Value::Array(items) if items.first().is_some_and(Value::is_number) => 1,
            Value::Array(items) => items.iter().map(count).sum(),
            _ => 0,
        }
    }
    collection["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| count(&f["geometry"]["coordinates"]))
        .sum()
}

#[tokio::test]
async fn a_zone_level_the_office_does_not_have_is_refused_naming_the_levels_it_has() {
    let app = TestApp::spawn().await;

    let (status, error) = app.get_json("/api/v1/zones?level=comune").await;

    assert_eq!(status, 422);
    assert_valid("error", &error);
    assert_eq!(error["field"], "level");
    let said = error["message"].as_str().unwrap();
    assert!(
        said.ends_with("the levels are: district, municipality"),
        "{said}"
    );
}

#[tokio::test]
async fn simplification_for_display_drops_vertices_of_real_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    import_italy(dir.path());
    let app = TestApp::start(test_config(dir.path()), dir).await;
    let rome_area = "level=municipality&bbox=12.40,41.85,12.55,41.95";

    let (_, full) = app.get_json(&format!("/api/v1/zones?{rome_area}")).await;
    let (_, simplified) = app
        .get_json(&format!("/api/v1/zones?{rome_area}&simplify=200"))
        .await;

    assert_valid("zone-features", &simplified);
    assert_eq!(
        full["features"].as_array().unwrap().len(),
        simplified["features"].as_array().unwrap().len()
    );
    assert!(
        vertex_count(&simplified) * 3 < vertex_count(&full),
        "{} vs {}",
        vertex_count(&simplified),
        vertex_count(&full)
    );
}

#[tokio::test]
async fn importing_a_level_replaces_it_and_a_running_hub_picks_it_up_on_reload() {
    let app = TestApp::spawn().await;
    let data_dir = app.data_dir.path().to_owned();
    let file = data_dir.join("one.geojson");
    std::fs::write(
        &file,
        json!({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": 7, "label": "Isola"},
            "geometry": {"type": "Polygon", "coordinates": [[[14.0, 43.0], [14.1, 43.0], [14.1, 43.1], [14.0, 43.0]]]}}]})
        .to_string(),
    )
    .unwrap();

    let (ok, out) = zones_cli(
        &data_dir,
        &[
            "import",
            file.to_str().unwrap(),
            "--level",
            "municipality",
            "--id-prop",
            "code",
            "--name-prop",
            "label",
        ],
    );
    assert!(ok, "{out}");
    let before = zones_at(&app, 43.02, 14.08).await;
    app.running().reload_zones().await.unwrap();
    let after = zones_at(&app, 43.02, 14.08).await;

    assert!(before.is_empty());
    assert_eq!(after, [("7".to_owned(), "Isola".to_owned())]);
    assert!(
        zones_at(&app, 44.45, 11.22)
            .await
            .iter()
            .all(|(id, _)| id != "demo-001"),
        "the demo municipalities were replaced"
    );
}

#[tokio::test]
async fn a_bad_zone_file_is_refused_with_a_reason_and_the_stored_zones_stay() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, body: Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, body.to_string()).unwrap();
        path
    };
    let square = json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]});
    let cases = [
        (
            write(
                "point.geojson",
                json!({"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [1, 2]}}),
            ),
            "FeatureCollection",
        ),
        (
            write(
                "noid.geojson",
                json!({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"label": "A"}, "geometry": square}]}),
            ),
            "has no `code` property",
        ),
        (
            write(
                "line.geojson",
                json!({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "a", "label": "A"}, "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}]}),
            ),
            "Polygon or MultiPolygon",
        ),
        (
            write(
                "dupe.geojson",
                json!({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"code": "a", "label": "A"}, "geometry": square},
            {"type": "Feature", "properties": {"code": "a", "label": "B"}, "geometry": square}]}),
            ),
            "more than once",
        ),
        (
            write(
                "slash.geojson",
                json!({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "a/b", "label": "A"}, "geometry": square}]}),
            ),
            "MQTT",
        ),
        (
            write(
                "projected.geojson",
                json!({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "a", "label": "A"},
            "geometry": {"type": "Polygon", "coordinates": [[[680000, 4900000], [690000, 4900000], [690000, 4910000], [680000, 4900000]]]}}]}),
            ),
            "EPSG:4326",
        ),
        (dir.path().join("missing.geojson"), "cannot read"),
    ];
    for (file, reason) in cases {
        let (ok, out) = zones_cli(
            dir.path(),
            &[
                "import",
                file.to_str().unwrap(),
                "--level",
                "municipality",
                "--id-prop",
                "code",
                "--name-prop",
                "label",
            ],
        );

        assert!(!ok, "{} should be refused", file.display());
        assert!(out.contains(reason), "{}: {out}", file.display());
    }
    let (ok, out) = zones_cli(dir.path(), &["list"]);
    assert!(ok && out.contains("no zones"), "{out}");
}
