//! Durable intake: reports acknowledged per second over WebSocket at 1, 16 and 128 concurrent
//! senders, and ack latency, against a bare rusqlite group-commit loop on the same schema.
//!
//! Run with `cargo bench --bench intake`: three rounds per level, then their medians. Both
//! sides use `synchronous=FULL` on the same disk and the same insert
//! (`vedetta::bench_floor::insert`, the store's own); the floor has no network, JSON, zone
//! lookup or async runtime, so the ratio is what the hub costs on top of the disk. The echo
//! columns are what the WebSocket round trip alone costs, with nothing stored. Under each row,
//! the CPU the process used per ack in the measured window: steadier than the rates on a
//! shared machine, and on the hub's side it includes the in-process clients.

#[path = "support/cpu.rs"]
mod cpu;
#[path = "support/floor.rs"]
mod floor;

use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use vedetta::bench_floor::NewReport;
use vedetta::config::Config;
use vedetta::reports::{ClientRef, Location, Source, ZoneRef};

const LEVELS: [usize; 3] = [1, 16, 128];
/// Rounds per level, each the hub, the floor and the echo in turn: single runs on a shared
/// machine vary by 0.06 to 0.1 in the ratio, so a target is read off the median of three.
/// `INTAKE_BENCH_ROUNDS=1` for a quick look.
const ROUNDS: usize = 3;
const WARMUP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(5);
/// About the size of the hub's ack (report id, follow token, due times).
const ACK_BYTES: usize = 300;
/// A point in Monteverde, so the hub assigns the same two demo zones the floor inserts.
const AT: (f64, f64) = (44.45, 11.22);

/// Ack latencies of one run, over the measured window only, and the CPU the whole process
/// used in that window.
struct Sample {
    latencies: Vec<Duration>,
    cpu_ms: f64,
}

impl Sample {
    /// CPU per ack in µs: steadier than the rate on a machine shared with others. It counts
    /// the whole process, so the hub's side includes its in-process WebSocket clients.
    fn cpu_per_ack_us(&self) -> f64 {
        self.cpu_ms * 1000.0 / self.latencies.len().max(1) as f64
    }

    fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / MEASURE.as_secs_f64()
    }

    fn percentile(&mut self, q: f64) -> Duration {
        self.latencies.sort_unstable();
        let index = ((self.latencies.len() as f64 - 1.0) * q).round() as usize;
        self.latencies.get(index).copied().unwrap_or_default()
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "durable intake, synchronous=FULL, {}s per run after {}s warm-up",
        MEASURE.as_secs(),
        WARMUP.as_secs()
    );
    println!(
        "senders | hub acks/s | floor acks/s | hub/floor | hub p50 ms | hub p99 ms | floor p99 ms | echo acks/s | echo p50 ms"
    );
    // `cargo bench --bench intake -- 1 16` runs only those levels.
    let chosen: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let levels = if chosen.is_empty() {
        LEVELS.to_vec()
    } else {
        chosen
    };
    let rounds = std::env::var("INTAKE_BENCH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .map_or(ROUNDS, |n: usize| n.max(1));
    for senders in levels {
        let (mut ratios, mut p99_ratios) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let (ratio, p99_ratio) = measure_level(&runtime, senders);
            ratios.push(ratio);
            p99_ratios.push(p99_ratio);
        }
        if rounds > 1 {
            println!(
                "{:>7}   median of {rounds}: hub/floor {:.2}, hub p99 / floor p99 {:.2}",
                "",
                median(&mut ratios),
                median(&mut p99_ratios)
            );
        }
    }
    println!("targets: hub/floor >= 0.8 at every level; hub p99 <= 1.1 x the floor's p99");
    println!(
        "echo: the same senders against a WebSocket server that answers at once and stores nothing"
    );
}

/// One round at `senders`: prints its rows; returns hub/floor acks a second and p99 latency.
fn measure_level(runtime: &tokio::runtime::Runtime, senders: usize) -> (f64, f64) {
    let mut hub = runtime.block_on(measure_hub(senders));
    let mut floor = measure_floor(senders);
    let mut echo = runtime.block_on(measure_echo(senders));
    let (hub_p99, floor_p99) = (hub.percentile(0.99), floor.percentile(0.99));
    let ratio = hub.per_second() / floor.per_second();
    println!(
        "{senders:>7} | {:>10.0} | {:>12.0} | {:>9.2} | {:>10.2} | {:>10.2} | {:>12.2} | {:>11.0} | {:>11.3}",
        hub.per_second(),
        floor.per_second(),
        ratio,
        millis(hub.percentile(0.50)),
        millis(hub_p99),
        millis(floor_p99),
        echo.per_second(),
        millis(echo.percentile(0.50)),
    );
    println!(
        "{:>7}   CPU per ack: hub {:.1} µs (its clients included), floor {:.1} µs, echo {:.1} µs; floor/hub {:.2}",
        "",
        hub.cpu_per_ack_us(),
        floor.cpu_per_ack_us(),
        echo.cpu_per_ack_us(),
        floor.cpu_per_ack_us() / hub.cpu_per_ack_us()
    );
    (ratio, hub_p99.as_secs_f64() / floor_p99.as_secs_f64())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

async fn measure_hub(senders: usize) -> Sample {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::ephemeral(dir.path());
    let app = vedetta::app::start(config).await.unwrap();
    let sample = run_senders(format!("ws://{}/ws", app.http_addr()), senders).await;
    app.shutdown().await.unwrap();
    sample
}

/// The same senders against a WebSocket server that answers each report at once with an
/// ack-sized frame and keeps nothing: what loopback TCP, framing and the runtime cost alone.
async fn measure_echo(senders: usize) -> Sample {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(echo_session(stream));
        }
    });
    let sample = run_senders(url, senders).await;
    server.abort();
    sample
}

