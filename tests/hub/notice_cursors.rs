//! Notice subscribers coming back: a WebSocket cursor returns exactly what was missed, and a
//! cursor the hub cannot stand behind (kept from before a restored backup) gets what is in force.

use serde_json::{Value, json};

use crate::support::notices::{notice_body, zones};
use crate::support::{TestApp, WsClient};

/// A cursor no event will reach for thousands of years: cursors follow the clock's milliseconds.
const BEYOND: i64 = 9_000_000_000_000_000;

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
        .subscribe(json!({ "zones": ["demo-001"], "cursor": BEYOND }))
        .await;
    let later = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;

    let owed_ids: Vec<&Value> = owed.iter().map(|frame| &frame["notice"]["id"]).collect();
    assert_eq!(owed_ids, [&in_force["id"]]);
    assert_eq!(subscribed["sent"], 1);
    assert!(subscribed["cursor"].as_i64().unwrap() < BEYOND);
    assert_eq!(client.next_frame().await["notice"]["id"], later["id"]);
}

#[tokio::test]
async fn a_cursor_kept_from_before_a_restored_backup_misses_no_notice_published_after_it() {
    let mut app = TestApp::spawn().await;
    let team = app.team().await;
    let area = zones(&["demo-001"]);
    app.publish_notice(&team, &notice_body("Actual", area.clone()))
        .await;
    app.stop().await;
    let database = app.data_dir.path().join(vedetta::DATABASE_FILE);
    let backup = app.data_dir.path().join("backup.sqlite3");
    std::fs::copy(&database, &backup).unwrap();
    app.restart().await;
    let mut phone = WsClient::connect(&app.ws_url()).await;
    phone.subscribe(json!({ "zones": ["demo-001"] })).await;
    app.publish_notice(&team, &notice_body("Actual", area.clone()))
        .await;
    let kept = phone.next_frame().await["cursor"].as_i64().unwrap();
    drop(phone);

    app.stop().await;
    std::fs::copy(&backup, &database).unwrap();
    for stale in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{stale}", database.display()));
    }
    app.restart().await;
    let after_restore = app
        .publish_notice(&team, &notice_body("Actual", area))
        .await;
    let mut back = WsClient::connect(&app.ws_url()).await;
    let (owed, _) = back
        .subscribe(json!({ "zones": ["demo-001"], "cursor": kept }))
        .await;

    let owed_ids: Vec<&Value> = owed.iter().map(|frame| &frame["notice"]["id"]).collect();
    assert!(
        owed_ids.contains(&&after_restore["id"]),
        "the notice published after the restore reaches the phone that kept {kept}: {owed:?}"
    );
}
