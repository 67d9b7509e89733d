//! Staff see who else has a report open, so two operators don't triage it at once.

use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use vedetta::auth::Role;

use crate::support::{MONTEVERDE, TestApp, WsClient};

async fn staff_session(app: &TestApp, token: &str) -> WsClient {
    let mut session = WsClient::connect(&app.ws_url()).await;
    assert_eq!(session.auth(token).await["type"], "authenticated");
    session
}

#[tokio::test]
async fn an_operator_sees_who_else_has_a_report_open_until_they_leave() {
    let app = TestApp::spawn().await;
    let id = app.report_of("p-1", "flooding", MONTEVERDE).await;
    let mut olga = staff_session(&app, &app.operator_token().await).await;
    let marco_token = app.token_for("marco", Role::Approver).await;
    let mut marco = staff_session(&app, &marco_token).await;

    assert_eq!(olga.watch().await["type"], "watching");
    let at_first = olga.next_of("presence").await;
    marco
        .send_json(&json!({ "type": "viewing", "report_id": id }))
        .await;
    let while_open = olga.next_of("presence").await;
    marco
        .send_json(&json!({ "type": "viewing", "report_id": null }))
        .await;
    let after_closing = olga.next_of("presence").await;
    marco
        .send_json(&json!({ "type": "viewing", "report_id": id }))
        .await;
    olga.next_of("presence").await;
    drop(marco);
    let after_leaving = olga.next_of("presence").await;

    assert_eq!(at_first["viewing"], json!({}));
    assert_eq!(while_open["viewing"], json!({ id.clone(): ["marco"] }));
    assert_eq!(after_closing["viewing"], json!({}));
    assert_eq!(
        after_leaving["viewing"],
        json!({}),
        "a closed session is nobody's presence"
    );
}

#[tokio::test]
async fn saying_a_report_is_open_needs_a_staff_login_and_a_report_id() {
    let app = TestApp::spawn().await;
    let mut anonymous = WsClient::connect(&app.ws_url()).await;
    let mut olga = staff_session(&app, &app.operator_token().await).await;

    anonymous
        .send_json(
            &json!({ "type": "viewing", "report_id": "0192f5a0-0000-7000-8000-000000000001" }),
        )
        .await;
    let refused = anonymous.next_frame().await;
    // Sent raw: the test client checks what it sends against the schema, which forbids this.
    let malformed = json!({ "type": "viewing", "report_id": "<b>chiamate Olga</b>" });
    olga.send(Message::text(malformed.to_string())).await;
    let malformed = olga.next_frame().await;

    assert_eq!(
        (refused["type"].as_str(), refused["error"].as_str()),
        (Some("error"), Some("unauthorized"))
    );
    assert_eq!(malformed["type"], "error");
    assert_eq!(malformed["field"], "report_id");
}
