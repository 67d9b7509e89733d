//! What leaves the office: statistics for staff, open data with nothing personal in it, and
//! the retention purge of contact details and photos.

use std::process::Command;
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use serde_json::{Value, json};
use vedetta::clock::ManualClock;

use crate::support::{MONTEVERDE, RIO_SECCO, TestApp, assert_valid, jpeg_base64, report};

/// A report full of personal data: contact, device, a name and phone number in the text.
fn personal(client_ref: &str, at: (f64, f64)) -> Value {
    let mut body = report(client_ref, at);
    body["device_id"] = json!("phone-of-maria");
    body["text"] = json!("Sono Maria Rossi, chiamatemi al 333 1234567");
    body["lat"] = json!(at.0 + 0.001_234);
    body["lon"] = json!(at.1 + 0.004_321);
    body
}

fn started_at_eight() -> Arc<ManualClock> {
    ManualClock::starting_at(Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap())
}

#[tokio::test]
async fn the_open_data_export_holds_no_personal_data_and_rounds_positions() {
    let app = TestApp::spawn().await;
    let id = app.report_id(&personal("p-1", MONTEVERDE)).await;
    app.move_to(&id, "acknowledged").await;

    let (code, geojson) = app.get_json("/api/v1/reports/export.geojson").await;
    let csv = app.get_text_as_operator("/api/v1/reports/export.csv").await;
    let (anonymous, _) = app
        .get_json_as("/api/v1/reports/export.geojson", None)
        .await;

    assert_eq!((code, anonymous), (200, 401));
    assert_valid("open-data", &geojson);
    for published in [geojson.to_string(), csv.clone()] {
        for personal in [
            "Maria",
            "333",
            "maria@example.org",
            "phone-of-maria",
            id.as_str(),
            "p-1",
        ] {
            assert!(
                !published.contains(personal),
                "{personal} is in the export: {published}"
            );
        }
    }
    let feature = &geojson["features"][0];
    assert_eq!(feature["geometry"]["coordinates"], json!([11.224, 44.451]));
    assert_eq!(feature["properties"]["status"], "acknowledged");
    assert_eq!(feature["properties"]["zone_id"], "demo-001");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "category,status,rejection_reason,lat,lon,zone_id,zone_name,incident_id,received_at,acknowledged_at,closed_at"
    );
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("flooding,acknowledged,,44.451,11.224,demo-001,")
    );
}

#[tokio::test]
async fn an_office_can_publish_the_export_without_a_login() {
    let app = TestApp::spawn_with(|config| {
        config.open_data.public = true;
        config.open_data.precision_decimals = 2;
    })
    .await;
    app.report_id(&personal("p-2", MONTEVERDE)).await;

    let (code, geojson) = app
        .get_json_as("/api/v1/reports/export.geojson", None)
        .await;

    assert_eq!(code, 200);
    assert_eq!(
        geojson["features"][0]["geometry"]["coordinates"],
        json!([11.22, 44.45])
    );
}

#[tokio::test]
async fn a_purge_removes_contact_details_and_photos_after_the_retention_period_and_keeps_the_rest()
{
    let clock = started_at_eight();
    let app = TestApp::spawn_with_clock(clock.clone(), |config| {
        config.retention.personal_data_days = 30;
    })
    .await;
    let mut old = personal("p-3", MONTEVERDE);
    old["photo"] = json!({ "content_type": "image/jpeg", "data": jpeg_base64() });
    let old_id = app.report_id(&old).await;
    app.move_to(&old_id, "resolved").await;
    clock.advance(Duration::days(29));
    let recent_id = app.report_id(&personal("p-4", RIO_SECCO)).await;

    clock.advance(Duration::days(2));
    let purged = app.running().hub().triage.purge("test").await.unwrap();

    assert_eq!(purged, 1);
    let operator = app
        .token_for("ottavia", vedetta::auth::Role::Operator)
        .await;
    let (_, view) = app
        .get_json_as(&format!("/api/v1/reports/{old_id}"), Some(&operator))
        .await;
    assert!(view["contact"].is_null(), "{view}");
    assert_eq!(view["has_photo"], false);
    assert_eq!(view["status"], "resolved");
    assert_eq!(view["category"], "flooding");
    assert_eq!(view["text"], "Sono Maria Rossi, chiamatemi al 333 1234567");
    let (photo, _) = app
        .get_json_as(&format!("/api/v1/reports/{old_id}/photo"), Some(&operator))
        .await;
    assert_eq!(photo, 404);
    let (_, recent) = app
        .get_json_as(&format!("/api/v1/reports/{recent_id}"), Some(&operator))
        .await;
    assert_eq!(recent["contact"]["email"], "maria@example.org");
    assert_eq!(app.count_rows("SELECT count(*) FROM report_photos"), 0);
    assert_eq!(
        app.count_rows(
            "SELECT count(*) FROM audit WHERE action = 'retention.purge' AND actor = 'test'"
        ),
        1
    );
    assert_eq!(
        app.running().hub().triage.purge("test").await.unwrap(),
        0,
        "nothing twice"
    );
}

