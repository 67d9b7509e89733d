//! Incidents: reports grouped as they arrive, merged and split by operators, resolved together,
//! and escalated to a notice draft that still needs a second person.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use vedetta::clock::ManualClock;

use crate::support::{MONTEVERDE, RIO_SECCO, TestApp, assert_valid};

/// About 70 metres from `MONTEVERDE`.
const NEXT_DOOR: (f64, f64) = (44.4505, 11.2205);

async fn incident_of(app: &TestApp, report: &str) -> String {
    app.report_view(report).await["incident_id"]
        .as_str()
        .expect("every report is in an incident")
        .to_owned()
}

async fn incident(app: &TestApp, id: &str) -> Value {
    let (status, detail) = app.get_json(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(status, 200, "{detail}");
    assert_valid("incident-detail", &detail);
    detail
}

#[tokio::test]
async fn reports_of_one_category_close_together_form_one_incident() {
    let app = TestApp::spawn().await;

    let first = app.report_of("g-1", "flooding", MONTEVERDE).await;
    let neighbour = app.report_of("g-2", "flooding", NEXT_DOOR).await;
    let other_kind = app.report_of("g-3", "fire", NEXT_DOOR).await;
    let far_away = app.report_of("g-4", "flooding", RIO_SECCO).await;

    let grouped = incident_of(&app, &first).await;
    assert_eq!(incident_of(&app, &neighbour).await, grouped);
    assert_ne!(incident_of(&app, &other_kind).await, grouped);
    assert_ne!(incident_of(&app, &far_away).await, grouped);
    let detail = incident(&app, &grouped).await;
    assert_eq!(detail["incident"]["report_count"], 2);
    assert_eq!(detail["incident"]["status"], "open");
    let (_, page) = app.get_json("/api/v1/incidents?status=open").await;
    assert_valid("incident-page", &page);
    assert_eq!(page["incidents"].as_array().unwrap().len(), 3);
}

/// A hub grouping reports of the last 60 minutes, on a clock set to 2026-11-24 at `hour:minute`.
async fn with_an_hour_window_from(hour: u32, minute: u32) -> (Arc<ManualClock>, TestApp) {
    let start = Utc.with_ymd_and_hms(2026, 11, 24, hour, minute, 0).unwrap();
    let clock = ManualClock::starting_at(start);
    let app = TestApp::spawn_with_clock(clock.clone(), |config| {
        config.incidents.window_minutes = 60;
    })
    .await;
    (clock, app)
}

#[tokio::test]
async fn a_report_after_the_time_window_starts_a_new_incident() {
    let (clock, app) = with_an_hour_window_from(8, 0).await;
    let first = app.report_of("w-1", "flooding", MONTEVERDE).await;

    clock.advance(Duration::minutes(61));
    let later = app.report_of("w-2", "flooding", MONTEVERDE).await;

    assert_ne!(
        incident_of(&app, &later).await,
        incident_of(&app, &first).await
    );
}

#[tokio::test]
async fn an_incident_keeps_gathering_reports_across_the_hour_and_counts_each_once() {
    let (clock, app) = with_an_hour_window_from(8, 50).await;
    let first = app.report_of("h-1", "flooding", MONTEVERDE).await;
    clock.advance(Duration::minutes(20)); // 09:10: the incident's hour changes
    let second = app.report_of("h-2", "flooding", NEXT_DOOR).await;
    clock.advance(Duration::minutes(10)); // 09:20: same hour, counted in place
    let third = app.report_of("h-3", "flooding", MONTEVERDE).await;

    let grouped = incident_of(&app, &first).await;
    assert_eq!(incident_of(&app, &second).await, grouped);
    assert_eq!(incident_of(&app, &third).await, grouped);
    let detail = incident(&app, &grouped).await;
    assert_eq!(detail["incident"]["report_count"], 3);
    assert_eq!(detail["incident"]["open_count"], 3);
    assert_eq!(
        detail["incident"]["last_report_at"], "2026-11-24T09:20:00Z",
        "{detail}"
    );
}

#[tokio::test]
async fn operators_merge_two_incidents_and_split_a_report_out_again() {
    let app = TestApp::spawn().await;
    let token = app.operator_token().await;
    let a = app.report_of("m-1", "flooding", MONTEVERDE).await;
    let b = app.report_of("m-2", "flooding", RIO_SECCO).await;
    let (keep, absorb) = (incident_of(&app, &a).await, incident_of(&app, &b).await);

    let merge = json!({ "incidents": [absorb] });
    assert_valid("triage-requests#/$defs/merge", &merge);
    let (merged_code, merged) = app
        .post_as(&token, &format!("/api/v1/incidents/{keep}/merge"), &merge)
        .await;
    let split = json!({ "reports": [b] });
    assert_valid("triage-requests#/$defs/split", &split);
    let (split_code, split_off) = app
        .post_as(&token, &format!("/api/v1/incidents/{keep}/split"), &split)
        .await;
    let (again, refusal) = app
        .post_as(
            &token,
            &format!("/api/v1/incidents/{absorb}/merge"),
            &json!({ "incidents": [keep] }),
        )
        .await;

    assert_eq!(merged_code, 200, "{merged}");
    assert_valid("incident", &merged);
    assert_eq!(merged["report_count"], 2);
    assert_eq!(
        incident(&app, &absorb).await["incident"]["status"],
        "merged"
    );
    assert_eq!(split_code, 201, "{split_off}");
    assert_eq!(split_off["report_count"], 1);
    assert_eq!(
        incident_of(&app, &b).await,
        split_off["id"].as_str().unwrap()
    );
    assert_eq!(incident(&app, &keep).await["incident"]["report_count"], 1);
    assert_eq!(
        (again, refusal["error"].as_str()),
        (409, Some("invalid_state"))
    );
    let moves = app.history_of(&b).await;
    assert_eq!(
        moves
            .iter()
            .filter(|entry| entry["kind"] == "incident")
            .count(),
        2
    );
}

#[tokio::test]
async fn splitting_every_report_out_or_merging_an_unknown_incident_is_refused() {
    let app = TestApp::spawn().await;
    let token = app.operator_token().await;
    let a = app.report_of("s-1", "flooding", MONTEVERDE).await;
    let only = incident_of(&app, &a).await;

    let (all, all_refused) = app
        .post_as(
            &token,
            &format!("/api/v1/incidents/{only}/split"),
            &json!({ "reports": [a] }),
        )
        .await;
    let (unknown, unknown_refused) = app
        .post_as(
            &token,
            &format!("/api/v1/incidents/{only}/merge"),
            &json!({ "incidents": ["nope"] }),
        )
        .await;

    assert_eq!(
        (all, all_refused["field"].as_str()),
        (409, Some("reports")),
        "the request is sound; the incident's state rules it out"
    );
    assert_eq!(
        (unknown, unknown_refused["error"].as_str()),
        (404, Some("not_found"))
    );
    assert_eq!(incident(&app, &only).await["incident"]["report_count"], 1);
}

#[tokio::test]
async fn resolving_an_incident_resolves_its_reports_and_tells_every_reporter() {
    let app = TestApp::spawn().await;
    let token = app.operator_token().await;
    let a = app.report_of("r-1", "flooding", MONTEVERDE).await;
    let b = app.report_of("r-2", "flooding", NEXT_DOOR).await;
    let incident_id = incident_of(&app, &a).await;

    let body = json!({ "public_note": "Acqua defluita", "internal_note": "pompe del comune" });
    assert_valid("triage-requests#/$defs/resolve", &body);
    let (code, resolved) = app
        .post_as(
            &token,
            &format!("/api/v1/incidents/{incident_id}/resolve"),
            &body,
        )
        .await;

    assert_eq!(code, 200, "{resolved}");
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["open_count"], 0);
    for report in [&a, &b] {
        assert_eq!(app.report_view(report).await["status"], "resolved");
        let told = app.updates_of(report).await;
        assert_eq!(told.len(), 1);
        assert_eq!(told[0]["public_note"], "Acqua defluita");
        assert!(!json!(told).to_string().contains("pompe"));
    }
}

