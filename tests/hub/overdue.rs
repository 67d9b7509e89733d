//! Response-time targets on a hand-driven clock: late reports are flagged live, once per step,
//! listed and counted.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use vedetta::clock::ManualClock;

use crate::support::{MONTEVERDE, TestApp, WsClient, assert_valid};

async fn hub_on_manual_clock() -> (TestApp, Arc<ManualClock>) {
    let clock = ManualClock::starting_at(Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap());
    let app = TestApp::spawn_with_clock(clock.clone(), |_| {}).await;
    (app, clock)
}

async fn watching(app: &TestApp) -> WsClient {
    let mut staff = WsClient::connect(&app.ws_url()).await;
    staff.auth(&app.operator_token().await).await;
    assert_eq!(staff.watch().await["type"], "watching");
    staff
}

/// The next overdue alert on the staff queue, skipping other frames.
async fn next_overdue(staff: &mut WsClient) -> serde_json::Value {
    loop {
        let frame = staff.next_of("report").await;
        if frame["event"] == "overdue" {
            return frame;
        }
    }
}

#[tokio::test]
async fn a_report_not_acknowledged_in_time_is_flagged_live_listed_and_counted() {
    let (app, clock) = hub_on_manual_clock().await;
    let mut staff = watching(&app).await;
    let fire = app.report_of("o-1", "fire", MONTEVERDE).await;

    clock.advance(Duration::minutes(6));
    let alert = next_overdue(&mut staff).await;

    assert_eq!(alert["report"]["id"], fire.as_str());
    assert_eq!(alert["step"], "acknowledge");
    assert_eq!(alert["report"]["overdue"], true);
    let (_, late) = app.get_json("/api/v1/reports?overdue=true").await;
    assert_valid("report-page", &late);
    assert_eq!(late["reports"][0]["id"], fire.as_str());
    let (_, stats) = app.get_json("/api/v1/stats").await;
    assert_eq!(stats["overdue"], 1);

    app.move_to(&fire, "acknowledged").await;
    let (_, after) = app.get_json("/api/v1/reports?overdue=true").await;
    assert!(after["reports"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn each_step_is_flagged_once_and_a_report_handled_in_time_never_is() {
    let (app, clock) = hub_on_manual_clock().await;
    let mut staff = watching(&app).await;
    let handled = app.report_of("o-2", "flooding", MONTEVERDE).await;
    let ignored = app.report_of("o-3", "flooding", MONTEVERDE).await;
    app.move_to(&handled, "acknowledged").await;

    clock.advance(Duration::minutes(16));
    let first = next_overdue(&mut staff).await;
    clock.advance(Duration::hours(24));
    let second = next_overdue(&mut staff).await;
    let third = next_overdue(&mut staff).await;

    assert_eq!(
        (first["report"]["id"].as_str(), first["step"].as_str()),
        (Some(ignored.as_str()), Some("acknowledge"))
    );
    let mut resolves: Vec<&str> = [&second, &third]
        .iter()
        .map(|alert| {
            assert_eq!(alert["step"], "resolve");
            alert["report"]["id"].as_str().unwrap()
        })
        .collect();
    resolves.sort();
    let mut both = vec![handled.as_str(), ignored.as_str()];
    both.sort();
    assert_eq!(
        resolves, both,
        "the acknowledged report is late only for resolution"
    );
    assert_eq!(
        app.count_rows("SELECT count(*) FROM reports WHERE overdue_raised = 3"),
        1,
        "the ignored report was flagged for both steps, once each"
    );
}
