//! Publication reaching every channel: WebSocket by area and cursor, MQTT retained per zone,
//! signatures, expiry, slow consumers and delivery accounting.

use std::time::Duration as StdDuration;

use base64::Engine;
use chrono::{Duration, TimeZone, Utc};
use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use vedetta::channels::mqtt::BrokerState;
use vedetta::clock::{Clock, ManualClock};

use crate::support::notices::{notice_body, notice_expiring, openssl_verifies, zones};
use crate::support::{
    Broker, Device, MONTEVERDE, RIO_SECCO, TIMEOUT, TestApp, WsClient, assert_valid, connect_to,
};

fn point((lat, lon): (f64, f64)) -> Value {
    json!({ "point": { "lat": lat, "lon": lon } })
}

async fn connected(app: &TestApp) {
    let mut watch = app.running().hub().mqtt.state.clone();
    tokio::time::timeout(
        TIMEOUT,
        watch.wait_for(|state| *state == BrokerState::Connected),
    )
    .await
    .unwrap()
    .unwrap();
}

#[tokio::test]
async fn a_published_notice_reaches_subscribers_inside_its_area_and_not_outside() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let mut by_zone = WsClient::connect(&app.ws_url()).await;
    let mut inside = WsClient::connect(&app.ws_url()).await;
    let mut outside = WsClient::connect(&app.ws_url()).await;
    let mut staff = WsClient::connect(&app.ws_url()).await;
    by_zone.subscribe(json!({ "zones": ["demo-001"] })).await;
    inside.subscribe(point(MONTEVERDE)).await;
    outside.subscribe(point(RIO_SECCO)).await;
    assert_eq!(staff.auth(&team.viewer).await["type"], "authenticated");
    staff.subscribe(json!({ "all": true })).await;

    let north = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    let south = app
        .publish_notice(&team, &notice_body("Test", zones(&["demo-003"])))
        .await;

    for client in [&mut by_zone, &mut inside] {
        let frame = client.next_frame().await;
        assert_eq!(
            (frame["type"].as_str(), frame["notice"]["id"].as_str()),
            (Some("notice"), north["id"].as_str())
        );
    }
    // The first frame the outside subscriber gets is the notice for its own area.
    assert_eq!(outside.next_frame().await["notice"]["id"], south["id"]);
    assert_eq!(staff.next_frame().await["notice"]["id"], north["id"]);
    assert_eq!(staff.next_frame().await["notice"]["id"], south["id"]);
}

#[tokio::test]
async fn only_staff_may_subscribe_to_every_notice() {
    let app = TestApp::spawn().await;
    let mut citizen = WsClient::connect(&app.ws_url()).await;

    citizen
        .send_json(&json!({ "type": "subscribe", "all": true }))
        .await;
    let refused = citizen.next_frame().await;
    citizen
        .send_json(
            &json!({ "type": "auth", "token": "vdt_not-a-real-token-at-all-000000000000000000" }),
        )
        .await;
    let bad_token = citizen.next_frame().await;

    assert_eq!(
        (refused["type"].as_str(), refused["error"].as_str()),
        (Some("error"), Some("unauthorized"))
    );
    assert_eq!(bad_token["error"], "unauthorized");
}

#[tokio::test]
async fn a_new_subscriber_gets_the_notices_in_force_first_then_live_ones() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let first = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    let elsewhere = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-003"])))
        .await;
    let mut client = WsClient::connect(&app.ws_url()).await;

    let (owed, subscribed) = client.subscribe(point(MONTEVERDE)).await;
    let live = app
        .publish_notice(&team, &notice_body("Exercise", zones(&["demo-d1"])))
        .await;

    let owed_ids: Vec<&Value> = owed.iter().map(|frame| &frame["notice"]["id"]).collect();
    assert_eq!(owed_ids, [&first["id"]]);
    assert_eq!(subscribed["sent"], 1);
    assert_eq!(client.next_frame().await["notice"]["id"], live["id"]);
    assert_ne!(first["id"], elsewhere["id"]);
}

