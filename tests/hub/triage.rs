//! Triage over the API: statuses, notes, history, targets, versions and roles.

use serde_json::json;
use vedetta::auth::Role;

use crate::support::{MONTEVERDE, TestApp, assert_valid};

#[tokio::test]
async fn an_operator_moves_a_report_through_its_statuses_and_each_step_is_in_its_history() {
    let app = TestApp::spawn().await;
    let id = app.report_of("t-1", "flooding", MONTEVERDE).await;

    let (code, acknowledged) = app
        .change(
            &id,
            json!({ "status": "acknowledged", "public_note": "Ricevuta, la verifichiamo.",
                    "internal_note": "Chiamare il vicino al 333" }),
        )
        .await;
    app.move_to(&id, "in_progress").await;
    let resolved = app.move_to(&id, "resolved").await;

    assert_eq!(code, 200, "{acknowledged}");
    assert_eq!(acknowledged["status"], "acknowledged");
    assert_eq!(acknowledged["public_note"], "Ricevuta, la verifichiamo.");
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["version"], 4);
    assert!(resolved["acknowledged_at"].is_string() && resolved["closed_at"].is_string());
    let history = app.history_of(&id).await;
    let statuses: Vec<&str> = history
        .iter()
        .filter_map(|e| e["status"].as_str())
        .collect();
    assert_eq!(statuses, ["acknowledged", "in_progress", "resolved"]);
    assert_eq!(history[0]["actor"], "olga");
    assert_eq!(history[0]["internal_note"], "Chiamare il vicino al 333");
    let audited = app.count_rows(&format!(
        "SELECT count(*) FROM audit WHERE action = 'report.status' AND subject = '{id}' AND actor = 'olga'"
    ));
    assert_eq!(audited, 3);
}

#[tokio::test]
async fn a_resolved_report_cannot_go_back_to_received_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let id = app.report_of("t-2", "flooding", MONTEVERDE).await;
    let resolved = app.move_to(&id, "resolved").await;

    let (code, refusal) = app.change(&id, json!({ "status": "received" })).await;

    assert_eq!(code, 409);
    assert_valid("error", &refusal);
    assert_eq!(refusal["error"], "invalid_transition");
    assert!(
        refusal["message"].as_str().unwrap().contains("in_progress"),
        "the error says what is possible: {refusal}"
    );
    let unchanged = app.report_view(&id).await;
    assert_eq!(
        (&unchanged["status"], &unchanged["version"]),
        (&resolved["status"], &resolved["version"])
    );
    let reopened = app.move_to(&id, "in_progress").await;
    assert!(reopened["closed_at"].is_null());
}

#[tokio::test]
async fn a_change_made_on_a_stale_version_is_refused_with_409_and_not_applied() {
    let app = TestApp::spawn().await;
    let id = app.report_of("t-3", "flooding", MONTEVERDE).await;
    let seen = app.report_view(&id).await["version"].as_i64().unwrap();
    let second = app.token_for("otto", Role::Operator).await;
    app.move_to(&id, "acknowledged").await;

    let (code, refusal) = app
        .post_as(
            &second,
            &format!("/api/v1/reports/{id}/status"),
            &json!({ "status": "rejected", "reason": "spam", "version": seen }),
        )
        .await;

    assert_eq!(code, 409);
    assert_eq!(refusal["error"], "stale_version");
    assert_eq!(refusal["field"], "version");
    let now = app.report_view(&id).await;
    assert_eq!(now["status"], "acknowledged");
    assert_eq!(now["version"], seen + 1);
    assert_eq!(app.history_of(&id).await.len(), 1);
}

#[tokio::test]
async fn a_rejection_needs_a_reason_and_the_reporter_is_told_which() {
    let app = TestApp::spawn().await;
    let id = app.report_of("t-4", "flooding", MONTEVERDE).await;

    let (without, refusal) = app.change(&id, json!({ "status": "rejected" })).await;
    let (with, rejected) = app
        .change(&id, json!({ "status": "rejected", "reason": "duplicate" }))
        .await;

    assert_eq!((without, refusal["field"].as_str()), (422, Some("reason")));
    assert_eq!(with, 200, "{rejected}");
    assert_eq!(rejected["rejection_reason"], "duplicate");
    let updates = app.updates_of(&id).await;
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0]["status"], "rejected");
    assert_eq!(updates[0]["reason"], "duplicate");
}

#[tokio::test]
async fn viewers_read_reports_but_cannot_triage_them() {
    let app = TestApp::spawn().await;
    let id = app.report_of("t-5", "flooding", MONTEVERDE).await;
    let viewer = app.token_for("vera", Role::Viewer).await;

    let (code, refusal) = app
        .post_as(
            &viewer,
            &format!("/api/v1/reports/{id}/status"),
            &json!({ "status": "acknowledged", "version": 1 }),
        )
        .await;
    let (history_code, _) = app
        .get_json_as(&format!("/api/v1/reports/{id}/history"), Some(&viewer))
        .await;

    assert_eq!((code, refusal["error"].as_str()), (403, Some("forbidden")));
    assert_eq!(history_code, 200);
    assert_eq!(app.report_view(&id).await["status"], "received");
}

#[tokio::test]
async fn an_unknown_report_an_overlong_note_and_a_bad_status_get_clear_errors_and_change_nothing() {
    let app = TestApp::spawn_with(|config| config.triage.max_note_chars = 20).await;
    let id = app.report_of("t-6", "flooding", MONTEVERDE).await;
    let token = app.operator_token().await;

    let (unknown, missing) = app
        .post_as(
            &token,
            "/api/v1/reports/no-such-report/status",
            &json!({ "status": "acknowledged", "version": 1 }),
        )
        .await;
    let (long, too_long) = app
        .change(
            &id,
            json!({ "status": "acknowledged", "public_note": "x".repeat(21) }),
        )
        .await;
    let (bad, invalid) = app
        .post_as(
            &token,
            &format!("/api/v1/reports/{id}/status"),
            &json!({ "status": "closed", "version": 1 }),
        )
        .await;

    assert_eq!(
        (unknown, missing["error"].as_str()),
        (404, Some("not_found"))
    );
    assert_eq!(
        (long, too_long["field"].as_str()),
        (422, Some("public_note"))
    );
    assert_eq!((bad, invalid["field"].as_str()), (422, Some("status")));
    assert_eq!(app.report_view(&id).await["version"], 1);
    assert_eq!(app.count_rows("SELECT count(*) FROM report_history"), 0);
}

#[tokio::test]
async fn each_report_shows_when_it_is_due_by_its_category_targets() {
    let app = TestApp::spawn_with(|config| {
        config.triage.acknowledge_within = "30m".into();
        config.triage.resolve_within = "2d".into();
    })
    .await;

    let fire = app
        .report_view(&app.report_of("t-7", "fire", MONTEVERDE).await)
        .await;
    let flood = app
        .report_view(&app.report_of("t-8", "flooding", MONTEVERDE).await)
        .await;

    let after = |view: &serde_json::Value, field: &str| {
        let due = chrono::DateTime::parse_from_rfc3339(view[field].as_str().unwrap()).unwrap();
        let received =
            chrono::DateTime::parse_from_rfc3339(view["received_at"].as_str().unwrap()).unwrap();
        (due - received).num_minutes()
    };
    assert_eq!(
        after(&fire, "acknowledge_due_at"),
        5,
        "fires: 5 minutes by default"
    );
    assert_eq!(after(&flood, "acknowledge_due_at"), 30);
    assert_eq!(after(&flood, "resolve_due_at"), 2 * 24 * 60);
    assert_eq!(fire["overdue"], false);
}
