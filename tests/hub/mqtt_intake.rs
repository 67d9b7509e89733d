//! Reports over MQTT through a real Mosquitto: acks on the device inbox, persistent session,
//! and a hub that keeps serving while the broker is down.

use serde_json::{Value, json};
use vedetta::channels::mqtt::BrokerState;

use crate::support::{
    Broker, Device, MONTEVERDE, TIMEOUT, TestApp, WsClient, assert_valid, connect_to, report,
};

fn prefix(app: &TestApp) -> String {
    app.config.mqtt_prefix()
}

fn device_report(client_ref: &str) -> Value {
    let mut body = report(client_ref, MONTEVERDE);
    body.as_object_mut().unwrap().remove("device_id");
    body
}

/// Waits until the hub's MQTT link reaches `state`.
/// A broker, a hub connected to it, and a device of that name on its inbox.
async fn hub_and_device(name: &str) -> (Broker, TestApp, Device) {
    let broker = Broker::start();
    let app = TestApp::spawn_with_broker(&broker).await;
    broker_state(&app, BrokerState::Connected).await;
    let device = Device::connect(&broker, &prefix(&app), name).await;
    (broker, app, device)
}

async fn broker_state(app: &TestApp, state: BrokerState) {
    let mut watch = app.running().hub().mqtt.state.clone();
    tokio::time::timeout(TIMEOUT, watch.wait_for(|now| *now == state))
        .await
        .unwrap_or_else(|_| panic!("the hub's MQTT link did not become {state:?}"))
        .unwrap();
}

