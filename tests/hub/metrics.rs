//! Prometheus metrics: staff-only on the main listener, open on a listener of their own, and
//! never a person, a device, an address or a report's words in a label.

use vedetta::auth::Role;

use crate::support::{MONTEVERDE, TestApp, WsClient, report};

async fn scrape(app: &TestApp, token: Option<&str>) -> (u16, String) {
    let mut request = app.http.get(app.url("/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn metrics_count_intake_by_channel_and_outcome_and_hold_no_personal_data() {
    let app = TestApp::spawn().await;
    app.post_report(&report("m-1", MONTEVERDE)).await;
    app.post_report(&report("m-1", MONTEVERDE)).await;
    let mut ws = WsClient::connect(&app.ws_url()).await;
    ws.report(&report("m-2", MONTEVERDE)).await;
    let mut bad = report("m-3", MONTEVERDE);
    bad["category"] = "not-a-category".into();
    app.post_report(&bad).await;
    let admin = app.token_for("adele", Role::Admin).await;

    let (anonymous, refusal) = scrape(&app, None).await;
    let (status, text) = scrape(&app, Some(&admin)).await;

    assert_eq!(anonymous, 401, "{refusal}");
    assert_eq!(status, 200);
    for line in [
        "vedetta_reports_total{channel=\"http\",outcome=\"accepted\"} 1",
        "vedetta_reports_total{channel=\"http\",outcome=\"duplicate\"} 1",
        "vedetta_reports_total{channel=\"ws\",outcome=\"accepted\"} 1",
        "vedetta_reports_total{channel=\"http\",outcome=\"unknown_category\"} 1",
        "vedetta_ws_sessions 1",
        "vedetta_mqtt_state{state=\"disabled\"} 1",
        "vedetta_logins_total{outcome=\"ok\"} 1",
        "vedetta_writer_jobs_total{outcome=\"committed\"}",
        "vedetta_writer_commit_seconds_bucket",
        "vedetta_writer_batch_size_count",
        "vedetta_writer_checkpoint_seconds_count",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    for personal in [
        "Acqua alta",
        "Maria",
        "phone-1",
        "m-1",
        "127.0.0.1",
        "adele",
    ] {
        assert!(
            !text.contains(personal),
            "{personal:?} leaked into the metrics"
        );
    }
}

#[tokio::test]
async fn a_metrics_listener_of_its_own_serves_prometheus_without_a_login() {
    let app = TestApp::spawn_with(|config| {
        config.metrics.listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let addr = app.running().metrics_addr().expect("a metrics listener");

    let response = app
        .http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert!(response.headers().get("content-type").is_some_and(|kind| {
        kind.to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    }));
    assert!(response.text().await.unwrap().ends_with("# EOF\n"));
}
