//! Per-IP and per-device quotas on report intake, on every channel, and the HTTP request cap.

use serde_json::{Value, json};

use crate::support::{
    Broker, Device, MONTEVERDE, TestApp, WsClient, assert_valid, connect_to, report,
};

#[tokio::test]
async fn an_address_over_its_report_quota_gets_429_over_http_and_an_error_frame_over_websocket() {
    let app = TestApp::spawn_with(|config| config.limits.reports_per_minute_per_ip = 3).await;
    for n in 0..3 {
        let mut body = report(&format!("q-{n}"), MONTEVERDE);
        body["device_id"] = json!(format!("phone-{n}"));
        assert_eq!(app.post_report(&body).await.status(), 201);
    }

    let over_http = app.post_report(&report("q-4", MONTEVERDE)).await;
    let over_ws = WsClient::connect(&app.ws_url())
        .await
        .report(&report("q-5", MONTEVERDE))
        .await;

    assert_eq!(over_http.status(), 429);
    let error: Value = over_http.json().await.unwrap();
    assert_valid("error", &error);
    assert_eq!(error["error"], "rate_limited");
    assert_eq!(
        (over_ws["type"].as_str(), over_ws["error"].as_str()),
        (Some("error"), Some("rate_limited"))
    );
    assert_eq!(app.stored_reports(), 3);
}

#[tokio::test]
async fn a_device_over_its_quota_is_refused_on_its_inbox() {
    let broker = Broker::start();
    let app = TestApp::spawn_with(|config| {
        connect_to(config, &broker);
        config.limits.reports_per_minute_per_device = 2;
    })
    .await;
    let mut watch = app.running().hub().mqtt.state.clone();
    watch
        .wait_for(|state| *state == vedetta::channels::mqtt::BrokerState::Connected)
        .await
        .unwrap();
    let mut device = Device::connect(&broker, &app.config.mqtt_prefix(), "chatty").await;

    let mut answers = Vec::new();
    for n in 0..3 {
        let mut body = report(&format!("d-{n}"), MONTEVERDE);
        body.as_object_mut().unwrap().remove("device_id");
        device.publish_report(&body).await;
        answers.push(device.next_answer().await);
    }

    let kinds: Vec<&str> = answers
        .iter()
        .map(|a| a["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ack", "ack", "error"]);
    assert_eq!(answers[2]["error"], "rate_limited");
}

#[tokio::test]
async fn a_flood_of_http_requests_from_one_address_is_capped_with_a_json_429() {
    let app = TestApp::spawn_with(|config| config.limits.http_requests_per_second_per_ip = 2).await;

    let mut statuses = Vec::new();
    for _ in 0..10 {
        let response = app
            .http
            .get(app.url("/api/v1/categories"))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            let error: Value = response.json().await.unwrap();
            assert_valid("error", &error);
            assert_eq!(error["error"], "rate_limited");
        }
    }
    let (health, _) = app.get_json("/healthz").await;

    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(health, 200, "health checks are never rate limited");
}
