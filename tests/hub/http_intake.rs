//! Reports over HTTP JSON: stored once, answered with zones, read back with filters.

use serde_json::{Value, json};

use crate::support::{MONTEVERDE, OFFSHORE, RIO_SECCO, TestApp, assert_valid, jpeg_base64, report};

#[tokio::test]
async fn a_report_is_stored_and_answered_with_its_id_zones_and_received_status() {
    let app = TestApp::spawn().await;

    let response = app.post_report(&report("c-1", MONTEVERDE)).await;

    assert_eq!(response.status(), 201);
    let receipt: Value = response.json().await.unwrap();
    assert_valid("receipt", &receipt);
    assert_eq!(receipt["status"], "received");
    assert_eq!(receipt["client_ref"], "c-1");
    assert_eq!(receipt["in_area"], true);
    assert_eq!(receipt["duplicate"], false);
    let zones: Vec<(&str, &str)> = receipt["zones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| (z["id"].as_str().unwrap(), z["level"].as_str().unwrap()))
        .collect();
    assert_eq!(
        zones,
        [("demo-001", "municipality"), ("demo-d1", "district")]
    );
    assert_eq!(app.stored_reports(), 1);
}

#[tokio::test]
async fn a_stored_report_shows_contact_details_to_operators_only() {
    let app = TestApp::spawn().await;
    let receipt: Value = app
        .post_report(&report("c-1", MONTEVERDE))
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/api/v1/reports/{}", receipt["id"].as_str().unwrap());
    let viewer = app.token_for("vera", vedetta::auth::Role::Viewer).await;

    let (anonymous_status, refusal) = app.get_json_as(&path, None).await;
    let (viewer_status, for_viewer) = app.get_json_as(&path, Some(&viewer)).await;
    let (operator_status, for_operator) = app.get_json(&path).await;

    assert_eq!(
        (anonymous_status, viewer_status, operator_status),
        (401, 200, 200)
    );
    assert_valid("error", &refusal);
    assert_valid("report", &for_viewer);
    assert_valid("report", &for_operator);
    assert_eq!(for_viewer["text"], "Acqua alta in via Roma");
    let seen_by_viewer = for_viewer.to_string();
    assert!(
        !seen_by_viewer.contains("maria@example.org")
            && !seen_by_viewer.contains("333 1234567")
            && !seen_by_viewer.contains("phone-1")
    );
    assert_eq!(for_operator["contact"]["email"], "maria@example.org");
    assert_eq!(for_operator["device_id"], "phone-1");
}

#[tokio::test]
async fn retrying_the_same_report_returns_the_same_id_and_stores_it_once() {
    let app = TestApp::spawn().await;
    let body = report("retry-1", MONTEVERDE);

    let first = app.post_report(&body).await;
    let second = app.post_report(&body).await;

    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (201, 200)
    );
    let (first, second): (Value, Value) =
        (first.json().await.unwrap(), second.json().await.unwrap());
    assert_eq!(first["id"], second["id"]);
    assert_eq!(second["duplicate"], true);
    assert_eq!(app.stored_reports(), 1);
}

#[tokio::test]
async fn reusing_a_client_ref_for_a_different_report_is_refused_with_409_and_leaves_no_incident() {
    let app = TestApp::spawn().await;
    app.post_report(&report("same-ref", MONTEVERDE)).await;

    // Far from the first: had it been taken in, it would have opened an incident of its own.
    let response = app.post_report(&report("same-ref", RIO_SECCO)).await;

    assert_eq!(response.status(), 409);
    let error: Value = response.json().await.unwrap();
    assert_valid("error", &error);
    assert_eq!(
        (error["error"].as_str(), error["field"].as_str()),
        (Some("client_ref_conflict"), Some("client_ref"))
    );
    assert_eq!(app.stored_reports(), 1);
    assert_eq!(app.count_rows("SELECT count(*) FROM incidents"), 1);
}

#[tokio::test]
async fn the_same_client_ref_from_two_devices_is_two_reports() {
    let app = TestApp::spawn().await;
    let mut other = report("shared-ref", MONTEVERDE);
    other["device_id"] = json!("phone-2");

    app.post_report(&report("shared-ref", MONTEVERDE)).await;
    let response = app.post_report(&other).await;

    assert_eq!(response.status(), 201);
    assert_eq!(app.stored_reports(), 2);
}

