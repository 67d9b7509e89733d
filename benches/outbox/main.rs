//! The outbox: one notice to N webhook destinations on a local HTTP sink (default 100,000):
//! deliveries per second, the p99 time from COMMIT to delivery and the CPU time per delivery
//! (the sink's included, on both sides), against a bare async HTTP loop (reqwest, the same
//! concurrency) sending the same requests (each destination's URL, the hub's headers and body
//! as the sink received them) to the same sink in the same run; the hub's memory while the
//! queue drains; and the cost of one Web Push encryption.
//!
//! Run with `cargo bench --bench outbox` (`OUTBOX_BENCH_N=20000` for a shorter run): three
//! rounds, each one notice to every destination, then the medians. The hub runs in this
//! process; setting up N webhooks goes through its admin API, once.

#[path = "../support/cpu.rs"]
mod cpu;
mod sink;
#[path = "../support/staff.rs"]
mod staff;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use vedetta::config::Config;

use cpu::cpu_ms;
use sink::Sink;
use staff::{Tokens, notice, publish, rss_mb, sample_peak_rss};

/// Requests in flight, for the floor and for the hub's webhook worker alike.
const CONCURRENCY: usize = 64;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let count: usize = std::env::var("OUTBOX_BENCH_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    runtime.block_on(async {
        let sink = Sink::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::ephemeral(dir.path());
        config.outbox.webhooks.concurrency = CONCURRENCY;
        let app = vedetta::app::start(config).await.unwrap();
        let base = format!("http://{}", app.http_addr());
        let client = reqwest::Client::new();
        let tokens = Tokens::make(&app).await;
        let started = Instant::now();
        register(&client, &base, &tokens.admin, &sink, count).await;
        println!(
            "outbox: one notice to {count} webhooks, {CONCURRENCY} in flight (set-up {:.1} s)",
            started.elapsed().as_secs_f64()
        );
        println!(
            "round | side  | deliveries/s | p99 COMMIT→delivery | CPU per delivery | extra memory while draining"
        );
        let mut rounds = Vec::new();
        for round in 1..=rounds_wanted() {
            let hub = hub_run(&client, &base, &tokens, &sink, count, app.hub()).await;
            let floor = floor_run(&sink, count).await;
            print_round(round, &hub, &floor, count);
            rounds.push((hub, floor));
        }
        let rates = median(rounds.iter().map(|(hub, floor)| hub.per_second / floor.per_second));
        let cpu = median(rounds.iter().map(|(hub, floor)| floor.cpu_us / hub.cpu_us));
        println!(
            "median of {}: hub/floor deliveries per second {rates:.2} (target >= 0.8); \
             floor/hub CPU per delivery {cpu:.2}",
            rounds.len()
        );
        push_encryption_cost();
        app.shutdown().await.unwrap();
    });
}

