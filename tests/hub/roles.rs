//! Least privilege: each role reaches what its work needs and nothing else.

use reqwest::Method;
use vedetta::auth::Role;

use crate::support::TestApp;

#[tokio::test]
async fn an_admin_manages_accounts_and_reads_the_audit_log_and_nothing_else() {
    let app = TestApp::spawn().await;
    let admin = app.token_for("adele", Role::Admin).await;
    let refused = [
        "/api/v1/reports",
        "/api/v1/incidents",
        "/api/v1/notices",
        "/api/v1/stats",
        "/api/v1/teams",
        "/api/v1/devices",
        "/api/v1/tasks",
        "/api/v1/reports/export.csv",
    ];
    let allowed = ["/api/v1/users", "/api/v1/audit", "/api/v1/auth/me"];

    for path in refused {
        let (status, body) = app.get_json_as(path, Some(&admin)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("forbidden")),
            "{path}: {body}"
        );
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("admins manage accounts only")
        );
    }
    for path in allowed {
        let (status, body) = app.get_json_as(path, Some(&admin)).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
}

#[tokio::test]
async fn a_viewer_reads_the_queue_but_neither_triages_nor_reads_accounts() {
    let app = TestApp::spawn().await;
    let viewer = app.token_for("vera", Role::Viewer).await;

    let (reports, _) = app.get_json_as("/api/v1/reports", Some(&viewer)).await;
    let (users, _) = app.get_json_as("/api/v1/users", Some(&viewer)).await;
    let (audit, _) = app.get_json_as("/api/v1/audit", Some(&viewer)).await;

    assert_eq!((reports, users, audit), (200, 403, 403));
}

#[tokio::test]
async fn the_audit_log_is_filtered_by_actor_action_and_period() {
    let app = TestApp::spawn().await;
    let admin = app.token_for("adele", Role::Admin).await;
    app.token_for("olga", Role::Operator).await;
    let now = chrono::Utc::now();
    let minute_ago =
        (now - chrono::Duration::minutes(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let later =
        (now + chrono::Duration::minutes(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);

    let (_, olga) = app
        .get_json_as("/api/v1/audit?actor=olga&action=login", Some(&admin))
        .await;
    let (_, recent) = app
        .get_json_as(&format!("/api/v1/audit?since={minute_ago}"), Some(&admin))
        .await;
    let (_, future) = app
        .get_json_as(&format!("/api/v1/audit?since={later}"), Some(&admin))
        .await;
    let (bad, refusal) = app
        .get_json_as("/api/v1/audit?since=yesterday", Some(&admin))
        .await;

    let olga = olga["entries"].as_array().unwrap();
    assert!(
        !olga.is_empty()
            && olga
                .iter()
                .all(|e| e["actor"] == "olga" && e["action"] == "login"),
        "{olga:?}"
    );
    assert!(!recent["entries"].as_array().unwrap().is_empty());
    assert!(future["entries"].as_array().unwrap().is_empty(), "{future}");
    assert_eq!((bad, refusal["field"].as_str()), (422, Some("since")));
}

#[tokio::test]
async fn a_caller_without_the_role_hears_403_before_anything_about_the_body_they_sent() {
    let app = TestApp::spawn().await;
    let viewer = app.token_for("vera", Role::Viewer).await;
    let admin = app.token_for("adele", Role::Admin).await;
    let every_write = [
        (Method::POST, "/api/v1/notices"),
        (Method::PUT, "/api/v1/notices/n-1"),
        (Method::POST, "/api/v1/notices/n-1/approve"),
        (Method::POST, "/api/v1/notices/n-1/reject"),
        (Method::POST, "/api/v1/notices/n-1/update"),
        (Method::POST, "/api/v1/notices/n-1/cancel"),
        (Method::POST, "/api/v1/notices/import"),
        (Method::POST, "/api/v1/notices/area-preview"),
        (Method::POST, "/api/v1/reports/r-1/status"),
        (Method::POST, "/api/v1/reports/r-1/publication"),
        (Method::POST, "/api/v1/reports/r-1/escalate"),
        (Method::POST, "/api/v1/reports/r-1/dispatch"),
        (Method::POST, "/api/v1/incidents/i-1/merge"),
        (Method::POST, "/api/v1/incidents/i-1/split"),
        (Method::POST, "/api/v1/incidents/i-1/resolve"),
        (Method::POST, "/api/v1/incidents/i-1/escalate"),
        (Method::POST, "/api/v1/incidents/i-1/dispatch"),
        (Method::POST, "/api/v1/teams"),
        (Method::PUT, "/api/v1/teams/t-1"),
        (Method::POST, "/api/v1/users"),
        (Method::PATCH, "/api/v1/users/someone"),
        (Method::POST, "/api/v1/webhooks"),
        (Method::PATCH, "/api/v1/webhooks/1"),
    ];
    // A viewer writes nothing; an admin manages accounts and webhooks, and does no staff work.
    let staff_work = &every_write[..every_write.len() - 4];

    for (token, endpoints) in [(&viewer, &every_write[..]), (&admin, staff_work)] {
        for (method, path) in endpoints {
            let response = reqwest::Client::new()
                .request(method.clone(), app.url(path))
                .bearer_auth(token)
                .header("content-type", "text/plain")
                .body("{ not json")
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(
                (status, body["error"].as_str()),
                (403, Some("forbidden")),
                "{method} {path}: {body}"
            );
            assert!(
                body["message"].as_str().unwrap().contains("needs the"),
                "{method} {path}: {body}"
            );
        }
    }
}