#[tokio::test]
async fn a_photo_is_stored_with_its_report_and_served_as_nothing_but_an_image() {
    let app = TestApp::spawn().await;
    let mut body = report("with-photo", MONTEVERDE);
    body["photo"] = json!({ "content_type": "image/jpeg", "data": jpeg_base64() });

    let receipt: Value = app.post_report(&body).await.json().await.unwrap();

    let (_, stored) = app
        .get_json(&format!(
            "/api/v1/reports/{}",
            receipt["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(stored["has_photo"], true);
    assert_eq!(
        app.count_rows("SELECT count(*) FROM report_photos WHERE content_type = 'image/jpeg'"),
        1
    );
    let photo = app
        .http
        .get(app.url(&format!(
            "/api/v1/reports/{}/photo",
            receipt["id"].as_str().unwrap()
        )))
        .bearer_auth(app.operator_token().await)
        .send()
        .await
        .unwrap();
    let header = |name: &str| photo.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(
        (header("content-type"), header("x-content-type-options")),
        ("image/jpeg".to_owned(), "nosniff".to_owned())
    );
    assert!(header("content-security-policy").contains("sandbox"));
}

#[tokio::test]
async fn a_point_outside_every_zone_is_accepted_and_flagged() {
    let app = TestApp::spawn().await;

    let response = app.post_report(&report("offshore", OFFSHORE)).await;

    assert_eq!(response.status(), 201);
    let receipt: Value = response.json().await.unwrap();
    assert_eq!(receipt["in_area"], false);
    assert_eq!(receipt["zones"], json!([]));
}

#[tokio::test]
async fn with_reject_outside_zones_a_point_outside_every_zone_is_refused() {
    let app = TestApp::spawn_with(|config| config.intake.reject_outside_zones = true).await;

    let response = app.post_report(&report("offshore", OFFSHORE)).await;

    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"], "outside_zones");
    assert_eq!(app.stored_reports(), 0);
}

async fn ids_of(app: &TestApp, query: &str) -> Vec<String> {
    let (status, page) = app.get_json(&format!("/api/v1/reports?{query}")).await;
    assert_eq!(status, 200, "{page}");
    assert_valid("report-page", &page);
    page["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn submit(app: &TestApp, client_ref: &str, at: (f64, f64), category: &str) -> String {
    let mut body = report(client_ref, at);
    body["category"] = json!(category);
    let receipt: Value = app.post_report(&body).await.json().await.unwrap();
    receipt["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn listing_filters_by_bbox_zone_category_status_and_since() {
    let app = TestApp::spawn().await;
    let flood_north = submit(&app, "a", MONTEVERDE, "flooding").await;
    let fire_south = submit(&app, "b", RIO_SECCO, "fire").await;
    let flood_south = submit(&app, "c", RIO_SECCO, "flooding").await;

    assert_eq!(ids_of(&app, "zone=demo-001").await, [flood_north.as_str()]);
    assert_eq!(
        ids_of(&app, "zone=demo-d1").await,
        [
            flood_south.as_str(),
            fire_south.as_str(),
            flood_north.as_str()
        ]
    );
    assert_eq!(ids_of(&app, "category=fire").await, [fire_south.as_str()]);
    assert_eq!(
        ids_of(&app, "bbox=11.3,44.3,11.45,44.36&category=flooding").await,
        [flood_south.as_str()]
    );
    assert_eq!(ids_of(&app, "status=received").await.len(), 3);
    assert!(ids_of(&app, "status=resolved").await.is_empty());
    assert_eq!(ids_of(&app, "since=2000-01-01T00:00:00Z").await.len(), 3);
    assert!(ids_of(&app, "since=2999-01-01T00:00:00Z").await.is_empty());
}

#[tokio::test]
async fn listing_pages_through_every_report_with_the_cursor() {
    let app = TestApp::spawn().await;
    for n in 0..5 {
        submit(&app, &format!("page-{n}"), MONTEVERDE, "flooding").await;
    }

    let mut seen = Vec::new();
    let mut query = "limit=2".to_owned();
    loop {
        let (_, page) = app.get_json(&format!("/api/v1/reports?{query}")).await;
        seen.extend(
            page["reports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("limit=2&cursor={cursor}"),
            None => break,
        }
    }

    assert_eq!(seen.len(), 5);
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique, seen, "no report appears on two pages");
}

#[tokio::test]
async fn listing_as_geojson_gives_point_features_by_parameter_or_accept_header() {
    let app = TestApp::spawn().await;
    let id = submit(&app, "geo", MONTEVERDE, "flooding").await;

    let (_, by_parameter) = app.get_json("/api/v1/reports?format=geojson").await;
    let by_header: Value = app
        .http
        .get(app.url("/api/v1/reports"))
        .bearer_auth(app.operator_token().await)
        .header("accept", "application/geo+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    for collection in [by_parameter, by_header] {
        assert_valid("report-features", &collection);
        let feature = &collection["features"][0];
        assert_eq!(feature["id"], id);
        assert_eq!(
            feature["geometry"]["coordinates"],
            json!([MONTEVERDE.1, MONTEVERDE.0])
        );
    }
}

#[tokio::test]
async fn an_unknown_report_id_is_a_404_in_the_error_format() {
    let app = TestApp::spawn().await;

    let (status, body) = app.get_json("/api/v1/reports/no-such-report").await;

    assert_eq!(status, 404);
    assert_valid("error", &body);
    assert_eq!(body["error"], "not_found");
}
