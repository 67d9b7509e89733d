//! The durable outbox through webhooks, checked by a receiver that verifies every delivery with
//! Python's `standardwebhooks`: signed deliveries, SSRF refusals, offline publishing with a
//! restart in between, supersession, and destinations that are gone.

use std::time::Duration;

use base64::Engine;
use chrono::Utc;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use reqwest::Method;
use serde_json::{Value, json};
use vedetta::clock::ManualClock;

use crate::support::notices::{Team, notice_body, zones};
use crate::support::tools::{JsonLines, free_port, webhook_receiver};
use crate::support::{TIMEOUT, TestApp};

/// Long enough for a first retry (5 s ± 20%) on a busy machine.
const RETRY_WAIT: Duration = Duration::from_secs(25);

async fn register_webhook(app: &TestApp, team: &Team, port: u16, extra: Value) -> Value {
    let mut body = json!({ "url": format!("http://127.0.0.1:{port}/hook"), "label": "Prefettura", "allow_private_network": true });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let (status, webhook) = app
        .send_json(Method::POST, "/api/v1/webhooks", &team.admin, &body)
        .await;
    assert_eq!(status, 201, "{webhook}");
    webhook
}

async fn control(port: u16, body: Value) {
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/control"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
}

async fn deliveries(receiver: &mut JsonLines, count: usize, timeout: Duration) -> Vec<Value> {
    receiver
        .collect(count, timeout, |line| line.get("verified").is_some())
        .await
}

#[tokio::test]
async fn a_published_notice_reaches_a_webhook_signed_so_that_standard_webhooks_verifies_it() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let port = free_port();
    let mut receiver = webhook_receiver(port).await;
    let webhook = register_webhook(&app, &team, port, json!({})).await;
    assert!(webhook["secret"].as_str().unwrap().starts_with("whsec_"));
    control(port, json!({ "secret": webhook["secret"] })).await;

    let notice = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;

    let got = deliveries(&mut receiver, 1, TIMEOUT).await;
    assert_eq!(
        got.len(),
        1,
        "one delivery: {}",
        app.outbox_of(&notice).await
    );
    let delivery = &got[0];
    assert_eq!(
        delivery["verified"], true,
        "standardwebhooks verifies the v1 signature: {delivery}"
    );
    assert_eq!(delivery["type"], "notice.alert");
    assert_eq!(delivery["notice_id"], notice["id"]);
    assert!(
        delivery["data"]["cap_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/cap/{}.xml", notice["id"].as_str().unwrap()))
    );
    assert_eq!(delivery["data"]["frame"]["type"], "notice");
    assert_v1a_verifies(&app, delivery).await;
    let outbox = app
        .wait_for_outbox(&notice, |outbox| outbox["webhook"]["delivered"] == 1)
        .await;
    assert_eq!(outbox, json!({ "webhook": { "delivered": 1 } }));
    let (_, webhooks) = app.get_json_as("/api/v1/webhooks", Some(&team.admin)).await;
    assert!(
        webhooks["webhooks"][0].get("secret").is_none(),
        "the secret is shown only once"
    );
}

/// The `v1a` signature verifies with the office's published Ed25519 key.
async fn assert_v1a_verifies(app: &TestApp, delivery: &Value) {
    let (_, keys) = app.get_json("/api/v1/keys").await;
    let key = keys["keys"][0]["public_key"]
        .as_str()
        .or_else(|| keys["public_key"].as_str())
        .expect("the office key");
    let key: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(key)
        .unwrap()
        .try_into()
        .unwrap();
    let signature = delivery["signature"].as_str().unwrap();
    let v1a = signature
        .split(' ')
        .find_map(|part| part.strip_prefix("v1a,"))
        .expect("a v1a signature");
    let signature = Signature::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(v1a)
            .unwrap(),
    )
    .unwrap();
    let signed = format!(
        "{}.{}.{}",
        delivery["id"].as_str().unwrap(),
        delivery["timestamp"].as_str().unwrap(),
        delivery["body"].as_str().unwrap()
    );
    VerifyingKey::from_bytes(&key)
        .unwrap()
        .verify(signed.as_bytes(), &signature)
        .expect("v1a verifies with the office key");
}

#[tokio::test]
async fn a_webhook_on_a_private_address_is_refused_unless_an_admin_allows_it_and_only_admins_add_them()
 {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest",
        "http://[::1]/x",
        "http://localhost/x",
        "ftp://example.org/",
    ] {
        let (status, refused) = app
            .send_json(
                Method::POST,
                "/api/v1/webhooks",
                &team.admin,
                &json!({ "url": url }),
            )
            .await;
        assert_eq!(status, 422, "{url}: {refused}");
        assert_eq!(refused["field"], "url");
    }
    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/v1/webhooks",
            &team.operator,
            &json!({ "url": "https://hooks.example.org/x" }),
        )
        .await;
    assert_eq!(status, 403, "operators do not manage webhooks");
    let (status, _) = app.get_json("/api/v1/webhooks").await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn with_the_receiver_down_publishing_succeeds_and_after_a_restart_every_delivery_arrives_once_actual_immediate_first()
 {
    let clock = ManualClock::starting_at(Utc::now());
    let mut app = TestApp::spawn_with_clock(clock.clone(), |config| {
        config.outbox.webhooks.concurrency = 1
    })
    .await;
    let team = app.team().await;
    let port = free_port();
    let webhook = register_webhook(&app, &team, port, json!({})).await;

    let drill = app
        .publish_notice(&team, &notice_body("Test", zones(&["demo-001"])))
        .await;
    let real = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    let outbox = app
        .wait_for_outbox(&real, |outbox| outbox["webhook"]["retrying"] == 1)
        .await;
    assert_eq!(
        outbox["webhook"]["retrying"], 1,
        "the first attempt failed and waits: {outbox}"
    );

    app.restart().await;
    let mut receiver = webhook_receiver(port).await;
    control(port, json!({ "secret": webhook["secret"] })).await;
    clock.advance(chrono::Duration::minutes(1));
    app.running().hub().outbox.wake();

    let got = deliveries(&mut receiver, 2, RETRY_WAIT).await;
    let order: Vec<&Value> = got.iter().map(|line| &line["notice_id"]).collect();
    assert_eq!(
        order,
        [&real["id"], &drill["id"]],
        "the real alert goes first: {} {}",
        app.outbox_of(&real).await,
        app.outbox_of(&drill).await
    );
    assert!(got.iter().all(|line| line["verified"] == true));
    assert_eq!(
        receiver.drain(Duration::from_secs(2)).await.len(),
        0,
        "nothing arrives twice"
    );
}

