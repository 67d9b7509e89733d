//! The test harness: the real hub in-process on port 0 with a temporary data dir, real clients.

pub mod basemap;
pub mod broker;
pub mod cap_feed;
pub mod child;
pub mod device;
pub mod italy;
pub mod notices;
pub mod raw;
pub mod schemas;
pub mod senders;
/// What the stand-ins of internet services share (the bench that includes one declares it too).
pub mod standin_listener;
pub mod telegram;
/// The stand-in's own tests: kept out of `telegram`, which a benchmark includes too.
#[cfg(test)]
#[path = "telegram_tests.rs"]
mod telegram_tests;
pub mod tools;
pub mod triage;
/// A stand-in for the WhatsApp Cloud API, for the WhatsApp side of the chat issue.
pub mod whatsapp;
#[cfg(test)]
#[path = "whatsapp_tests.rs"]
mod whatsapp_tests;
pub mod ws;

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use tempfile::TempDir;
use vedetta::app::{self, RunningApp};
use vedetta::auth::Role;
use vedetta::config::Config;

pub use broker::Broker;
pub use device::Device;
pub use schemas::assert_valid;
pub use ws::WsClient;

/// Every wait in the tests ends here at the latest.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A point in Monteverde (demo-001), inside the demo district (demo-d1).
pub const MONTEVERDE: (f64, f64) = (44.45, 11.22);
/// A point in Rio Secco (demo-003).
pub const RIO_SECCO: (f64, f64) = (44.33, 11.40);
/// A point in the sea, outside every demo zone.
pub const OFFSHORE: (f64, f64) = (43.0, 14.0);

/// Every test account's password.
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub app: Option<RunningApp>,
    /// An operator's token, made on first use.
    operator_token: tokio::sync::OnceCell<String>,
    /// The clock the hub runs on (the system's unless a test drives it).
    pub clock: vedetta::clock::SharedClock,
    pub config: Config,
    pub http: reqwest::Client,
    /// Kept alive for the test's duration; the database lives here.
    pub data_dir: TempDir,
    /// The follow token of each report sent through the harness, by report id.
    follow_tokens: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

/// The configuration tests start from: ephemeral port, no MQTT, no rate limits.
pub fn test_config(data_dir: &Path) -> Config {
    Config::ephemeral(data_dir)
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// Starts the hub after letting the test adjust its configuration.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp data dir");
        let mut config = test_config(dir.path());
        adjust(&mut config);
        TestApp::start(config, dir).await
    }

    /// Starts the hub talking to `broker`, with the device-facing options tests rely on.
    pub async fn spawn_with_broker(broker: &Broker) -> TestApp {
        TestApp::spawn_with(|config| connect_to(config, broker)).await
    }

    pub async fn start(config: Config, data_dir: TempDir) -> TestApp {
        TestApp::start_with_clock(config, data_dir, vedetta::clock::system()).await
    }

    /// Starts the hub on a clock the test moves by hand.
    pub async fn spawn_with_clock(
        clock: std::sync::Arc<vedetta::clock::ManualClock>,
        adjust: impl FnOnce(&mut Config),
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("temp data dir");
        let mut config = test_config(dir.path());
        adjust(&mut config);
        TestApp::start_with_clock(config, dir, clock).await
    }

    pub async fn start_with_clock(
        config: Config,
        data_dir: TempDir,
        clock: vedetta::clock::SharedClock,
    ) -> TestApp {
        let app = app::start_with_clock(config.clone(), clock.clone())
            .await
            .expect("the hub starts");
        TestApp {
            app: Some(app),
            clock,
            operator_token: tokio::sync::OnceCell::new(),
            config,
            http: reqwest::Client::new(),
            data_dir,
            follow_tokens: Default::default(),
        }
    }

    pub fn running(&self) -> &RunningApp {
        self.app.as_ref().expect("the hub is running")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.running().http_addr())
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.running().http_addr())
    }

    /// Stops the hub the way SIGTERM does.
    pub async fn stop(&mut self) {
        if let Some(app) = self.app.take() {
            app.shutdown().await.expect("clean shutdown");
        }
    }

    /// Stops and starts the hub again on the same data dir and configuration.
    pub async fn restart(&mut self) {
        self.stop().await;
        let restarted = app::start_with_clock(self.config.clone(), self.clock.clone()).await;
        self.app = Some(restarted.expect("the hub restarts"));
    }

    pub async fn post_report(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url("/api/v1/reports"))
            .json(body)
            .send()
            .await
            .expect("POST /api/v1/reports")
    }

    /// Creates the account if needed, logs it in, and returns its token.
    pub async fn token_for(&self, name: &str, role: Role) -> String {
        let accounts = &self.running().hub().accounts;
        let _ = accounts.add_user("test", name, role, PASSWORD).await;
        accounts
            .login(None, name, PASSWORD)
            .await
            .expect("test login")
            .token
    }

    pub async fn operator_token(&self) -> String {
        self.operator_token
            .get_or_init(|| self.token_for("olga", Role::Operator))
            .await
            .clone()
    }

    /// GET as an operator.
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let token = self.operator_token().await;
        self.get_json_as(path, Some(&token)).await
    }

    /// GET as an operator, the body as text (CSV, XML).
    pub async fn get_text_as_operator(&self, path: &str) -> String {
        let token = self.operator_token().await;
        let response = self.http.get(self.url(path)).bearer_auth(token).send();
        response.await.expect("GET").text().await.expect("a body")
    }

    /// GET with the given token, or none.
    pub async fn get_json_as(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("GET");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON body"))
    }

    /// Sends `body` as JSON with `method`, as the holder of `token`.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: &Value,
    ) -> (u16, Value) {
        let response = self
            .http
            .request(method, self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        (
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).expect("a JSON body")
            },
        )
    }

    /// Reads the database file directly, as an auditor would.
    pub fn count_rows(&self, sql: &str) -> i64 {
        let db = self.data_dir.path().join(vedetta::DATABASE_FILE);
        let conn =
            rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .expect("open the database read-only");
        conn.query_row(sql, [], |row| row.get(0))
            .expect("count query")
    }

    pub fn stored_reports(&self) -> i64 {
        self.count_rows("SELECT count(*) FROM reports")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(app) = self.app.take() {
            // A failed test still stops its hub, so its tasks do not outlive the runtime noisily.
            app.hub().shutdown.cancel();
        }
    }
}

pub fn connect_to(config: &mut Config, broker: &Broker) {
    config.mqtt.enabled = true;
    config.mqtt.url = broker.url();
}

/// A valid report body at `at`, with the given client reference.
pub fn report(client_ref: &str, at: (f64, f64)) -> Value {
    json!({
        "client_ref": client_ref,
        "device_id": "phone-1",
        "category": "flooding",
        "lat": at.0,
        "lon": at.1,
        "text": "Acqua alta in via Roma",
        "contact": { "name": "Maria Rossi", "phone": "+39 333 1234567", "email": "maria@example.org" }
    })
}

/// A tiny but genuine JPEG (SOI, APP0/JFIF header, EOI), base64-encoded.
pub fn jpeg_base64() -> String {
    use base64::Engine;
    let bytes: Vec<u8> = [
        &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10][..],
        b"JFIF\0",
        &[
            0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xFF, 0xD9,
        ],
    ]
    .concat();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Waits until `done` holds, giving the hub's tasks the runtime in between; fails after
/// `TIMEOUT`. For state that no event announces, such as a row the hub writes in the background.
pub async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::task::yield_now().await;
    }
}
