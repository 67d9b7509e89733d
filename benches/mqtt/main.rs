//! MQTT: the hub as a client of a real Mosquitto, in three measurements in one run.
//!
//! 1. Intake: 20 and 200 devices publishing QoS 1 reports through the broker, each waiting for
//!    its `ack` on its inbox; against the same reports over the hub's WebSocket path at the same
//!    concurrency and a bare rusqlite group-commit loop on the same schema (`synchronous=FULL`).
//! 2. Backlog: 100,000 reports queued at the broker for the hub's persistent session while the
//!    hub is stopped, then drained by the restarted hub; then one more report, acked at once.
//! 3. Fan-out: one signed notice, published by the hub on approval, to 10,000 MQTT subscribers
//!    of its zone, against `mosquitto_pub` publishing the same bytes to the same subscribers.
//!
//! Run with `cargo bench --bench mqtt`; `-- intake`, `-- backlog`, `-- fanout` run only those
//! parts. Each part starts its own `mosquitto` (Debian's `/usr/sbin/mosquitto`) on a free
//! loopback port with its own configuration and storage; the machine's broker is never used.
//! The 10,000 subscribers live in two child processes (this binary, started with
//! `--mqtt-subscribers`), since a process may hold 20,000 descriptors here. Hub warnings go to
//! stderr (`RUST_LOG` to change the level).

mod backlog;
mod broker;
mod device;
mod fanout;
mod floor;
#[path = "../support/floor.rs"]
mod floor_loop;
mod hub;
mod intake;
mod subscribers;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in Monteverde (demo-001), inside the demo district: the floor inserts these zones.
pub const AT: (f64, f64) = (44.45, 11.22);

fn main() {
    if let Some(args) = subscribers::invoked_as_child() {
        return subscribers::run_child(args);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let chosen: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| ["intake", "backlog", "fanout"].contains(&arg.as_str()))
        .collect();
    let wanted = |part: &str| chosen.is_empty() || chosen.iter().any(|arg| arg == part);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    if wanted("intake") {
        intake::run(&runtime);
    }
    if wanted("backlog") {
        runtime.block_on(backlog::run());
    }
    if wanted("fanout") {
        fanout::run(&runtime);
    }
    println!("\nwhole run: {:.0} s", started.elapsed().as_secs_f64());
}

/// The report a device sends, as `tests/hub/support/mod.rs::report()` makes it.
pub fn report_json(client_ref: &str, device_id: Option<&str>) -> serde_json::Value {
    let mut report = serde_json::json!({
        "client_ref": client_ref,
        "category": "flooding",
        "lat": AT.0,
        "lon": AT.1,
        "text": "Acqua alta in via Roma",
        "contact": { "name": "Maria Rossi", "phone": "+39 333 1234567", "email": "maria@example.org" }
    });
    if let Some(device_id) = device_id {
        report["device_id"] = device_id.into();
    }
    report
}

/// The `q` quantile of `latencies` (sorted here).
pub fn percentile(latencies: &mut [Duration], q: f64) -> Duration {
    latencies.sort_unstable();
    let index = ((latencies.len() as f64 - 1.0) * q).round() as usize;
    latencies.get(index).copied().unwrap_or_default()
}

pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Nanoseconds since the Unix epoch: comparable across the processes of one machine.
pub fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}
