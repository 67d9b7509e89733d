//! The delivery ledger: what each notice reached, per channel and kind of destination, kept
//! through restarts, with room for a channel that did not exist when the database was made.

use std::time::Duration;

use serde_json::{Value, json};
use vedetta::notices::Destination;

use crate::support::notices::{notice_body, zones};
use crate::support::{TestApp, WsClient, assert_valid};

const TIMEOUT: Duration = Duration::from_secs(10);

async fn deliveries_when(app: &TestApp, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let (_, notice) = app.get_json(path).await;
        if done(&notice["deliveries"]) {
            assert_valid("notice", &notice);
            return notice["deliveries"].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "deliveries stayed at {}",
            notice["deliveries"]
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn every_channel_counts_in_one_ledger_that_a_restart_keeps_and_a_new_channel_needs_no_migration_for()
 {
    let mut app = TestApp::spawn().await;
    let team = app.team().await;
    let mut subscriber = WsClient::connect(&app.ws_url()).await;
    subscriber.subscribe(json!({ "zones": ["demo-001"] })).await;
    let notice = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    subscriber.next_frame().await;
    let id = notice["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/notices/{id}");
    let email = Destination {
        channel: "email",
        kind: "addresses",
    };

    deliveries_when(&app, &path, |d| {
        d["by_channel"]["websocket"]["sessions"] == 1
    })
    .await;
    app.running()
        .hub()
        .notices
        .deliveries()
        .counter(&id, None)
        .add(email, 3);
    app.restart().await;
    let after_restart = deliveries_when(&app, &path, |d| !d.is_null()).await;

    assert_eq!(
        after_restart,
        json!({
            "ws_sessions": 1,
            "mqtt_topics": 0,
            "by_channel": { "email": { "addresses": 3 }, "websocket": { "sessions": 1 } },
        })
    );
    assert_eq!(
        app.count_rows("SELECT count(*) FROM deliveries WHERE channel = 'email'"),
        1
    );
}
