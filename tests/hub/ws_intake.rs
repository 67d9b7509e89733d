//! Reports over WebSocket: acked only after commit; bad frames answered, the connection survives.

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::bad_input::strict_app;
use crate::support::{MONTEVERDE, TestApp, WsClient, assert_valid, report};

#[tokio::test]
async fn a_session_starts_with_a_welcome_naming_the_office_and_limits() {
    let app = TestApp::spawn().await;

    let client = WsClient::connect(&app.ws_url()).await;

    assert_eq!(client.welcome["office"], "demo");
    assert_eq!(
        client.welcome["max_message_bytes"],
        app.config.intake.max_body_bytes
    );
}

#[tokio::test]
async fn a_report_frame_is_acked_once_the_report_is_on_disk() {
    let app = TestApp::spawn().await;
    let mut client = WsClient::connect(&app.ws_url()).await;

    let ack = client.report(&report("ws-1", MONTEVERDE)).await;

    assert_eq!(ack["type"], "ack");
    assert_eq!(ack["client_ref"], "ws-1");
    assert_valid("receipt", &ack["report"]);
    assert_eq!(ack["report"]["zones"][0]["id"], "demo-001");
    // The ack came after COMMIT: another connection reads the report straight away.
    let (status, stored) = app
        .get_json(&format!(
            "/api/v1/reports/{}",
            ack["report"]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!((status, stored["source"].as_str()), (200, Some("ws")));
}

#[tokio::test]
async fn resending_a_report_frame_returns_the_same_id_and_stores_it_once() {
    let app = TestApp::spawn().await;
    let mut client = WsClient::connect(&app.ws_url()).await;
    let first = client.report(&report("ws-retry", MONTEVERDE)).await;

    let mut reconnected = WsClient::connect(&app.ws_url()).await;
    let second = reconnected.report(&report("ws-retry", MONTEVERDE)).await;

    assert_eq!(first["report"]["id"], second["report"]["id"]);
    assert_eq!(second["report"]["duplicate"], true);
    assert_eq!(app.stored_reports(), 1);
}

/// (case, message, error code, field)
fn bad_frames() -> Vec<(&'static str, Message, &'static str, Option<&'static str>)> {
    let frame =
        |report: Value| Message::text(json!({ "type": "report", "report": report }).to_string());
    let mut far_north = report("bad", MONTEVERDE);
    far_north["lat"] = json!(123.0);
    let mut volcano = report("bad", MONTEVERDE);
    volcano["category"] = json!("volcano");
    let mut essay = report("bad", MONTEVERDE);
    essay["text"] = json!("x".repeat(51));
    let mut no_category = report("bad", MONTEVERDE);
    no_category.as_object_mut().unwrap().remove("category");
    vec![
        (
            "malformed JSON",
            Message::text("{\"type\": \"report\", "),
            "malformed_json",
            None,
        ),
        (
            "unknown frame type",
            Message::text(r#"{"type":"subscribe-all-the-things"}"#),
            "unknown_frame_type",
            Some("type"),
        ),
        (
            "no frame type",
            Message::text(r#"{"report":{}}"#),
            "missing_field",
            Some("type"),
        ),
        (
            "report frame without a report",
            Message::text(r#"{"type":"report"}"#),
            "missing_field",
            Some("report"),
        ),
        (
            "latitude out of range",
            frame(far_north),
            "invalid_field",
            Some("report.lat"),
        ),
        (
            "unknown category",
            frame(volcano),
            "unknown_category",
            Some("report.category"),
        ),
        (
            "missing category",
            frame(no_category),
            "missing_field",
            Some("report.category"),
        ),
        (
            "text over the limit",
            frame(essay),
            "too_long",
            Some("report.text"),
        ),
        (
            "invalid UTF-8 in a binary frame",
            Message::binary(vec![b'{', 0xFF, 0xFE, b'}']),
            "invalid_utf8",
            None,
        ),
        (
            "a message over the size limit",
            Message::text(" ".repeat(17 * 1024)),
            "too_large",
            None,
        ),
    ]
}

#[tokio::test]
async fn each_bad_frame_gets_an_error_frame_and_the_connection_survives() {
    let app = strict_app().await;
    let mut client = WsClient::connect(&app.ws_url()).await;

    for (case, message, code, field) in bad_frames() {
        client.send(message).await;
        let error = client.next_frame().await;

        assert_eq!(error["type"], "error", "{case}");
        assert_eq!(error["error"], code, "{case}: {error}");
        assert_eq!(error["field"].as_str(), field, "{case}: {error}");
    }
    let ack = client.report(&report("after-errors", MONTEVERDE)).await;
    assert_eq!(ack["type"], "ack");
    assert_eq!(app.stored_reports(), 1);
}

#[tokio::test]
async fn an_error_frame_carries_the_client_ref_of_the_refused_report() {
    let app = TestApp::spawn().await;
    let mut client = WsClient::connect(&app.ws_url()).await;
    let mut body = report("mine-7", MONTEVERDE);
    body["lat"] = json!(-100);

    client
        .send(Message::text(
            json!({ "type": "report", "report": body }).to_string(),
        ))
        .await;
    let error = client.next_frame().await;

    assert_eq!(
        (error["error"].as_str(), error["client_ref"].as_str()),
        (Some("invalid_field"), Some("mine-7"))
    );
}
