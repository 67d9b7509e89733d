//! The test harness: the real hub in-process on port 0 with a temporary data dir, real clients.

pub mod broker;
pub mod device;
pub mod schemas;
pub mod ws;

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use tempfile::TempDir;
use vedetta::app::{self, RunningApp};
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

pub struct TestApp {
    pub app: Option<RunningApp>,
    pub config: Config,
    pub http: reqwest::Client,
    /// Kept alive for the test's duration; the database lives here.
    pub data_dir: TempDir,
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
        let app = app::start(config.clone()).await.expect("the hub starts");
        TestApp {
            app: Some(app),
            config,
            http: reqwest::Client::new(),
            data_dir,
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
        self.app = Some(
            app::start(self.config.clone())
                .await
                .expect("the hub restarts"),
        );
    }

    pub async fn post_report(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url("/api/v1/reports"))
            .json(body)
            .send()
            .await
            .expect("POST /api/v1/reports")
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = self.http.get(self.url(path)).send().await.expect("GET");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON body"))
    }

    /// Reads the database file directly, as an auditor would.
    pub fn count_rows(&self, sql: &str) -> i64 {
        let db = self.data_dir.path().join(vedetta::store::DATABASE_FILE);
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