#[tokio::test]
async fn escalating_an_incident_opens_a_draft_notice_that_still_needs_a_second_person() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let a = app.report_of("e-1", "flooding", MONTEVERDE).await;
    app.report_of("e-2", "flooding", NEXT_DOOR).await;
    let incident_id = incident_of(&app, &a).await;
    let path = format!("/api/v1/incidents/{incident_id}/escalate");

    let (unstated, missing) = app.post_as(&team.operator, &path, &json!({})).await;
    let request = json!({ "status": "Exercise" });
    assert_valid("triage-requests#/$defs/escalate", &request);
    let (code, draft) = app.post_as(&team.operator, &path, &request).await;
    let (self_approval, refusal) = app.approve_notice(&team.operator, &draft).await;
    let (unwritten, placeholder) = app.approve_notice(&team.approver, &draft).await;
    let written = write_the_notice(&app, &team.operator, &draft).await;
    let (approval, published) = app.approve_notice(&team.approver, &written).await;

    assert_eq!((unstated, missing["field"].as_str()), (422, Some("status")));
    assert_eq!(code, 201, "{draft}");
    assert_valid("notice", &draft);
    assert_eq!(draft["state"], "draft");
    assert_eq!(draft["content"]["status"], "Exercise");
    assert_eq!(draft["content"]["category"], json!(["Met"]));
    let circle = &draft["content"]["area"]["circles"][0];
    assert!(
        (circle["lat"].as_f64().unwrap() - 44.45025).abs() < 1e-6,
        "{circle}"
    );
    assert!(circle["radius_km"].as_f64().unwrap() >= 1.0);
    assert!(draft["covered_zones"].to_string().contains("demo-001"));
    assert_eq!(self_approval, 403, "{refusal}");
    assert_eq!(
        unwritten, 422,
        "the placeholder never reaches the public: {placeholder}"
    );
    assert_eq!(placeholder["field"], "content.info.en.description");
    assert_eq!(approval, 200, "{published}");
    let escalations = app.history_of(&a).await;
    assert_eq!(escalations.last().unwrap()["kind"], "escalate");
}