#[tokio::test]
async fn the_signature_verifies_independently_and_mqtt_carries_the_same_bytes() {
    let broker = Broker::start();
    let app = TestApp::spawn_with_broker(&broker).await;
    connected(&app).await;
    let team = app.team().await;
    let mut tablet = Device::connect(&broker, &app.config.mqtt_prefix(), "tablet-n1").await;
    tablet
        .subscribe(&format!("{}/notices/demo-001/+", app.config.mqtt_prefix()))
        .await;
    let mut client = WsClient::connect(&app.ws_url()).await;
    client.subscribe(json!({ "zones": ["demo-001"] })).await;

    app.publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    let over_ws = client.next_text().await;
    let (_, over_mqtt) = tablet.next_raw().await;

    assert_eq!(
        over_ws.as_bytes(),
        &over_mqtt[..],
        "one serialization, the same bytes on every channel"
    );
    let frame: Value = serde_json::from_str(&over_ws).unwrap();
    assert_valid("notice-frame", &frame);
    #[derive(serde::Deserialize)]
    struct Raw<'a> {
        #[serde(borrow)]
        notice: &'a RawValue,
    }
    let signed = serde_json::from_str::<Raw>(&over_ws)
        .unwrap()
        .notice
        .get()
        .as_bytes()
        .to_vec();
    let signature = base64::engine::general_purpose::STANDARD
        .decode(frame["signature"]["value"].as_str().unwrap())
        .unwrap();
    let (_, keys) = app.get_json_as("/api/v1/keys", None).await;
    assert_valid("keys", &keys);
    let pem = keys["keys"][0]["pem"].as_str().unwrap();
    assert_eq!(keys["keys"][0]["kid"], frame["signature"]["kid"]);
    assert!(
        openssl_verifies(pem, &signed, &signature),
        "OpenSSL accepts the signature"
    );
    let mut tampered = signed.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 1;
    assert!(
        !openssl_verifies(pem, &tampered, &signature),
        "and refuses a changed payload"
    );
}

#[tokio::test]
async fn mqtt_keeps_a_retained_notice_per_zone_for_late_joiners_and_clears_it_on_cancel() {
    let broker = Broker::start();
    let app = TestApp::spawn_with_broker(&broker).await;
    connected(&app).await;
    let team = app.team().await;
    let prefix = app.config.mqtt_prefix();
    let zone_filter = format!("{prefix}/notices/demo-001/+");
    let mut online = Device::connect(&broker, &prefix, "tablet-on").await;
    online.subscribe(&zone_filter).await;

    let notice = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    let topic = format!(
        "{prefix}/notices/demo-001/{}",
        notice["thread_id"].as_str().unwrap()
    );
    let (live_topic, live) = online.next_message().await;
    let mut late = Device::connect(&broker, &prefix, "tablet-late").await;
    late.subscribe(&zone_filter).await;
    let (retained_topic, retained) = late.next_message().await;

    assert_eq!(
        (live_topic.as_str(), retained_topic.as_str()),
        (topic.as_str(), topic.as_str())
    );
    assert_eq!(live, retained);
    assert_valid("notice-frame", &retained);

    app.follow_up(&team, &notice, "cancel").await;
    let (_, cancel) = online.next_message().await;
    let (cleared_topic, cleared) = online.next_raw().await;
    assert_eq!(cancel["notice"]["msg_type"], "Cancel");
    assert_eq!(
        (cleared_topic.as_str(), cleared.len()),
        (topic.as_str(), 0),
        "the retained message is cleared"
    );
    assert_nothing_retained(&broker, &prefix, "demo-001").await;
}

/// A new subscriber receives retained messages before anything published after it subscribed,
/// so a marker arriving first proves that nothing is retained.
async fn assert_nothing_retained(broker: &Broker, prefix: &str, zone: &str) {
    let mut fresh = Device::connect(broker, prefix, "tablet-fresh").await;
    fresh.subscribe(&format!("{prefix}/notices/{zone}/+")).await;
    let marker = format!("{prefix}/notices/{zone}/marker");
    fresh
        .client
        .publish(&marker, rumqttc::QoS::AtLeastOnce, false, b"{}".to_vec())
        .await
        .unwrap();
    let (first_topic, _) = fresh.next_raw().await;
    assert_eq!(first_topic, marker, "no notice is retained for {zone}");
}

