//! The browser UI: served from the binary with a strict content policy, and driven end to end in
//! Debian's chromium by playwright-core (`ui/tests`), against the real hub.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::header;
use rumqttc::{LastWill, MqttOptions, QoS};
use serde_json::{Value, json};
use vedetta::auth::Role;

use crate::support::basemap::write_pmtiles;
use crate::support::italy::import_italy;
use crate::support::{
    Broker, Device, PASSWORD, TestApp, WsClient, assert_valid, connect_to, test_config,
};

#[tokio::test]
async fn the_pages_are_served_from_the_binary_and_may_load_nothing_from_elsewhere() {
    let app = TestApp::spawn().await;

    for page in ["/", "/console"] {
        let response = app.http.get(app.url(page)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{page}");
        let policy = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(policy.contains("default-src 'self'"), "{policy}");
        assert!(policy.contains("connect-src 'self'"), "{policy}");
        let html = response.text().await.unwrap();
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "{html}"
        );
    }
    let script = app
        .http
        .get(app.url("/ui/console.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    let etag = script.headers()[header::ETAG].clone();
    let again = app
        .http
        .get(app.url("/ui/console.js"))
        .header(header::IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304, "an unchanged bundle is not sent twice");
    let missing = app
        .http
        .get(app.url("/ui/nothing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_configured_basemap_is_offered_to_the_pages_and_allowed_by_their_policy() {
    let app = TestApp::spawn_with(|config| {
        config.ui.tile_url = Some("https://tiles.example.org/{z}/{x}/{y}.png".into());
    })
    .await;

    let page = app.http.get(app.url("/console")).send().await.unwrap();
    let policy = page.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains("img-src 'self' data: blob: https://tiles.example.org"),
        "{policy}"
    );
    let (status, settings) = app.get_json("/ui/config.json").await;
    assert_eq!(status, 200);
    assert_valid("ui-config", &settings);
    assert_eq!(
        settings["tile_url"],
        "https://tiles.example.org/{z}/{x}/{y}.png"
    );
}

/// Each step waits at most 10 s; the whole scenario far less than this.
const BROWSER_TESTS_TIMEOUT: Duration = Duration::from_secs(240);
/// One browser scenario at a time: two chromiums and two hubs on a small machine would make
/// each other's waits run out.
static ONE_BROWSER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One scenario across both pages: logging in, a citizen's report reaching the console live,
/// its triage reaching the citizen, and a notice drafted, approved and shown on both pages.
/// Screenshots of the main screens are saved in `test-artifacts/screenshots`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_and_the_citizen_page_work_together_in_a_real_browser() {
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let broker = Broker::start();
    // The district's offline basemap, read by range requests, under the zone tiles.
    let basemap_dir = tempfile::tempdir().unwrap();
    let basemap = write_pmtiles(basemap_dir.path());
    let telegram = crate::telegram::quick_stand_in().await;
    let bot = crate::telegram::bot_config(telegram.base_url(), false);
    // A regional centre's feed, whose severe alerts are marked for fast review.
    let feed = crate::support::cap_feed::CapFeed::start().await;
    let app = TestApp::spawn_with(|config| {
        connect_to(config, &broker);
        config.ui.basemap = Some(basemap);
        bot(config);
        config.cap_sources = vec![severe_first(&feed.url)];
    })
    .await;
    let accounts = &app.running().hub().accounts;
    for (name, role) in [
        ("olga", Role::Operator),
        ("aldo", Role::Approver),
        ("adele", Role::Admin),
    ] {
        accounts
            .add_user("test", name, role, PASSWORD)
            .await
            .unwrap();
    }
    let mut on_duty = field_team(&broker, &app).await;
    refusing_webhook(&app).await;

    run_browser_tests(&app, "tests/console-and-citizen.test.mjs", "screenshots").await;
    let (topic, task) = on_duty.next_on("/tasks/").await;
    let task: Value = serde_json::from_slice(&task).unwrap();
    assert!(
        topic.starts_with("vedetta/demo/devices/tab-1/tasks/"),
        "{topic}"
    );
    assert_eq!(
        task["note"], "Portare le pompe",
        "the console's dispatch reached the tablet"
    );
    // A citizen's report from Telegram, whose conversation the console shows.
    crate::telegram::report_by_chat(&telegram).await;
    // A severe alert from the regional centre, which the console must raise.
    let severe = crate::cap_sources::arpae("ARPAE-UI", "Alert", None).replace("Moderate", "Severe");
    feed.publish("ARPAE-UI", severe);
    wait_for_fast_review(&app).await;
    // The incident, presence, statistics and drawing tools, on the same office's data.
    run_browser_tests(&app, "tests/console-views.test.mjs", "screenshots-views").await;
    // What the office published and how it answered, as anyone reads it.
    run_browser_tests(&app, "tests/public-pages.test.mjs", "screenshots-public").await;
}

fn severe_first(url: &str) -> vedetta::config::CapSource {
    vedetta::config::CapSource {
        name: "arpae".into(),
        url: url.to_owned(),
        poll_secs: 1,
        allow_private: true,
        fast_review: Some(vedetta::config::FastReview {
            severities: vec!["Extreme".into(), "Severe".into()],
            urgencies: Vec::new(),
            in_office_zones: true,
        }),
    }
}

/// Until the source's alert is held, marked for fast review.
async fn wait_for_fast_review(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, marked) = app
            .get_json("/api/v1/notices?state=draft&review=fast")
            .await;
        if marked["notices"].as_array().is_some_and(|n| !n.is_empty()) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the source's alert never arrived"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A webhook whose receiver (the hub itself, which takes no POST there) refuses every
/// delivery with 405: the console shows it failed and offers a retry.
async fn refusing_webhook(app: &TestApp) {
    let admin = app.token_for("adele", Role::Admin).await;
    let hook = serde_json::json!({
        "url": app.url("/api/v1/categories"),
        "label": "Prefettura (refuses)",
        "allow_private_network": true
    });
    let (status, answer) = app
        .send_json(reqwest::Method::POST, "/api/v1/webhooks", &admin, &hook)
        .await;
    assert_eq!(status, 201, "{answer}");
}

/// The pages with every Italian municipality, province and region loaded: the citizen page
/// shows its form and the notices of a municipality found by name without downloading the
/// zones, the maps draw zone tiles, and the pages pass axe's accessibility rules.
/// Screenshots in `test-artifacts/screenshots-italy`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_work_with_every_italian_zone_loaded_in_a_real_browser() {
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().expect("temp data dir");
    import_italy(dir.path());
    let app = TestApp::start(test_config(dir.path()), dir).await;
    let accounts = &app.running().hub().accounts;
    for (name, role) in [("olga", Role::Operator), ("aldo", Role::Approver)] {
        accounts
            .add_user("test", name, role, PASSWORD)
            .await
            .unwrap();
    }

    run_browser_tests(
        &app,
        "tests/map-and-citizen-at-scale.test.mjs",
        "screenshots-italy",
    )
    .await;
}

/// Runs one file of `ui/tests` with node against `app`, saving screenshots in
/// `test-artifacts/<screenshots>`, and fails with node's output if any browser test fails.
async fn run_browser_tests(app: &TestApp, file: &str, screenshots: &str) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let hub_url = app.url("").trim_end_matches('/').to_owned();
    let screenshots = root.join("test-artifacts").join(screenshots);
    // The artifacts are this run's screens only.
    let _ = std::fs::remove_dir_all(&screenshots);
    let browser_tests = Command::new("node")
        .args(["--test", "--test-reporter=spec", file])
        .current_dir(root.join("ui"))
        .env("VEDETTA_URL", hub_url)
        .env("VEDETTA_PASSWORD", PASSWORD)
        .env("VEDETTA_SCREENSHOTS", &screenshots)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs the browser tests (apt-get install nodejs chromium)");
    let pid = browser_tests.id().to_string();
    let finished = tokio::time::timeout(
        BROWSER_TESTS_TIMEOUT,
        tokio::task::spawn_blocking(move || browser_tests.wait_with_output()),
    )
    .await;
    let Ok(output) = finished else {
        let _ = Command::new("kill").arg(&pid).status();
        panic!("the browser tests took over {BROWSER_TESTS_TIMEOUT:?}");
    };
    let output = output.unwrap().unwrap();
    // Shown with --nocapture: the test names and the bytes the pages transferred.
    println!("{}", String::from_utf8_lossy(&output.stdout));
    assert!(
        output.status.success(),
        "browser tests failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Team `squadra-1`: tab-1 online in Rio Secco and following its tasks, tab-2 lost (its Last
/// Will) in Valbruna. Returns once the hub has both.
async fn field_team(broker: &Broker, app: &TestApp) -> Device {
    let prefix = app.config.mqtt_prefix();
    let token = app.operator_token().await;
    let team =
        json!({ "id": "squadra-1", "name": "Squadra Monteverde", "devices": ["tab-1", "tab-2"] });
    let (code, body) = app.post_as(&token, "/api/v1/teams", &team).await;
    assert_eq!(code, 200, "{body}");
    let mut staff = WsClient::connect(&app.ws_url()).await;
    staff.auth(&token).await;
    staff.watch().await;
    let mut on_duty = Device::connect(broker, &prefix, "tab-1").await;
    on_duty
        .subscribe(&format!("{prefix}/devices/tab-1/tasks/+"))
        .await;
    on_duty
        .publish_own("state", br#"{"state":"online"}"#.to_vec(), true)
        .await;
    on_duty
        .publish_own("position", br#"{"lat":44.33,"lon":11.4}"#.to_vec(), true)
        .await;
    let will = LastWill::new(
        format!("{prefix}/devices/tab-2/state"),
        r#"{"state":"lost"}"#,
        QoS::AtLeastOnce,
        true,
    );
    let gone = Device::connect_with(broker, &prefix, "tab-2", |options: &mut MqttOptions| {
        options.set_last_will(will);
    })
    .await;
    gone.publish_own("position", br#"{"lat":44.36,"lon":11.24}"#.to_vec(), true)
        .await;
    device_seen(&mut staff, "tab-2", |device| device["position"].is_object()).await;
    drop(gone);
    device_seen(&mut staff, "tab-2", |device| device["state"] == "lost").await;
    on_duty
}

/// Waits for the live queue to show `id` as `wanted` says.
async fn device_seen(staff: &mut WsClient, id: &str, wanted: impl Fn(&Value) -> bool) {
    loop {
        let frame = staff.next_of("device").await;
        if frame["device"]["device_id"] == id && wanted(&frame["device"]) {
            return;
        }
    }
}
