//! The hub under measurement: started in this process on a temporary data dir, talking to the
//! bench's broker; and the staff accounts that draft and approve notices over its HTTP API.

use std::path::Path;
use std::time::Duration;

use vedetta::app::RunningApp;
use vedetta::auth::Role;
use vedetta::config::Config;

use crate::broker::Broker;
use crate::device::Device;

const PASSWORD: &str = "correct horse battery staple";

/// A hub on a free port with no quotas (`Config::ephemeral`), with MQTT on, at `broker`.
pub fn mqtt_config(data_dir: &Path, broker: &Broker) -> Config {
    let mut config = Config::ephemeral(data_dir);
    config.mqtt.enabled = true;
    config.mqtt.url = broker.url();
    config
}

/// Starts the hub and returns once it takes reports over MQTT: a probe device publishes a
/// report (again each second, with the same `client_ref`) until it is acked, which needs the
/// hub connected and subscribed. The probe's own device keeps any repeated answer.
pub async fn start_taking_reports(config: Config, broker: &Broker) -> RunningApp {
    let app = vedetta::app::start(config).await.unwrap();
    let mut probe = Device::connect(broker.port(), "bench-probe".into()).await;
    for attempt in 0.. {
        assert!(attempt < 30, "the hub never took a report over MQTT");
        probe.publish("probe").await;
        if probe.try_ack(Duration::from_secs(1)).await {
            break;
        }
    }
    probe.disconnect().await;
    app
}

/// Creates a staff account with `role` and logs it in; returns its API token.
pub async fn staff_token(app: &RunningApp, name: &str, role: Role) -> String {
    let accounts = &app.hub().accounts;
    accounts
        .add_user("bench", name, role, PASSWORD)
        .await
        .unwrap();
    accounts.login(None, name, PASSWORD).await.unwrap().token
}

/// Mean reports per committed transaction, and mean commit time (ms, fsync included), since
/// `before` (a snapshot of [`writer_totals`]).
pub fn writer_means(app: &RunningApp, before: [f64; 4]) -> (f64, f64) {
    let now = writer_totals(app);
    let commits = now[1] - before[1];
    (
        (now[0] - before[0]) / commits,
        (now[2] - before[2]) * 1000.0 / (now[3] - before[3]),
    )
}

/// The writer's histogram totals: jobs, commits, commit seconds, timed commits.
pub fn writer_totals(app: &RunningApp) -> [f64; 4] {
    let metrics = app.writer_metrics();
    [
        metrics.batch_size.sum(),
        metrics.batch_size.count() as f64,
        metrics.commit_seconds.sum(),
        metrics.commit_seconds.count() as f64,
    ]
}