#[tokio::test]
async fn a_single_report_escalates_to_its_zones() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let id = app.report_of("e-3", "landslide", RIO_SECCO).await;

    let (code, draft) = app
        .post_as(
            &team.operator,
            &format!("/api/v1/reports/{id}/escalate"),
            &json!({ "status": "Test", "area": "zones" }),
        )
        .await;

    assert_eq!(code, 201, "{draft}");
    assert_eq!(draft["content"]["area"]["zones"], json!(["demo-003"]));
    assert_eq!(draft["content"]["category"], json!(["Geo"]));
    assert_eq!(draft["content"]["status"], "Test");
}

/// What an operator does with an escalated draft: replaces the placeholder with the notice.
async fn write_the_notice(app: &TestApp, operator: &str, draft: &Value) -> Value {
    let mut content = draft["content"].clone();
    for (language, text) in [
        ("it", "Acqua in strada a Monteverde: evitare la zona."),
        ("en", "Water in the streets of Monteverde: keep away."),
    ] {
        content["info"][language]["description"] = json!(text);
    }
    let path = format!("/api/v1/notices/{}", draft["id"].as_str().unwrap());
    let body = json!({ "version": draft["version"], "content": content });
    let (status, edited) = app.send_json(Method::PUT, &path, operator, &body).await;
    assert_eq!(status, 200, "{edited}");
    edited
}