/// Rounds, each the hub then the floor: single runs on a shared machine vary by about 0.1 in
/// the ratio, so the target is read off the median. `OUTBOX_BENCH_ROUNDS=1` for a quick look.
fn rounds_wanted() -> usize {
    std::env::var("OUTBOX_BENCH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3)
        .max(1)
}

fn print_round(round: usize, hub: &Run, floor: &Run, count: usize) {
    println!(
        "{round:>5} | floor | {:>12.0} | {:>17.0} ms | {:>13.1} µs |",
        floor.per_second, floor.p99_ms, floor.cpu_us
    );
    println!(
        "{round:>5} | hub   | {:>12.0} | {:>17.0} ms | {:>13.1} µs | {:.1} MB ({:.0} B per queued delivery)",
        hub.per_second,
        hub.p99_ms,
        hub.cpu_us,
        hub.extra_mb,
        hub.extra_mb * 1e6 / count as f64
    );
    println!(
        "{round:>5} | hub/floor deliveries per second: {:.2}; floor/hub CPU per delivery: {:.2}",
        hub.per_second / floor.per_second,
        floor.cpu_us / hub.cpu_us
    );
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

struct Run {
    per_second: f64,
    p99_ms: f64,
    /// The whole process's CPU time (sink included) per delivery, in µs.
    cpu_us: f64,
    extra_mb: f64,
}

fn summarise(start: Instant, times: &[Instant], count: usize, cpu_ms: f64, extra_mb: f64) -> Run {
    let mut offsets: Vec<f64> = times
        .iter()
        .map(|at| at.duration_since(start).as_secs_f64() * 1000.0)
        .collect();
    offsets.sort_by(f64::total_cmp);
    let last = offsets.last().copied().unwrap_or_default();
    let p99 = offsets
        .get(((offsets.len() as f64 - 1.0) * 0.99) as usize)
        .copied()
        .unwrap_or_default();
    Run {
        per_second: count as f64 / (last / 1000.0),
        p99_ms: p99,
        cpu_us: cpu_ms * 1000.0 / count as f64,
        extra_mb,
    }
}

/// The floor: the same requests the hub sent (one per destination, with the headers and body
/// of the first the sink saw), `CONCURRENCY` at once, from a plain loop.
async fn floor_run(sink: &Sink, count: usize) -> Run {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let seen = sink.first().expect("the hub's run reached the sink");
    let mut headers = seen.headers.clone();
    // reqwest sets these itself, as it did for the hub.
    for hop in ["host", "content-length", "accept"] {
        headers.remove(hop);
    }
    let urls: Vec<String> = (0..count)
        .map(|i| format!("http://{}/hook/{i}", sink.addr))
        .collect();
    sink.expect(count);
    let (start, cpu_start) = (Instant::now(), cpu_ms());
    futures_util::stream::iter(urls)
        .for_each_concurrent(CONCURRENCY, |url| {
            let (client, headers, body) = (client.clone(), headers.clone(), seen.body.clone());
            async move {
                let _ = client.post(url).headers(headers).body(body).send().await;
            }
        })
        .await;
    // Every request was answered, so every arrival is counted; this also takes the sink's signal.
    sink.wait().await;
    let cpu = cpu_ms() - cpu_start;
    summarise(start, &sink.times(), count, cpu, 0.0)
}

/// The hub: publish one notice and wait for its `count` deliveries.
async fn hub_run(
    client: &reqwest::Client,
    base: &str,
    tokens: &Tokens,
    sink: &Sink,
    count: usize,
    hub: &vedetta::hub::Hub,
) -> Run {
    sink.expect(count);
    let rss_before = rss_mb();
    let (sampling, peak) = sample_peak_rss();
    let committed = publish(client, base, tokens, hub, &notice()).await;
    let cpu_start = cpu_ms();
    tokio::time::timeout(Duration::from_secs(600), sink.wait())
        .await
        .expect("every delivery arrives");
    sampling.abort();
    let extra = *peak.lock().unwrap() - rss_before;
    let arrivals = sink.times();
    // The floor runs on a quiet process: every outcome written first, and counted as the
    // hub's work.
    let waiting = || async {
        let gauges = hub.outbox.gauges().await.unwrap();
        gauges.iter().map(|gauge| gauge.waiting).sum::<u64>()
    };
    while waiting().await > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    summarise(committed, &arrivals, count, cpu_ms() - cpu_start, extra)
}

/// Registers `count` webhooks on the sink through the admin API.
async fn register(client: &reqwest::Client, base: &str, admin: &str, sink: &Sink, count: usize) {
    futures_util::stream::iter(0..count)
        .for_each_concurrent(CONCURRENCY, |i| {
            let body = json!({ "url": format!("http://{}/hook/{i}", sink.addr), "allow_private_network": true });
            let url = format!("{base}/api/v1/webhooks");
            async move {
                let answer = client.post(url).bearer_auth(admin).json(&body).send().await.unwrap();
                assert_eq!(answer.status(), 201);
            }
        })
        .await;
}

/// One RFC 8291 encryption, as the push courier makes per delivery, and one VAPID signature,
/// which it makes once per push service and reuses for six hours.
fn push_encryption_cost() {
    use web_push_native::jwt_simple::algorithms::ES256KeyPair;
    use web_push_native::vapid::VapidSignature;
    use web_push_native::{Auth, WebPushBuilder, p256};
    let vapid = ES256KeyPair::generate();
    let browser = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
    let auth = Auth::clone_from_slice(&[7u8; 16]);
    let endpoint: axum::http::Uri = "https://push.example.org/x".parse().unwrap();
    let payload = vec![b'x'; 600];
    let rounds = 2_000;
    let start = Instant::now();
    for _ in 0..rounds {
        let request = WebPushBuilder::new(endpoint.clone(), browser.public_key(), auth)
            .build(payload.clone())
            .unwrap();
        std::hint::black_box(request);
    }
    let each = start.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    let start = Instant::now();
    for _ in 0..rounds {
        let signed = VapidSignature::sign(
            &endpoint,
            Duration::from_secs(12 * 3600),
            "mailto:bench@example.org",
            &vapid,
        );
        std::hint::black_box(signed.unwrap());
    }
    let signing = start.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    println!(
        "one Web Push encryption: {each:.0} µs; one VAPID signature (once per push service \
         per 6 h): {signing:.0} µs"
    );
}