#[tokio::test]
async fn a_device_report_is_acked_on_the_device_inbox_after_it_is_stored() {
    let (_broker, app, mut device) = hub_and_device("tablet-7").await;

    device.publish_report(&device_report("m-1")).await;
    let ack = device.next_answer().await;

    assert_eq!(ack["type"], "ack");
    assert_eq!(ack["client_ref"], "m-1");
    let (_, stored) = app
        .get_json(&format!(
            "/api/v1/reports/{}",
            ack["report"]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(stored["source"], "mqtt");
    assert_eq!(
        app.count_rows("SELECT count(*) FROM reports WHERE device_id = 'tablet-7'"),
        1
    );
}

#[tokio::test]
async fn a_redelivered_report_is_stored_once_and_acked_with_the_same_id() {
    let (_broker, app, mut device) = hub_and_device("tablet-8").await;

    device.publish_report(&device_report("again")).await;
    let first = device.next_answer().await;
    device.publish_report(&device_report("again")).await;
    let second = device.next_answer().await;

    assert_eq!(first["report"]["id"], second["report"]["id"]);
    assert_eq!(second["report"]["duplicate"], true);
    assert_eq!(app.stored_reports(), 1);
}

#[tokio::test]
async fn a_bad_payload_gets_an_error_on_the_inbox_and_the_next_report_still_goes_through() {
    let (_broker, app, mut device) = hub_and_device("tablet-9").await;
    let mut other_device = device_report("wrong-device");
    other_device["device_id"] = json!("someone-else");
    let cases: Vec<(Vec<u8>, &str, Option<&str>)> = vec![
        (b"not json at all".to_vec(), "malformed_json", None),
        (vec![b'{', 0xC3, 0x28, b'}'], "invalid_utf8", None),
        (
            json!({"client_ref": "x", "category": "fire", "lat": 44.4})
                .to_string()
                .into_bytes(),
            "missing_field",
            Some("lon"),
        ),
        (
            other_device.to_string().into_bytes(),
            "invalid_field",
            Some("device_id"),
        ),
    ];

    for (payload, code, field) in cases {
        device.publish_report_bytes(payload).await;
        let error = device.next_answer().await;
        assert_eq!(
            (error["error"].as_str(), error["field"].as_str()),
            (Some(code), field),
            "{error}"
        );
    }
    device.publish_report(&device_report("good")).await;

    assert_eq!(device.next_answer().await["type"], "ack");
    assert_eq!(app.stored_reports(), 1);
}

#[tokio::test]
async fn a_device_whose_topic_names_no_valid_device_id_is_told_so_on_that_topics_inbox() {
    let (_broker, app, mut device) = hub_and_device("field tablet 3").await;

    device.publish_report(&device_report("first")).await;
    let error = device.next_answer().await;

    assert_eq!(
        (error["error"].as_str(), error["field"].as_str()),
        (Some("invalid_field"), Some("device_id")),
        "{error}"
    );
    assert_eq!(error["client_ref"], "first");
    assert_eq!(app.stored_reports(), 0);
}

#[tokio::test]
async fn reports_published_while_the_hub_was_away_arrive_when_it_returns() {
    let broker = Broker::start();
    let mut app = TestApp::spawn_with_broker(&broker).await;
    broker_state(&app, BrokerState::Connected).await;
    let mut device = Device::connect(&broker, &prefix(&app), "tablet-10").await;
    // One round trip proves the hub's subscription exists in its persistent session.
    device.publish_report(&device_report("before")).await;
    device.next_answer().await;

    app.stop().await;
    device.publish_report(&device_report("while-away")).await;
    app.restart().await;
    let ack = device.next_answer().await;

    assert_eq!(
        (ack["type"].as_str(), ack["client_ref"].as_str()),
        (Some("ack"), Some("while-away"))
    );
    assert_eq!(app.stored_reports(), 2);
}

#[tokio::test]
async fn with_the_broker_gone_http_and_websocket_keep_serving_and_mqtt_comes_back() {
    let mut broker = Broker::start();
    let app = TestApp::spawn_with_broker(&broker).await;
    broker_state(&app, BrokerState::Connected).await;

    broker.stop();
    broker_state(&app, BrokerState::Disconnected).await;
    let over_http = app
        .post_report(&report("during-outage-http", MONTEVERDE))
        .await;
    let over_ws = WsClient::connect(&app.ws_url())
        .await
        .report(&report("during-outage-ws", MONTEVERDE))
        .await;
    let (_, readiness) = app.get_json("/readyz").await;

    assert_eq!(over_http.status(), 201);
    assert_eq!(over_ws["type"], "ack");
    assert_valid("readiness", &readiness);
    assert_eq!(
        (readiness["ready"].as_bool(), readiness["mqtt"].as_str()),
        (Some(true), Some("disconnected"))
    );

    broker.launch();
    broker_state(&app, BrokerState::Connected).await;
    let mut device = Device::connect(&broker, &prefix(&app), "tablet-11").await;
    device.publish_report(&device_report("after-outage")).await;
    assert_eq!(device.next_answer().await["type"], "ack");
    assert_eq!(app.stored_reports(), 3);
}

#[tokio::test]
async fn a_hub_started_while_the_broker_is_down_serves_and_connects_when_it_comes_up() {
    let mut broker = Broker::not_started();
    let app = TestApp::spawn_with(|config| connect_to(config, &broker)).await;

    let response = app.post_report(&report("no-broker-yet", MONTEVERDE)).await;
    assert_eq!(response.status(), 201);

    broker.launch();
    broker_state(&app, BrokerState::Connected).await;
    let mut device = Device::connect(&broker, &prefix(&app), "tablet-12").await;
    device.publish_report(&device_report("first-contact")).await;
    assert_eq!(device.next_answer().await["type"], "ack");
}

#[tokio::test]
async fn the_hub_announces_itself_online_retained_and_offline_when_it_stops() {
    let broker = Broker::start();
    let mut app = TestApp::spawn_with_broker(&broker).await;
    broker_state(&app, BrokerState::Connected).await;
    let state_topic = format!("{}/hub/state", prefix(&app));
    let mut watcher = Device::connect(&broker, &prefix(&app), "watcher").await;

    watcher.subscribe(&state_topic).await;
    let (_, online) = watcher.next_message().await;
    app.stop().await;
    let (_, offline) = watcher.next_message().await;

    assert_valid("mqtt-hub-state", &online);
    assert_eq!(
        (online["state"].as_str(), offline["state"].as_str()),
        (Some("online"), Some("offline"))
    );
}