#[tokio::test]
async fn vedetta_purge_on_the_command_line_purges_and_audits() {
    let clock = ManualClock::starting_at(Utc::now() - Duration::days(40));
    let mut app = TestApp::spawn_with_clock(clock, |_| {}).await;
    app.report_id(&personal("p-5", MONTEVERDE)).await;
    app.stop().await;

    let output = Command::new(env!("CARGO_BIN_EXE_vedetta"))
        .args(["purge", "--data-dir"])
        .arg(app.data_dir.path())
        .env_remove("VEDETTA_CONFIG")
        .output()
        .unwrap();

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("of 1 reports older than 30 days"));
    assert_eq!(
        app.count_rows("SELECT count(*) FROM reports WHERE contact_email IS NULL"),
        1
    );
    assert_eq!(
        app.count_rows(
            "SELECT count(*) FROM audit WHERE action = 'retention.purge' AND actor = 'cli'"
        ),
        1
    );
}

#[tokio::test]
async fn statistics_count_reports_by_status_category_and_zone_with_response_times() {
    let clock = started_at_eight();
    let app = TestApp::spawn_with_clock(clock.clone(), |_| {}).await;
    let a = app.report_of("s-1", "flooding", MONTEVERDE).await;
    let b = app.report_of("s-2", "flooding", MONTEVERDE).await;
    app.report_of("s-3", "fire", RIO_SECCO).await;

    clock.advance(Duration::minutes(2));
    app.move_to(&a, "acknowledged").await;
    clock.advance(Duration::minutes(2));
    app.move_to(&b, "acknowledged").await;
    clock.advance(Duration::minutes(6));
    app.move_to(&a, "resolved").await;
    let (code, stats) = app.get_json("/api/v1/stats").await;
    let (_, fires) = app.get_json("/api/v1/stats?category=fire").await;

    assert_eq!(code, 200, "{stats}");
    assert_valid("stats", &stats);
    assert_eq!(stats["total"], 3);
    assert_eq!(
        stats["by_status"],
        json!({ "received": 1, "acknowledged": 1, "in_progress": 0, "resolved": 1, "rejected": 0 })
    );
    assert_eq!(stats["by_category"], json!({ "fire": 1, "flooding": 2 }));
    let monteverde = stats["by_zone"]
        .as_array()
        .unwrap()
        .iter()
        .find(|zone| zone["zone_id"] == "demo-001")
        .unwrap();
    assert_eq!(monteverde["count"], 2);
    assert_eq!(stats["time_to_acknowledge"]["count"], 2);
    assert_eq!(stats["time_to_acknowledge"]["median_secs"], 120.0);
    assert_eq!(stats["time_to_acknowledge"]["p90_secs"], 240.0);
    assert_eq!(stats["time_to_resolve"]["median_secs"], 600.0);
    assert_eq!(
        stats["time_to_acknowledge"]["within_target"], 2,
        "both floods were acknowledged well within their target"
    );
    assert_eq!(
        stats["overdue"], 1,
        "the fire was not acknowledged within 5 minutes"
    );
    assert_eq!(fires["total"], 1);
}

#[tokio::test]
async fn statistics_draw_a_timeline_per_hour_for_a_short_span_and_per_day_otherwise() {
    let clock = started_at_eight();
    let app = TestApp::spawn_with_clock(clock.clone(), |_| {}).await;
    let a = app.report_of("t-1", "flooding", MONTEVERDE).await;
    app.report_of("t-2", "fire", RIO_SECCO).await;
    clock.advance(Duration::minutes(70));
    app.move_to(&a, "acknowledged").await;
    app.move_to(&a, "resolved").await;
    app.report_of("t-3", "flooding", MONTEVERDE).await;

    let (_, hourly) = app
        .get_json("/api/v1/stats?since=2026-11-24T00:00:00Z")
        .await;
    let (_, daily) = app.get_json("/api/v1/stats").await;
    let (code, refused) = app.get_json("/api/v1/stats?bucket=week").await;

    assert_valid("stats", &hourly);
    assert_eq!(hourly["timeline"]["bucket"], "hour");
    assert_eq!(
        hourly["timeline"]["points"],
        json!([
            { "start": "2026-11-24T08:00:00Z", "received": 2, "by_category": { "fire": 1, "flooding": 1 }, "acknowledged": 0, "resolved": 0 },
            { "start": "2026-11-24T09:00:00Z", "received": 1, "by_category": { "flooding": 1 }, "acknowledged": 1, "resolved": 1 },
        ])
    );
    assert_eq!(daily["timeline"]["bucket"], "day");
    assert_eq!(
        daily["timeline"]["points"][0]["start"],
        "2026-11-24T00:00:00Z"
    );
    assert_eq!(daily["timeline"]["points"][0]["received"], 3);
    assert_eq!((code, refused["field"].as_str()), (422, Some("bucket")));
}