#[tokio::test]
async fn an_update_published_while_the_alert_waits_replaces_it_for_that_destination() {
    let clock = ManualClock::starting_at(Utc::now());
    let app = TestApp::spawn_with_clock(clock.clone(), |_| {}).await;
    let team = app.team().await;
    let port = free_port();
    let webhook = register_webhook(&app, &team, port, json!({})).await;
    let alert = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    app.wait_for_outbox(&alert, |outbox| outbox["webhook"]["retrying"] == 1)
        .await;

    let update = app.follow_up(&team, &alert, "update").await;
    let mut receiver = webhook_receiver(port).await;
    control(port, json!({ "secret": webhook["secret"] })).await;
    clock.advance(chrono::Duration::minutes(1));
    app.running().hub().outbox.wake();

    let got = deliveries(&mut receiver, 1, RETRY_WAIT).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["type"], "notice.update");
    assert_eq!(got[0]["notice_id"], update["id"]);
    assert_eq!(
        receiver.drain(Duration::from_secs(2)).await.len(),
        0,
        "the stale alert never goes out"
    );
    assert_eq!(app.outbox_of(&alert).await["webhook"]["superseded"], 1);
}

#[tokio::test]
async fn a_receiver_answering_410_is_switched_off_with_the_reason_and_an_operator_may_retry_failures()
 {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let port = free_port();
    let mut receiver = webhook_receiver(port).await;
    let webhook = register_webhook(
        &app,
        &team,
        port,
        json!({ "severities": ["Severe", "Extreme"] }),
    )
    .await;
    control(port, json!({ "secret": webhook["secret"], "answer": 410 })).await;

    let notice = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    let refused = deliveries(&mut receiver, 1, TIMEOUT).await;
    assert_eq!(refused.len(), 1);
    let outbox = app
        .wait_for_outbox(&notice, |outbox| outbox["webhook"]["failed"] == 1)
        .await;
    assert_eq!(outbox["webhook"]["failed"], 1, "{outbox}");
    let (_, webhooks) = app.get_json_as("/api/v1/webhooks", Some(&team.admin)).await;
    assert_eq!(webhooks["webhooks"][0]["state"], "disabled");
    assert!(
        webhooks["webhooks"][0]["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("410")
    );

    control(port, json!({ "answer": 200 })).await;
    let path = format!("/api/v1/webhooks/{}", webhook["id"].as_str().unwrap());
    let (status, enabled) = app
        .send_json(
            Method::PATCH,
            &path,
            &team.admin,
            &json!({ "enabled": true }),
        )
        .await;
    assert_eq!((status, enabled["state"].as_str()), (200, Some("active")));
    let retry = format!(
        "/api/v1/notices/{}/deliveries/retry",
        notice["id"].as_str().unwrap()
    );
    let (status, _) = app
        .send_json(Method::POST, &retry, &team.viewer, &Value::Null)
        .await;
    assert_eq!(status, 403, "viewers do not retry");
    // The retry goes out in a later second than the refused attempt, as retries do.
    let refused_at: i64 = refused[0]["timestamp"].as_str().unwrap().parse().unwrap();
    while Utc::now().timestamp() <= refused_at {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, retried) = app
        .send_json(Method::POST, &retry, &team.operator, &Value::Null)
        .await;
    assert_eq!(
        (status, retried["requeued"].as_u64()),
        (200, Some(1)),
        "{retried}"
    );
    let again = deliveries(&mut receiver, 1, TIMEOUT).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["verified"], true);
    assert_eq!(
        (&again[0]["id"], &again[0]["body"]),
        (&refused[0]["id"], &refused[0]["body"]),
        "a retry is the same message, byte for byte"
    );
    let (_, audit) = app
        .get_json_as("/api/v1/audit?action=outbox.retry", Some(&team.admin))
        .await;
    assert!(
        audit.to_string().contains("olga"),
        "the retry is audited: {audit}"
    );
}

#[tokio::test]
async fn a_receiver_that_takes_the_request_and_never_answers_is_given_up_at_the_deadline() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    // Takes every connection and the request on it, and says nothing back.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let (taken_tx, mut taken) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming().flatten() {
            let _ = taken_tx.send(());
            held.push(stream);
        }
    });
    register_webhook(&app, &team, port, json!({})).await;

    let notice = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;

    assert!(
        tokio::time::timeout(TIMEOUT, taken.recv()).await.is_ok(),
        "the hub reached the receiver"
    );
    // The webhook courier's deadline is 15 s; the worker looks once a second.
    let given_up = tokio::time::Instant::now() + Duration::from_secs(30);
    let outbox = loop {
        let outbox = app.outbox_of(&notice).await;
        if outbox["webhook"]["retrying"] == 1 || tokio::time::Instant::now() > given_up {
            break outbox;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        outbox["webhook"]["retrying"], 1,
        "a silent receiver does not hold the delivery: {outbox}"
    );
}
