//! Open311's public reads are safe by default: a report's text only once an operator
//! published it (audited, with an end), positions rounded, no media; staff see what their
//! role allows; `open311.publish_all` is an office's explicit choice.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use vedetta::auth::Role;

use crate::support::{TestApp, assert_valid};

const TEXT: &str = "Mia madre è bloccata in casa al primo piano";

async fn submit(app: &TestApp) -> String {
    let form = [
        ("service_code", "people_at_risk"),
        ("lat", "44.451234"),
        ("long", "11.224567"),
        ("description", TEXT),
        ("media_url", "https://photos.example/mia-madre.jpg"),
        ("email", "figlia@example.org"),
        ("client_ref", "priv-1"),
    ];
    let response = app
        .http
        .post(app.url("/open311/v2/requests.json"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let submitted: Value = response.json().await.unwrap();
    assert_valid("open311-submitted", &submitted);
    submitted[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The request as `token`'s holder (or anyone) reads it, from the list and by id.
async fn read(app: &TestApp, id: &str, token: Option<&str>) -> Value {
    let (status, listed) = app.get_json_as("/open311/v2/requests.json", token).await;
    assert_eq!(status, 200, "{listed}");
    assert_valid("open311-requests", &listed);
    let (_, single) = app
        .get_json_as(&format!("/open311/v2/requests/{id}.json"), token)
        .await;
    assert_eq!(listed[0], single[0], "the list and the single read agree");
    single[0].clone()
}

async fn publish(app: &TestApp, id: &str, body: Value) -> (u16, Value) {
    let version = app.report_view(id).await["version"].clone();
    let mut body = body;
    body["version"] = version;
    let token = app.operator_token().await;
    app.post_as(&token, &format!("/api/v1/reports/{id}/publication"), &body)
        .await
}

#[tokio::test]
async fn the_public_sees_no_text_exact_position_or_media_until_an_operator_publishes() {
    let app = TestApp::spawn().await;
    let id = submit(&app).await;
    let viewer = app.token_for("vera", Role::Viewer).await;
    let operator = app.operator_token().await;

    let anyone = read(&app, &id, None).await;
    let as_viewer = read(&app, &id, Some(&viewer)).await;
    let as_operator = read(&app, &id, Some(&operator)).await;

    assert!(anyone.get("description").is_none(), "{anyone}");
    assert_eq!(
        (anyone["lat"].as_f64(), anyone["long"].as_f64()),
        (Some(44.451), Some(11.225))
    );
    assert!(anyone["media_url"].is_null());
    assert!(!anyone.to_string().contains("figlia@example.org"));
    assert_eq!(as_viewer["description"], TEXT);
    assert_eq!(as_viewer["lat"].as_f64(), Some(44.451234));
    assert!(
        as_viewer["media_url"].is_null(),
        "viewers do not handle reporters' media"
    );
    assert_eq!(
        as_operator["media_url"],
        "https://photos.example/mia-madre.jpg"
    );
    assert!(!as_operator.to_string().contains("figlia@example.org"));
}

#[tokio::test]
async fn publishing_a_report_shows_its_text_until_the_end_date_and_is_audited() {
    let app = TestApp::spawn().await;
    let id = submit(&app).await;
    let until = (Utc::now() + Duration::days(7)).to_rfc3339();

    let (published, view) = publish(&app, &id, json!({ "public": true, "until": until })).await;
    let shown = read(&app, &id, None).await;
    let (withdrawn, _) = publish(&app, &id, json!({ "public": false })).await;
    let hidden = read(&app, &id, None).await;

    assert_eq!(published, 200, "{view}");
    assert_valid("report", &view);
    assert!(view["public_until"].is_string());
    assert_eq!(shown["description"], TEXT);
    assert_eq!(
        shown["lat"].as_f64(),
        Some(44.451),
        "publishing the text does not expose the point"
    );
    assert!(shown["media_url"].is_null());
    assert_eq!(withdrawn, 200);
    assert!(hidden.get("description").is_none());
    assert_eq!(
        app.count_rows(&format!(
            "SELECT count(*) FROM audit WHERE subject = '{id}' AND action IN ('report.publish', 'report.unpublish')"
        )),
        2
    );
}

#[tokio::test]
async fn a_publication_needs_an_end_in_the_future_and_an_operator() {
    let app = TestApp::spawn().await;
    let id = submit(&app).await;
    let viewer = app.token_for("vera", Role::Viewer).await;
    let past = (Utc::now() - Duration::days(1)).to_rfc3339();
    let far = (Utc::now() + Duration::days(400)).to_rfc3339();

    let (no_end, missing) = publish(&app, &id, json!({ "public": true })).await;
    let (ended, _) = publish(&app, &id, json!({ "public": true, "until": past })).await;
    let (too_far, _) = publish(&app, &id, json!({ "public": true, "until": far })).await;
    let body = json!({ "public": true, "until": (Utc::now() + Duration::days(1)).to_rfc3339(), "version": 1 });
    assert_valid("triage-requests#/$defs/publication", &body);
    let (by_viewer, _) = app
        .post_as(&viewer, &format!("/api/v1/reports/{id}/publication"), &body)
        .await;

    assert_eq!((no_end, missing["field"].as_str()), (422, Some("until")));
    assert_eq!((ended, too_far, by_viewer), (422, 422, 403));
    assert!(read(&app, &id, None).await.get("description").is_none());
}

#[tokio::test]
async fn an_office_that_chooses_full_publishing_shows_everything_but_contact_details() {
    let app = TestApp::spawn_with(|config| config.open311.publish_all = true).await;
    let id = submit(&app).await;

    let anyone = read(&app, &id, None).await;

    assert_eq!(anyone["description"], TEXT);
    assert_eq!(anyone["lat"].as_f64(), Some(44.451234));
    assert_eq!(anyone["media_url"], "https://photos.example/mia-madre.jpg");
    assert!(!anyone.to_string().contains("figlia@example.org"));
}

#[tokio::test]
async fn a_published_text_is_public_for_at_most_the_configured_days_then_leaves_every_public_surface()
 {
    use chrono::TimeZone;
    let clock = vedetta::clock::ManualClock::starting_at(
        Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap(),
    );
    let app = TestApp::spawn_with_clock(clock.clone(), |config| {
        config.privacy.public_report_days = 30;
        config.open_data.public = true;
    })
    .await;
    let id = submit(&app).await;
    let start = Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap();

    let too_long = (start + Duration::days(31)).to_rfc3339();
    let (refused, problem) = publish(&app, &id, json!({ "public": true, "until": too_long })).await;
    let longest = (start + Duration::days(30)).to_rfc3339();
    let (published, _) = publish(&app, &id, json!({ "public": true, "until": longest })).await;
    let while_public = read(&app, &id, None).await;
    clock.advance(Duration::days(30) + Duration::minutes(1));
    let after = read(&app, &id, None).await;
    let (exported, open_data) = app
        .get_json_as("/api/v1/reports/export.geojson", None)
        .await;

    assert_eq!(
        (refused, problem["field"].as_str()),
        (422, Some("until")),
        "{problem}"
    );
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .contains("privacy.public_report_days"),
        "{problem}"
    );
    assert_eq!(published, 200);
    assert_eq!(while_public["description"], TEXT);
    assert!(
        after.get("description").is_none(),
        "the text left Open311 when its days ran out: {after}"
    );
    assert_eq!(exported, 200, "{open_data}");
    assert_eq!(open_data["features"].as_array().map(Vec::len), Some(1));
    assert!(
        !open_data.to_string().contains("Mia madre"),
        "open data never carries text: {open_data}"
    );
    for path in [
        "/api/v1/public/stats",
        "/api/v1/public/notices",
        "/feeds/archivio.atom",
    ] {
        let (status, text) = app.get_text(path).await;
        assert_eq!(status, 200, "{path}: {text}");
        assert!(
            !text.contains("Mia madre"),
            "{path} never carries a report's text"
        );
    }
}

#[tokio::test]
async fn full_publishing_also_ends_after_the_configured_days() {
    use chrono::TimeZone;
    let clock = vedetta::clock::ManualClock::starting_at(
        Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap(),
    );
    let app = TestApp::spawn_with_clock(clock.clone(), |config| {
        config.open311.publish_all = true;
        config.privacy.public_report_days = 30;
    })
    .await;
    let id = submit(&app).await;

    let fresh = read(&app, &id, None).await;
    clock.advance(Duration::days(30));
    let old = read(&app, &id, None).await;

    assert_eq!(fresh["description"], TEXT);
    assert!(old.get("description").is_none(), "{old}");
    assert_eq!(old["lat"].as_f64(), Some(44.451), "rounded again: {old}");
    assert_eq!(old["media_url"], Value::Null);
}
