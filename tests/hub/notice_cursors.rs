//! Notice subscribers coming back: a WebSocket cursor returns exactly what was missed, and a
//! cursor the hub cannot stand behind (kept from before a restored backup) gets what is in force.

use serde_json::{Value, json};

use crate::support::notices::{notice_body, zones};
use crate::support::{TestApp, WsClient};

#[tokio::test]
async fn reconnecting_with_a_cursor_returns_exactly_the_missed_notices() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let mut client = WsClient::connect(&app.ws_url()).await;
    client.subscribe(json!({ "zones": ["demo-001"] })).await;
    let seen = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    let cursor = client.next_frame().await["cursor"].as_i64().unwrap();
    drop(client);

    let missed_one = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    app.publish_notice(&team, &notice_body("Actual", zones(&["demo-003"])))
        .await;
    let missed_update = app.follow_up(&team, &seen, "update").await;
    let mut back = WsClient::connect(&app.ws_url()).await;
    let (owed, subscribed) = back
        .subscribe(json!({ "zones": ["demo-001"], "cursor": cursor }))
        .await;

    let owed_ids: Vec<&Value> = owed.iter().map(|frame| &frame["notice"]["id"]).collect();
    assert_eq!(owed_ids, [&missed_one["id"], &missed_update["id"]]);
    assert!(subscribed["cursor"].as_i64().unwrap() > cursor);
}

#[tokio::test]
async fn a_cursor_from_beyond_the_newest_notice_event_gets_the_notices_in_force() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let in_force = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    let mut client = WsClient::connect(&app.ws_url()).await;

    let (owed, subscribed) = client
        .subscribe(json!({ "zones": ["demo-001"], "cursor": 1_000_000 }))
        .await;
    let later = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;

    let owed_ids: Vec<&Value> = owed.iter().map(|frame| &frame["notice"]["id"]).collect();
    assert_eq!(owed_ids, [&in_force["id"]]);
    assert_eq!(subscribed["sent"], 1);
    assert!(subscribed["cursor"].as_i64().unwrap() < 1_000_000);
    assert_eq!(client.next_frame().await["notice"]["id"], later["id"]);
}
