//! Health, readiness, restart with the data intact, and a shutdown that loses nothing acked.

use std::collections::HashSet;

use serde_json::Value;

use crate::support::{MONTEVERDE, TestApp, WsClient, assert_valid, report};

#[tokio::test]
async fn healthz_says_up_and_readyz_proves_the_database_takes_writes() {
    let app = TestApp::spawn().await;

    let (health_status, health) = app.get_json("/healthz").await;
    let (ready_status, ready) = app.get_json("/readyz").await;

    assert_eq!(
        (health_status, health["status"].as_str()),
        (200, Some("up"))
    );
    assert_eq!(ready_status, 200);
    assert_valid("readiness", &ready);
    assert_eq!(
        (ready["database"].as_str(), ready["mqtt"].as_str()),
        (Some("writable"), Some("disabled"))
    );
    assert_eq!(app.count_rows("SELECT count(*) FROM health_probe"), 1);
}

#[tokio::test]
async fn a_restarted_hub_has_every_acknowledged_report_and_still_recognises_retries() {
    let mut app = TestApp::spawn().await;
    let over_http: Value = app
        .post_report(&report("keep-1", MONTEVERDE))
        .await
        .json()
        .await
        .unwrap();
    let over_ws = WsClient::connect(&app.ws_url())
        .await
        .report(&report("keep-2", MONTEVERDE))
        .await;

    app.restart().await;

    for id in [&over_http["id"], &over_ws["report"]["id"]] {
        let (status, _) = app
            .get_json(&format!("/api/v1/reports/{}", id.as_str().unwrap()))
            .await;
        assert_eq!(status, 200);
    }
    let retry: Value = app
        .post_report(&report("keep-1", MONTEVERDE))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(retry["id"], over_http["id"]);
    assert_eq!(app.stored_reports(), 2);
}

#[tokio::test]
async fn shutting_down_under_load_keeps_every_report_that_was_acknowledged() {
    let mut app = TestApp::spawn().await;
    let url = app.url("/api/v1/reports");
    let senders: Vec<_> = (0..40)
        .map(|n| {
            let (http, url) = (app.http.clone(), url.clone());
            tokio::spawn(async move {
                let response = http
                    .post(url)
                    .json(&report(&format!("load-{n}"), MONTEVERDE))
                    .send()
                    .await
                    .ok()?;
                let receipt: Value = response.json().await.ok()?;
                receipt["id"].as_str().map(str::to_owned)
            })
        })
        .collect();

    app.restart().await;

    let mut acknowledged = HashSet::new();
    for sender in senders {
        acknowledged.extend(sender.await.unwrap());
    }
    for id in &acknowledged {
        let (status, _) = app.get_json(&format!("/api/v1/reports/{id}")).await;
        assert_eq!(status, 200, "acknowledged report {id} was lost");
    }
    assert_eq!(
        app.stored_reports(),
        acknowledged.len() as i64,
        "only acknowledged reports are stored"
    );
}

#[tokio::test]
async fn websocket_sessions_are_told_when_the_hub_shuts_down() {
    let mut app = TestApp::spawn().await;
    let mut client = WsClient::connect(&app.ws_url()).await;

    app.stop().await;

    let (code, reason) = client.closed().await.expect("a close frame");
    assert_eq!(code, 1001);
    assert!(reason.contains("shutting down"));
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_inlines_the_schemas() {
    let app = TestApp::spawn().await;

    let (status, document) = app.get_json("/api/v1/openapi.json").await;

    assert_eq!(status, 200);
    assert_eq!(document["openapi"], "3.1.0");
    for path in [
        "/api/v1/reports",
        "/api/v1/reports/{id}",
        "/api/v1/zones",
        "/open311/v2/requests.json",
        "/api/v1/notices",
        "/api/v1/notices/{id}/approve",
        "/api/v1/notices/import",
        "/api/v1/auth/login",
        "/api/v1/audit",
        "/cap/{id}.xml",
        "/feeds/cap.atom",
        "/readyz",
        "/ws",
        "/api/v1/reports/{id}/status",
        "/api/v1/reports/{id}/updates",
        "/api/v1/reports/export.csv",
        "/api/v1/incidents/{id}/split",
        "/api/v1/teams",
        "/api/v1/devices",
        "/api/v1/stats",
    ] {
        assert!(
            document["paths"].get(path).is_some(),
            "{path} is documented"
        );
    }
    let text = document.to_string();
    assert!(
        !text.contains(".schema.json"),
        "every $ref points inside the document"
    );
    for (name, _) in vedetta::schemas::SCHEMAS {
        assert!(
            document["components"]["schemas"].get(*name).is_some(),
            "{name} is inlined"
        );
    }
}

#[tokio::test]
async fn the_signing_key_is_made_once_and_kept_across_restarts() {
    let mut app = TestApp::spawn().await;
    let (_, before) = app.get_json_as("/api/v1/keys", None).await;

    app.restart().await;

    let (_, after) = app.get_json_as("/api/v1/keys", None).await;
    assert_valid("keys", &before);
    assert_eq!(before, after);
    let key_file = app.data_dir.path().join(vedetta::notices::KEY_FILE);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(key_file).unwrap().permissions(),
    );
    assert_eq!(
        mode & 0o777,
        0o600,
        "only the hub's user may read the private key"
    );
}

#[tokio::test]
async fn a_plain_http_request_to_the_websocket_endpoint_is_told_to_upgrade() {
    let app = TestApp::spawn().await;

    let (status, error) = app.get_json_as("/ws", None).await;

    assert_eq!(status, 426);
    assert_valid("error", &error);
    assert_eq!(error["error"], "upgrade_required");
}