#[tokio::test]
async fn an_update_replaces_the_retained_notice_and_clears_zones_it_no_longer_covers() {
    let broker = Broker::start();
    let app = TestApp::spawn_with_broker(&broker).await;
    connected(&app).await;
    let team = app.team().await;
    let prefix = app.config.mqtt_prefix();
    let mut watcher = Device::connect(&broker, &prefix, "tablet-watch").await;
    watcher.subscribe(&format!("{prefix}/notices/#")).await;
    let original = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-003"])))
        .await;
    let draft = app
        .send_json(
            Method::POST,
            &format!(
                "/api/v1/notices/{}/update",
                original["id"].as_str().unwrap()
            ),
            &team.operator,
            &Value::Null,
        )
        .await
        .1;
    let mut content = draft["content"].clone();
    content["area"] = zones(&["demo-001"]);
    let (_, edited) = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/notices/{}", draft["id"].as_str().unwrap()),
            &team.operator,
            &json!({ "version": 1, "content": content }),
        )
        .await;

    let (status, update) = app.approve_notice(&team.approver, &edited).await;
    assert_eq!(status, 200, "{update}");

    let cleared = format!(
        "{prefix}/notices/demo-003/{}",
        original["thread_id"].as_str().unwrap()
    );
    while watcher.next_raw().await != (cleared.clone(), Vec::new()) {}
    let mut north = Device::connect(&broker, &prefix, "tablet-north").await;
    north
        .subscribe(&format!("{prefix}/notices/demo-001/+"))
        .await;
    let (_, retained) = north.next_message().await;
    assert_eq!(retained["notice"]["id"], update["id"]);
    assert_eq!(
        retained["notice"]["references"]
            .as_str()
            .unwrap()
            .split(',')
            .nth(1),
        original["identifier"].as_str()
    );
    assert_nothing_retained(&broker, &prefix, "demo-003").await;
}

