//! A staff WebSocket session lasts only as long as its login: a logout, a disabled account or
//! a new role reaches it at once, and a second login on the same socket starts afresh.

use reqwest::Method;
use serde_json::{Value, json};
use vedetta::auth::{Role, UserChanges};

use crate::support::ws::WsClient;
use crate::support::{MONTEVERDE, TestApp};

async fn watching(app: &TestApp, token: &str) -> WsClient {
    let mut session = WsClient::connect(&app.ws_url()).await;
    assert_eq!(session.auth(token).await["type"], "authenticated");
    assert_eq!(session.watch().await["type"], "watching");
    session.next_of("presence").await; // the first thing a watcher hears
    session
}

async fn assert_closed_for_the_login(session: &mut WsClient, case: &str) {
    let (code, reason) = session.closed().await.expect("a close frame");
    assert_eq!(code, 1008, "{case}: {reason}");
    assert!(reason.starts_with("your login"), "{case}: {reason}");
}

#[tokio::test]
async fn a_watching_session_is_closed_when_its_login_is_logged_out_disabled_or_given_another_role()
{
    let app = TestApp::spawn().await;
    let accounts = &app.running().hub().accounts;
    let (olga, dario, rita) = (
        app.token_for("olga", Role::Operator).await,
        app.token_for("dario", Role::Operator).await,
        app.token_for("rita", Role::Operator).await,
    );
    let (mut logged_out, mut disabled, mut demoted) = (
        watching(&app, &olga).await,
        watching(&app, &dario).await,
        watching(&app, &rita).await,
    );

    let (status, _) = app
        .send_json(Method::POST, "/api/v1/auth/logout", &olga, &Value::Null)
        .await;
    assert_eq!(status, 204);
    assert_closed_for_the_login(&mut logged_out, "logged out").await;
    let disable = UserChanges {
        disabled: Some(true),
        ..UserChanges::default()
    };
    accounts
        .update_user("test", "dario", disable)
        .await
        .unwrap();
    assert_closed_for_the_login(&mut disabled, "disabled").await;
    let demote = UserChanges {
        role: Some(Role::Viewer),
        ..UserChanges::default()
    };
    accounts.update_user("test", "rita", demote).await.unwrap();
    assert_closed_for_the_login(&mut demoted, "made a viewer").await;
}

#[tokio::test]
async fn logging_in_again_on_a_session_as_a_role_that_may_not_watch_stops_the_queue() {
    let app = TestApp::spawn().await;
    let operator = app.operator_token().await;
    let admin = app.token_for("adele", Role::Admin).await;
    let mut session = watching(&app, &operator).await;
    let mut colleague = watching(&app, &operator).await;

    assert_eq!(session.auth(&admin).await["type"], "authenticated");
    app.report_of("relogin-1", "flooding", MONTEVERDE).await;
    colleague.next_of("report").await;
    session.send_json(&json!({ "type": "watch" })).await;

    // A queued report event would come first: the session reads its queue before new frames.
    let answer = session.next_frame().await;
    assert_eq!(answer["type"], "error", "{answer}");
    assert_eq!(answer["error"], "forbidden", "{answer}");
}
