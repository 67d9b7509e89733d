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
async fn a_resend_over_the_quota_gets_its_duplicate_answer_at_once_and_anything_else_waits() {
    let app = TestApp::spawn_with(|config| config.limits.reports_per_minute_per_ip = 2).await;
    let sent = report("lost-ack", MONTEVERDE);
    let first: Value = app.post_report(&sent).await.json().await.unwrap();
    assert_eq!(
        app.post_report(&report("other", MONTEVERDE)).await.status(),
        201
    );

    let resend = app.post_report(&sent).await;
    let resend_status = resend.status();
    let answer: Value = resend.json().await.unwrap();
    let mut changed = sent.clone();
    changed["text"] = json!("Un'altra cosa");
    let reused = app.post_report(&changed).await.status().as_u16();
    let new = app
        .post_report(&report("new", MONTEVERDE))
        .await
        .status()
        .as_u16();

    assert_eq!(resend_status, 200, "{answer}");
    assert_valid("receipt", &answer);
    assert_eq!(
        (&answer["id"], &answer["duplicate"]),
        (&first["id"], &json!(true))
    );
    assert_ne!(answer["follow_token"], first["follow_token"]);
    assert_eq!(
        (reused, new),
        (429, 429),
        "only a true resend is answered over the quota"
    );
    assert_eq!(app.stored_reports(), 2);
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
    // Public reads of every kind count alike: the API, map tiles, places.
    let paths = [
        "/api/v1/categories",
        "/tiles/zones/v/1/0/0.mvt",
        "/api/v1/places?q=mon",
    ];
    for path in paths.iter().cycle().take(12) {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            let error: Value = response.json().await.unwrap();
            assert_valid("error", &error);
            assert_eq!(error["error"], "rate_limited");
        }
    }
    let (health, _) = app.get_json("/healthz").await;

    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(
        statuses[1..].chunks(3).any(|round| round[0] == 429),
        "tile requests are limited too: {statuses:?}"
    );
    assert_eq!(health, 200, "health checks are never rate limited");
}

#[tokio::test]
async fn a_client_inventing_a_device_id_per_message_is_stopped_and_known_devices_still_report() {
    let broker = Broker::start();
    let app = TestApp::spawn_with(|config| {
        connect_to(config, &broker);
        config.limits.reports_per_minute_per_device = 20;
        config.limits.new_mqtt_devices_per_minute = 10;
    })
    .await;
    let mut watch = app.running().hub().mqtt.state.clone();
    watch
        .wait_for(|state| *state == vedetta::channels::mqtt::BrokerState::Connected)
        .await
        .unwrap();
    let prefix = app.config.mqtt_prefix();
    let mut tablet = Device::connect(&broker, &prefix, "tablet-1").await;
    let mut body = report("known-1", MONTEVERDE);
    body.as_object_mut().unwrap().remove("device_id");
    tablet.publish_report(&body).await;
    assert_eq!(tablet.next_answer().await["type"], "ack");
    let mut forger = Device::connect(&broker, &prefix, "forger").await;
    forger.subscribe(&format!("{prefix}/devices/+/inbox")).await;

    for n in 0..30 {
        let topic = format!("{prefix}/reports/fake-{n}");
        forger.publish_to(&topic, &body).await;
    }
    let mut kinds = Vec::new();
    for _ in 0..30 {
        let (_, answer) = forger.next_message().await;
        kinds.push(answer["error"].as_str().unwrap_or("ack").to_owned());
    }
    let mut again = body.clone();
    again["client_ref"] = json!("known-2");
    tablet.publish_report(&again).await;

    assert_eq!(
        kinds.iter().filter(|kind| *kind == "ack").count(),
        9,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|kind| *kind == "rate_limited").count(),
        21
    );
    assert_eq!(
        tablet.next_answer().await["type"],
        "ack",
        "a known device still reports"
    );
    assert_eq!(app.stored_reports(), 11);
}

#[tokio::test]
async fn naming_a_device_over_http_does_not_use_up_that_devices_quota_on_another_channel() {
    let app = TestApp::spawn_with(|config| config.limits.reports_per_minute_per_device = 2).await;
    let named = |client_ref: &str| {
        let mut body = report(client_ref, MONTEVERDE);
        body["device_id"] = json!("9700");
        body
    };
    for n in 0..2 {
        assert_eq!(
            app.post_report(&named(&format!("h-{n}"))).await.status(),
            201
        );
    }
    assert_eq!(app.post_report(&named("h-2")).await.status(), 429);

    let over_ws = WsClient::connect(&app.ws_url())
        .await
        .report(&named("w-0"))
        .await;

    assert_eq!(over_ws["type"], "ack", "{over_ws}");
}
