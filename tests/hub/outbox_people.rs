//! The outbox towards people: Web Push checked by the npm `web-push-testing` push service (which
//! verifies VAPID and decrypts the payload), and e-mail received by a real SMTP server
//! (aiosmtpd) and parsed by Python's standard library.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::notices::{notice_body, zones};
use crate::support::tools::{JsonLines, PushService, free_port, smtp_sink};
use crate::support::{MONTEVERDE, RIO_SECCO, TIMEOUT, TestApp};

async fn push_app() -> TestApp {
    TestApp::spawn_with(|config| {
        config.outbox.allow_private_networks = vec!["127.0.0.1".into(), "::1".into()]
    })
    .await
}

/// A browser subscription made at the push service for the hub's VAPID key.
async fn browser_subscription(push: &PushService, app: &TestApp) -> Value {
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while client.post(push.url("/status")).send().await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "web-push-testing did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, key) = app.get_json_as("/api/v1/push/key", None).await;
    assert_eq!(status, 200);
    let made: Value = client
        .post(push.url("/subscribe"))
        .json(&json!({ "applicationServerKey": key["public_key"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    made["data"].clone()
}

/// The decrypted payloads the push service received for `client_hash`, once there are `count`.
async fn pushed(push: &PushService, client_hash: &Value, count: usize) -> Vec<Value> {
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let answer: Value = client
            .post(push.url("/get-notifications"))
            .json(&json!({ "clientHash": client_hash }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let messages = answer["data"]["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if messages.len() >= count || tokio::time::Instant::now() > deadline {
            return messages
                .iter()
                .map(|text| serde_json::from_str(text.as_str().unwrap()).unwrap())
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn subscribe_push(app: &TestApp, subscription: &Value, point: (f64, f64)) {
    let body = json!({
        "subscription": { "endpoint": subscription["endpoint"], "keys": subscription["keys"] },
        "point": { "lat": point.0, "lon": point.1 },
        "language": "en"
    });
    let response = app
        .http
        .post(app.url("/api/v1/subscriptions/push"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
}

#[tokio::test]
async fn a_browser_subscribed_for_its_point_gets_an_encrypted_push_only_for_notices_covering_it() {
    let app = push_app().await;
    let team = app.team().await;
    let push = PushService::start(free_port());
    let inside = browser_subscription(&push, &app).await;
    let elsewhere = browser_subscription(&push, &app).await;
    subscribe_push(&app, &inside, MONTEVERDE).await;
    subscribe_push(&app, &elsewhere, RIO_SECCO).await;

    let notice = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;

    let got = pushed(&push, &inside["clientHash"], 1).await;
    assert_eq!(got.len(), 1, "the push service decrypted one message");
    assert_eq!(got[0]["notice_id"], notice["id"]);
    assert_eq!(got[0]["kind"], "alert");
    assert_eq!(
        got[0]["headline"], "Red alert: Reno river in flood",
        "in the subscriber's language"
    );
    assert_eq!(
        got[0]["url"], notice["page_url"],
        "the notification opens the notice's page in the office's archive"
    );
    crate::support::assert_valid("push-payload", &got[0]);
    assert!(
        pushed(&push, &elsewhere["clientHash"], 1).await.is_empty(),
        "Rio Secco is not covered"
    );

    let cancel = app.follow_up(&team, &notice, "cancel").await;
    let got = pushed(&push, &inside["clientHash"], 2).await;
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[1]["kind"].as_str(), &got[1]["notice_id"]),
        (Some("cancel"), &cancel["id"])
    );
}

#[tokio::test]
async fn an_unsubscribed_or_expired_browser_gets_nothing_more_and_its_subscription_is_deleted() {
    let app = push_app().await;
    let team = app.team().await;
    let push = PushService::start(free_port());
    let left = browser_subscription(&push, &app).await;
    let expired = browser_subscription(&push, &app).await;
    subscribe_push(&app, &left, MONTEVERDE).await;
    subscribe_push(&app, &expired, MONTEVERDE).await;
    let removal = json!({ "endpoint": left["endpoint"] });
    let response = app
        .http
        .post(app.url("/api/v1/subscriptions/push/remove"))
        .json(&removal)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let hash = expired["clientHash"].as_str().unwrap();
    reqwest::Client::new()
        .post(push.url(&format!("/expire-subscription/{hash}")))
        .send()
        .await
        .unwrap();

    let notice = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;

    let outbox = app
        .wait_for_outbox(&notice, |outbox| outbox["webpush"]["failed"] == 1)
        .await;
    assert_eq!(
        outbox,
        json!({ "webpush": { "failed": 1 } }),
        "one delivery, to the expired browser, which said 410"
    );
    assert!(pushed(&push, &left["clientHash"], 1).await.is_empty());
    // The 410 removed the subscription: resubscribing the same endpoint starts afresh.
    subscribe_push(&app, &expired, MONTEVERDE).await;
}

async fn email_app(port: u16) -> TestApp {
    TestApp::spawn_with(|config| {
        let email = &mut config.outbox.email;
        email.enabled = true;
        email.smtp_host = "127.0.0.1".into();
        email.smtp_port = port;
        email.security = vedetta::config::SmtpSecurity::None;
        email.from = "Protezione civile <avvisi@comune.example>".into();
    })
    .await
}

async fn mail(sink: &mut JsonLines) -> Value {
    sink.collect(1, TIMEOUT, |line| line.get("subject").is_some())
        .await
        .pop()
        .expect("a message arrives")
}

fn link(text: &str, path: &str) -> String {
    let start = text.find("http://").expect("a link");
    let url = text[start..].split_whitespace().find(|_| true).unwrap();
    assert!(url.contains(path), "{url}");
    url.to_owned()
}

#[tokio::test]
async fn an_email_subscriber_confirms_then_gets_the_notice_with_one_click_unsubscribe() {
    let port = free_port();
    let mut sink = smtp_sink(port).await;
    let app = email_app(port).await;
    let team = app.team().await;
    let body = json!({ "address": "maria@example.org", "zone": "demo-001", "language": "it" });
    let response = app
        .http
        .post(app.url("/api/v1/subscriptions/email"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);

    let confirm = mail(&mut sink).await;
    assert_eq!(confirm["rcpt_to"], json!(["maria@example.org"]));
    let text = confirm["text"].as_str().unwrap();
    let confirm_url = link(
        &text[text
            .find("/confirm")
            .map_or(0, |end| text[..end].rfind("http://").unwrap())..],
        "/confirm",
    );
    let page = app
        .http
        .get(&confirm_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<form method=\"post\""),
        "a scanner following the link confirms nothing"
    );
    let confirmed = app.http.post(&confirm_url).send().await.unwrap();
    assert_eq!(confirmed.status(), 200);

    let mut body = notice_body("Exercise", zones(&["demo-001"]));
    body["info"]["it"]["instruction"] = "Allontanarsi dagli argini.\nSalire ai piani alti.".into();
    let exercise = app.publish_notice(&team, &body).await;
    let notice = mail(&mut sink).await;
    assert!(
        notice["subject"]
            .as_str()
            .unwrap()
            .starts_with("[ESERCITAZIONE"),
        "{}",
        notice["subject"]
    );
    assert_eq!(notice["content_type"], "multipart/alternative");
    let text = notice["text"].as_str().unwrap();
    let severity = text
        .find("Gravità: grave")
        .expect("the severity, in Italian");
    let instruction = text
        .find("Allontanarsi dagli argini")
        .expect("instructions");
    assert!(
        severity < instruction && instruction < text.find("Il livello del fiume").unwrap(),
        "severity and instructions first"
    );
    assert!(
        notice["html"]
            .as_str()
            .unwrap()
            .contains("Allontanarsi dagli argini.<br>Salire ai piani alti."),
        "each step of the instructions on its own line: {}",
        notice["html"]
    );
    assert!(
        notice["message_id"]
            .as_str()
            .unwrap()
            .ends_with("@comune.example>"),
        "{}",
        notice["message_id"]
    );
    assert_eq!(notice["auto_submitted"], "auto-generated");
    assert!(
        text.contains(exercise["page_url"].as_str().unwrap()),
        "the e-mail links the notice's page in the office's archive"
    );
    assert_eq!(
        notice["list_unsubscribe_post"],
        "List-Unsubscribe=One-Click"
    );
    let unsubscribe = notice["list_unsubscribe"]
        .as_str()
        .unwrap()
        .trim_matches(['<', '>'])
        .to_owned();
    let one_click = app
        .http
        .post(&unsubscribe)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(one_click.status(), 200, "RFC 8058 one-click");

    app.publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    assert!(
        sink.drain(Duration::from_secs(2)).await.is_empty(),
        "nothing after unsubscribing"
    );
}

#[tokio::test]
async fn a_reporter_who_left_an_address_hears_each_status_change_by_email_and_internal_notes_stay_inside()
 {
    let port = free_port();
    let mut sink = smtp_sink(port).await;
    let app = email_app(port).await;
    let mut body = crate::support::report("mail-1", MONTEVERDE);
    body["contact"] = json!({ "email": "luca@example.org" });
    let report = app.post_report(&body).await;
    assert_eq!(report.status(), 201);
    let report: Value = report.json().await.unwrap();
    let id = report["id"].as_str().unwrap().to_owned();
    let change = json!({ "status": "in_progress", "public_note": "Squadra in arrivo", "internal_note": "chiamare il sindaco" });
    let (status, answer) = app.change(&id, change).await;
    assert_eq!(status, 200, "{answer}");

    let news = mail(&mut sink).await;
    assert_eq!(news["rcpt_to"], json!(["luca@example.org"]));
    let text = news["text"].as_str().unwrap();
    assert!(
        text.contains("in lavorazione") && text.contains("Squadra in arrivo"),
        "{text}"
    );
    assert!(
        !text.contains("sindaco") && !news["html"].as_str().unwrap().contains("sindaco"),
        "internal notes stay inside"
    );
}
