//! Part 1, intake: devices publishing QoS 1 reports through the broker, each waiting for its
//! `ack` on its inbox before the next; the same reports over the hub's WebSocket path at the
//! same concurrency; and the bare group-commit floor. Prints acks/s, latency and the ratios.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::runtime::Runtime;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use vedetta::config::Config;

use crate::broker::Broker;
use crate::device::{self, Device};
use crate::{floor, hub, millis, percentile};

const LEVELS: [usize; 2] = [20, 200];
const WARMUP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(5);
/// Longest wait for one answer before the run is called broken.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// Ack latencies over the measured window, and the hub's writer over the same window.
struct Sample {
    latencies: Vec<Duration>,
    /// Mean reports per committed transaction.
    batch: f64,
    /// Mean commit time, ms.
    commit_ms: f64,
    /// Most MQTT messages the hub held unacknowledged at once, and most being handled at once
    /// (sampled each millisecond).
    max_unacked: Option<(u64, u64)>,
}

impl Sample {
    fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / MEASURE.as_secs_f64()
    }

    fn row(&mut self, devices: usize, path: &str) {
        let unacked = self.max_unacked.map_or("-".into(), |(unacked, handling)| {
            format!("{unacked} / {handling}")
        });
        let batch = if self.batch.is_nan() {
            "-".into()
        } else {
            format!("{:.1}", self.batch)
        };
        let commit = if self.commit_ms.is_nan() {
            "-".into()
        } else {
            format!("{:.2}", self.commit_ms)
        };
        println!(
            "{devices:>7} | {path:<30} | {:>7.0} | {:>7.2} | {:>7.2} | {batch:>5} | {commit:>9} | {unacked:>18}",
            self.per_second(),
            millis(percentile(&mut self.latencies, 0.50)),
            millis(percentile(&mut self.latencies, 0.99)),
        );
    }
}

pub fn run(runtime: &Runtime) {
    println!(
        "== intake over MQTT: QoS 1 reports through mosquitto (max_inflight_messages 20), each \
         device waiting for its ack on its inbox (sent after COMMIT, synchronous=FULL); \
         {}s per run after {}s warm-up",
        MEASURE.as_secs(),
        WARMUP.as_secs()
    );
    println!(
        "devices | path                           |  acks/s |  p50 ms |  p99 ms | batch | commit ms | max unacked/handled"
    );
    for devices in LEVELS {
        let mut mqtt = runtime.block_on(measure_mqtt(devices));
        let mut ws = runtime.block_on(measure_ws(devices));
        let mut floor = Sample {
            latencies: floor::measure(devices, WARMUP, MEASURE),
            batch: f64::NAN,
            commit_ms: f64::NAN,
            max_unacked: None,
        };
        mqtt.row(devices, "hub MQTT");
        ws.row(devices, "hub WebSocket");
        floor.row(devices, "floor: rusqlite group commit");
        println!(
            "{devices:>7} | hub-MQTT/floor = {:.2}, hub-MQTT/WS = {:.2}",
            mqtt.per_second() / floor.per_second(),
            mqtt.per_second() / ws.per_second(),
        );
    }
}

async fn measure_mqtt(count: usize) -> Sample {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let app = hub::start_taking_reports(hub::mqtt_config(dir.path(), &broker), &broker).await;
    let devices = device::connect_all(broker.port(), &format!("dev{count}"), count).await;
    let start = Instant::now() + WARMUP;
    let end = start + MEASURE;
    let senders: Vec<_> = devices
        .into_iter()
        .map(|device| tokio::spawn(mqtt_sender(device, start, end)))
        .collect();
    tokio::time::sleep_until(start.into()).await;
    let before = hub::writer_totals(&app);
    let intake = app.hub().mqtt.intake.clone();
    let sampler = tokio::spawn(async move {
        let mut max = (0, 0);
        while Instant::now() < end {
            let now = intake.snapshot();
            max.0 = max.0.max(now.unacked);
            max.1 = max.1.max(now.in_flight);
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        max
    });
    let mut latencies = Vec::new();
    let mut devices = Vec::new();
    for sender in senders {
        let (device, measured) = sender.await.unwrap();
        latencies.extend(measured);
        devices.push(device);
    }
    let (batch, commit_ms) = hub::writer_means(&app, before);
    let max_unacked = Some(sampler.await.unwrap());
    for device in devices {
        device.disconnect().await;
    }
    app.shutdown().await.unwrap();
    Sample {
        latencies,
        batch,
        commit_ms,
        max_unacked,
    }
}

/// One device sending reports back to back, each after the previous `ack` on its inbox.
async fn mqtt_sender(mut device: Device, start: Instant, end: Instant) -> (Device, Vec<Duration>) {
    let mut measured = Vec::new();
    for seq in 0.. {
        let sent = Instant::now();
        if sent >= end {
            break;
        }
        device.publish(&format!("{}-{seq}", device.id)).await;
        let (answered, _) = device.next_ack(ANSWER_TIMEOUT).await;
        if sent >= start {
            measured.push(answered - sent);
        }
    }
    (device, measured)
}

/// The same reports over `/ws`, as `benches/intake.rs` sends them (the hub without MQTT).
async fn measure_ws(senders: usize) -> Sample {
    let dir = tempfile::tempdir().unwrap();
    let app = vedetta::app::start(Config::ephemeral(dir.path()))
        .await
        .unwrap();
    let url = format!("ws://{}/ws", app.http_addr());
    let start = Instant::now() + WARMUP;
    let end = start + MEASURE;
    let tasks: Vec<_> = (0..senders)
        .map(|n| tokio::spawn(ws_sender(url.clone(), n, start, end)))
        .collect();
    tokio::time::sleep_until(start.into()).await;
    let before = hub::writer_totals(&app);
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let (batch, commit_ms) = hub::writer_means(&app, before);
    app.shutdown().await.unwrap();
    Sample {
        latencies,
        batch,
        commit_ms,
        max_unacked: None,
    }
}

async fn ws_sender(url: String, sender: usize, start: Instant, end: Instant) -> Vec<Duration> {
    // A lean client, like a phone app: tungstenite's 128 KiB read buffer would be zeroed per frame.
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (mut socket, _) = tokio_tungstenite::connect_async_with_config(&url, Some(config), true)
        .await
        .unwrap();
    socket.next().await.unwrap().unwrap(); // welcome
    let device = format!("ws-{sender}");
    let mut measured = Vec::new();
    for seq in 0.. {
        let sent = Instant::now();
        if sent >= end {
            break;
        }
        let report = crate::report_json(&format!("{device}-{seq}"), Some(&device));
        let frame = json!({"type": "report", "report": report});
        socket.send(Message::text(frame.to_string())).await.unwrap();
        let answer = socket.next().await.unwrap().unwrap();
        assert!(
            answer.to_text().unwrap().starts_with(r#"{"type":"ack""#),
            "{answer}"
        );
        if sent >= start {
            measured.push(sent.elapsed());
        }
    }
    measured
}