#[tokio::test]
async fn at_its_expiry_a_notice_leaves_mqtt_websocket_and_the_feeds() {
    let broker = Broker::start();
    let clock = ManualClock::starting_at(Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap());
    let app = TestApp::spawn_with_clock(clock.clone(), |config| connect_to(config, &broker)).await;
    connected(&app).await;
    let team = app.team().await;
    let prefix = app.config.mqtt_prefix();
    let body = notice_expiring(
        "Actual",
        zones(&["demo-001"]),
        clock.as_ref().now() + Duration::hours(2),
    );
    let notice = app.publish_notice(&team, &body).await;
    let mut tablet = Device::connect(&broker, &prefix, "tablet-exp").await;
    tablet
        .subscribe(&format!("{prefix}/notices/demo-001/+"))
        .await;
    tablet.next_message().await;
    let mut client = WsClient::connect(&app.ws_url()).await;
    let (owed, _) = client.subscribe(json!({ "zones": ["demo-001"] })).await;
    assert_eq!(owed.len(), 1);

    clock.advance(Duration::hours(3));

    let expired = client.next_frame().await;
    assert_eq!(
        (expired["type"].as_str(), expired["id"].as_str()),
        (Some("notice_expired"), notice["id"].as_str())
    );
    let (_, cleared) = tablet.next_raw().await;
    assert!(cleared.is_empty(), "the retained message is cleared");
    let (_, atom) = app.get_text("/feeds/cap.atom").await;
    assert!(
        !atom.contains(notice["id"].as_str().unwrap()),
        "the feed no longer lists it"
    );
    let (_, stored) = app
        .get_json(&format!(
            "/api/v1/notices/{}",
            notice["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(stored["state"], "expired");
}

/// A WebSocket client whose socket accepts almost nothing and which never reads.
async fn stalled_client(
    app: &TestApp,
) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(2048).unwrap();
    let stream = socket.connect(app.running().http_addr()).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(app.ws_url(), stream)
        .await
        .unwrap();
    ws.send(Message::text(
        json!({ "type": "subscribe", "zones": ["demo-001"] }).to_string(),
    ))
    .await
    .unwrap();
    ws
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_while_the_others_keep_receiving() {
    let app = TestApp::spawn_with(|config| config.ws.write_timeout_secs = 1).await;
    let team = app.team().await;
    let mut healthy = WsClient::connect(&app.ws_url()).await;
    healthy.subscribe(json!({ "zones": ["demo-001"] })).await;
    let sessions = &app.running().hub().tasks;
    let without_stalled = sessions.len();
    let mut stalled = stalled_client(&app).await;
    let mut body = notice_body("Test", zones(&["demo-001"]));
    body["info"]["it"]["description"] = json!("x".repeat(7000));
    body["info"]["en"]["description"] = json!("y".repeat(7000));

    for _ in 0..20 {
        let notice = app.publish_notice(&team, &body).await;
        let frame = tokio::time::timeout(StdDuration::from_secs(2), healthy.next_frame())
            .await
            .expect("the healthy client is not held up");
        assert_eq!(frame["notice"]["id"], notice["id"]);
    }
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while sessions.len() > without_stalled {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stalled session was never dropped"
        );
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }

    let mut stalled_got = 0;
    while let Ok(Some(Ok(message))) = tokio::time::timeout(TIMEOUT, stalled.next()).await {
        stalled_got += usize::from(
            message.is_text() && message.to_text().unwrap().contains("\"type\":\"notice\""),
        );
    }
    assert!(
        stalled_got < 20,
        "the stalled client got only what fitted in the buffers ({stalled_got})"
    );
}

/// A stalled client that first reads the welcome and its subscription's answer, so that it
/// is live when it stops reading.
async fn live_then_stalled(
    app: &TestApp,
) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    let mut client = stalled_client(app).await;
    while let Some(Ok(message)) = client.next().await {
        if message
            .to_text()
            .is_ok_and(|text| text.contains(r#""type":"subscribed""#))
        {
            break;
        }
    }
    client
}

/// Reads up to the close frame: the notice frames that came first, and the close.
async fn notices_then_close(
    client: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
) -> (
    Vec<Value>,
    tokio_tungstenite::tungstenite::protocol::CloseFrame,
) {
    let mut notices = Vec::new();
    loop {
        let next = tokio::time::timeout(TIMEOUT, client.next()).await;
        match next.expect("the hub writes on once the client reads") {
            Some(Ok(Message::Text(text))) => {
                let frame: Value = serde_json::from_str(&text).expect("whole JSON frames");
                if frame["type"] == "notice" {
                    notices.push(frame);
                }
            }
            Some(Ok(Message::Close(frame))) => {
                return (notices, frame.expect("a close frame with a code"));
            }
            Some(Ok(_)) => {}
            other => panic!("the connection ended without a close frame: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_subscriber_too_slow_for_its_notices_gets_those_it_had_then_a_1008_close_saying_resume() {
    // A long write timeout: the session must be closed for its queue, not for stalling.
    let app = TestApp::spawn_with(|config| config.ws.write_timeout_secs = 60).await;
    let team = app.team().await;
    let mut slow = live_then_stalled(&app).await;
    let mut body = notice_body("Test", zones(&["demo-001"]));
    body["info"]["it"]["description"] = json!("x".repeat(7000));
    body["info"]["en"]["description"] = json!("y".repeat(7000));
    let metrics = &app.running().hub().metrics;
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    let mut published = 0;
    while !metrics.render().contains(r#"reason="too_slow""#) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slow session was never found too slow: {}",
            metrics.render()
        );
        app.publish_notice(&team, &body).await;
        published += 1;
    }

    let (notices, close) = notices_then_close(&mut slow).await;
    let notices = notices.len();
    assert_eq!(u16::from(close.code), 1008);
    assert!(close.reason.starts_with("too slow"), "{}", close.reason);
    assert!(
        notices > 0 && notices < published,
        "the notices already on their way arrive whole first, not all {published} ({notices})"
    );
}

#[tokio::test]
async fn a_notice_counts_the_sessions_and_zone_topics_it_reached() {
    let broker = Broker::start();
    let app = TestApp::spawn_with_broker(&broker).await;
    connected(&app).await;
    let team = app.team().await;
    let mut first = WsClient::connect(&app.ws_url()).await;
    let mut second = WsClient::connect(&app.ws_url()).await;
    first.subscribe(json!({ "zones": ["demo-001"] })).await;
    second.subscribe(point(MONTEVERDE)).await;

    let notice = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    first.next_frame().await;
    second.next_frame().await;

    let path = format!("/api/v1/notices/{}", notice["id"].as_str().unwrap());
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let (_, stored) = app.get_json(&path).await;
        let deliveries = &stored["deliveries"];
        if deliveries["ws_sessions"] == 2 && deliveries["mqtt_topics"] == 2 {
            assert_valid("notice", &stored);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "deliveries stayed at {deliveries}"
        );
        tokio::task::yield_now().await;
    }
}