async fn echo_session(stream: tokio::net::TcpStream) {
    stream.set_nodelay(true).unwrap();
    let mut socket = tokio_tungstenite::accept_async(stream).await.unwrap();
    socket
        .send(Message::text(r#"{"type":"welcome"}"#))
        .await
        .unwrap();
    let ack = format!(r#"{{"type":"ack","padding":"{}"}}"#, "x".repeat(ACK_BYTES));
    while let Some(Ok(message)) = socket.next().await {
        if message.is_text() && socket.send(Message::text(ack.clone())).await.is_err() {
            break;
        }
    }
}

async fn run_senders(url: String, senders: usize) -> Sample {
    let start = Instant::now() + WARMUP;
    let end = start + MEASURE;
    let cpu = cpu_between(start, end);
    let tasks: Vec<_> = (0..senders)
        .map(|n| tokio::spawn(ws_sender(url.clone(), n, start, end)))
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    Sample {
        latencies,
        cpu_ms: cpu.join().unwrap(),
    }
}

/// The CPU this process uses between `start` and `end`, read by a thread of its own.
fn cpu_between(start: Instant, end: Instant) -> std::thread::JoinHandle<f64> {
    std::thread::spawn(move || {
        std::thread::sleep(start.saturating_duration_since(Instant::now()));
        let at_start = cpu::cpu_ms();
        std::thread::sleep(end.saturating_duration_since(Instant::now()));
        cpu::cpu_ms() - at_start
    })
}

/// One device sending reports back to back, each after the previous ack.
async fn ws_sender(url: String, sender: usize, start: Instant, end: Instant) -> Vec<Duration> {
    // A lean client, like a phone app: tungstenite's 128 KiB read buffer would be zeroed per frame.
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (mut socket, _) = tokio_tungstenite::connect_async_with_config(&url, Some(config), true)
        .await
        .unwrap();
    socket.next().await.unwrap().unwrap(); // welcome
    let mut measured = Vec::new();
    for seq in 0.. {
        let sent = Instant::now();
        if sent >= end {
            break;
        }
        // Written, not built as a `serde_json::Value`: a phone serializes one struct, and these
        // clients share the hub's two cores, so what they waste is taken from the hub.
        let frame = format!(
            r#"{{"type":"report","report":{{"client_ref":"s{sender}-{seq}","device_id":"bench-{sender}","category":"flooding","lat":{},"lon":{},"text":"Acqua alta in via Roma"}}}}"#,
            AT.0, AT.1
        );
        socket.send(Message::text(frame)).await.unwrap();
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

/// The floor: threads hand inserts to one writer thread that commits whatever is queued.
fn measure_floor(senders: usize) -> Sample {
    // The floor starts its window after opening its database: a few ms later than this one.
    let start = Instant::now() + WARMUP;
    let cpu = cpu_between(start, start + MEASURE);
    Sample {
        latencies: floor::measure(senders, WARMUP, MEASURE, new_report),
        cpu_ms: cpu.join().unwrap(),
    }
}

fn new_report(sender: usize, seq: usize) -> NewReport {
    let zone = |id: &str, level: &str, name: &str| ZoneRef {
        id: id.into(),
        level: level.into(),
        name: name.into(),
    };
    NewReport {
        id: uuid::Uuid::now_v7().to_string(),
        source: Source::Ws,
        device_id: None,
        client_ref: ClientRef::parse(&format!("s{sender}-{seq}"), "client_ref").unwrap(),
        fingerprint: vec![0; 32],
        category: "flooding".into(),
        location: Location {
            lat: AT.0,
            lon: AT.1,
        },
        text: "Acqua alta in via Roma".into(),
        contact: None,
        media_url: None,
        photo: None,
        zones: vec![
            zone("demo-001", "municipality", "Monteverde"),
            zone("demo-d1", "district", "Distretto Demo Valle del Reno"),
        ],
        in_area: true,
        received_at: Utc::now(),
        acknowledge_due_at: Some(Utc::now() + chrono::Duration::minutes(15)),
        resolve_due_at: Some(Utc::now() + chrono::Duration::hours(24)),
        incident_id: None,
        follow_token_hash: None,
    }
}
