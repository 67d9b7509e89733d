//! A reporter's updates are theirs alone: each ack carries a follow token, and nothing else
//! (a device id, a client_ref, a report id, a guess) opens them.

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{MONTEVERDE, TestApp, WsClient, assert_valid, report};

fn raw_frame(frame: &Value) -> Message {
    Message::text(frame.to_string())
}

#[tokio::test]
async fn nobody_follows_someone_elses_reports_by_device_id_client_ref_or_a_guessed_token() {
    let app = TestApp::spawn().await;
    let mut victim = WsClient::connect(&app.ws_url()).await;
    let ack = victim.report(&report("trapped-1", MONTEVERDE)).await;
    let id = ack["report"]["id"].as_str().unwrap().to_owned();
    let mut attacker = WsClient::connect(&app.ws_url()).await;
    let guessed = format!("vft_{id}.{}", "A".repeat(43));
    let attempts = [
        (
            json!({"type": "follow", "device_id": "phone-1"}),
            "invalid_field",
            "device_id",
        ),
        (
            json!({"type": "follow", "client_refs": ["trapped-1"]}),
            "invalid_field",
            "client_refs",
        ),
        (
            json!({"type": "follow", "tokens": [guessed]}),
            "unauthorized",
            "tokens[0]",
        ),
        (
            json!({"type": "follow", "tokens": ["not-a-token"]}),
            "unauthorized",
            "tokens[0]",
        ),
    ];

    for (frame, code, field) in attempts {
        attacker.send(raw_frame(&frame)).await;
        let refused = attacker.next_frame().await;
        assert_eq!(
            (refused["error"].as_str(), refused["field"].as_str()),
            (Some(code), Some(field)),
            "{refused}"
        );
    }
    app.move_to(&id, "acknowledged").await;
    let told = victim.next_frame().await;
    attacker
        .send_json(&json!({"type": "subscribe", "zones": ["demo-001"]}))
        .await;
    let next = attacker.next_frame().await;

    assert_eq!(told["type"], "report_update");
    assert_eq!(
        next["type"], "subscribed",
        "the attacker heard nothing: {next}"
    );
}

#[tokio::test]
async fn a_reporter_follows_with_the_token_from_the_ack_even_from_a_new_connection() {
    let app = TestApp::spawn().await;
    let mut first = WsClient::connect(&app.ws_url()).await;
    let ack = first.report(&report("mine-1", MONTEVERDE)).await;
    let (id, token) = (
        ack["report"]["id"].clone(),
        ack["report"]["follow_token"].clone(),
    );
    drop(first);

    app.move_to(id.as_str().unwrap(), "acknowledged").await;
    let mut later = WsClient::connect(&app.ws_url()).await;
    let (missed, following) = later.follow(json!({ "tokens": [token] })).await;

    assert_eq!(following["sent"], 1);
    assert_eq!(
        (missed[0]["report_id"].clone(), missed[0]["status"].as_str()),
        (id, Some("acknowledged"))
    );
}

#[tokio::test]
async fn the_updates_endpoint_opens_only_with_the_reports_own_token_or_a_staff_login() {
    let app = TestApp::spawn().await;
    let id = app.report_of("h-1", "flooding", MONTEVERDE).await;
    let other = app.report_of("h-2", "flooding", MONTEVERDE).await;
    app.move_to(&id, "acknowledged").await;
    let path = format!("/api/v1/reports/{id}/updates");
    let token = app.follow_token(&id);
    let viewer = app.token_for("vera", vedetta::auth::Role::Viewer).await;

    let (without, missing) = app.get_json_as(&path, None).await;
    let wrong = format!("{path}?token={}", app.follow_token(&other));
    let (with_other, refused) = app.get_json_as(&wrong, None).await;
    let (with_own, page) = app
        .get_json_as(&format!("{path}?token={token}"), None)
        .await;
    let (as_staff, staff_page) = app.get_json_as(&path, Some(&viewer)).await;
    let nowhere = format!(
        "/api/v1/reports/{}/updates?token={token}",
        uuid::Uuid::now_v7()
    );
    let (for_no_report, _) = app.get_json_as(&nowhere, None).await;

    assert_eq!(
        (for_no_report, with_other),
        (401, 401),
        "a token tells nobody whether another report exists"
    );
    assert_eq!(
        (without, missing["error"].as_str()),
        (401, Some("unauthorized"))
    );
    assert_eq!(
        (with_other, refused["field"].as_str()),
        (401, Some("token"))
    );
    assert_valid("error", &refused);
    assert_eq!((with_own, as_staff), (200, 200));
    assert_valid("report-updates", &page);
    assert_eq!(page["updates"].as_array().unwrap().len(), 1);
    assert_eq!(page, staff_page);
}

#[tokio::test]
async fn a_retried_report_gets_a_fresh_token_and_either_token_opens_its_updates() {
    let app = TestApp::spawn().await;
    let body = report("retry-me", MONTEVERDE);

    let first: Value = app.post_report(&body).await.json().await.unwrap();
    let retry: Value = app.post_report(&body).await.json().await.unwrap();
    let id = first["id"].as_str().unwrap();
    app.move_to(id, "acknowledged").await;

    assert_eq!(
        (retry["id"].as_str(), retry["duplicate"].as_bool()),
        (Some(id), Some(true))
    );
    assert_ne!(first["follow_token"], retry["follow_token"]);
    for receipt in [&first, &retry] {
        let token = receipt["follow_token"].as_str().unwrap();
        let path = format!("/api/v1/reports/{id}/updates?token={token}");
        let (status, page) = app.get_json_as(&path, None).await;
        assert_eq!(
            (status, page["updates"].as_array().map(Vec::len)),
            (200, Some(1))
        );
    }
    assert_eq!(
        app.count_rows("SELECT count(*) FROM reports WHERE length(follow_token_hash) = 32")
            + app.count_rows("SELECT count(*) FROM report_follow_tokens"),
        2,
        "only hashes are stored, one per answer"
    );
    let secret = first["follow_token"]
        .as_str()
        .unwrap()
        .rsplit_once('.')
        .unwrap()
        .1;
    for file in ["", "-wal"] {
        let path = app
            .data_dir
            .path()
            .join(format!("{}{file}", vedetta::DATABASE_FILE));
        let bytes = std::fs::read(path).unwrap_or_default();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the token itself is not in the database"
        );
    }
}

#[tokio::test]
async fn a_report_resent_without_end_keeps_its_first_token_and_the_ten_newest() {
    let app = TestApp::spawn().await;
    let body = report("resent", MONTEVERDE);
    let mut receipts = Vec::new();
    for _ in 0..15 {
        receipts.push(app.post_report(&body).await.json::<Value>().await.unwrap());
    }
    let id = receipts[0]["id"].as_str().unwrap();
    let opens = |receipt: &Value| {
        let token = receipt["follow_token"].as_str().unwrap().to_owned();
        let app = &app;
        async move {
            let path = format!("/api/v1/reports/{id}/updates?token={token}");
            app.get_json_as(&path, None).await.0 == 200
        }
    };

    let mut opened = Vec::new();
    for receipt in &receipts {
        opened.push(opens(receipt).await);
    }

    // The newest are kept by the time they were given; retries within one millisecond tie.
    assert_eq!(
        opened.iter().filter(|open| **open).count(),
        11,
        "{opened:?}"
    );
    assert!(
        opened[0] && opened[14],
        "the first and the newest: {opened:?}"
    );
    assert!(!opened[1], "the oldest retry's token is let go: {opened:?}");
    assert_eq!(
        app.count_rows("SELECT count(*) FROM report_follow_tokens"),
        10
    );
}
