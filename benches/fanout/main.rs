//! Fan-out: one notice of about 1 KB to 10,000 WebSocket subscribers on loopback, from publish
//! to the last receipt, over 40 rounds. In the same run, the same clients measure a raw-socket
//! floor (blocking writes of the same frame to every socket, one thread) and Node's `ws` 8.x
//! broadcasting the same frame; the ratios are printed, with the hub's memory per idle
//! subscribed connection.
//!
//! Run with `cargo bench --bench fanout`. Clients live in two child processes of 5,000
//! connections each (this binary, started with `--fanout-client`), because a process may hold
//! 20,000 descriptors here. Node's peer needs `node` and runs `npm ci` in benches/fanout/node.

mod client;
#[path = "../support/cpu.rs"]
mod cpu;
mod floor;
mod hub;
mod node;

use std::time::Duration;

pub use cpu::cpu_ms;

pub const SUBSCRIBERS: usize = 10_000;
/// Connections when the hub's memory per idle subscribed connection is read.
pub const MEMORY_SUBSCRIBERS: usize = 15_000;
pub const CLIENT_PROCESSES: usize = 2;
pub const WARMUP_ROUNDS: usize = 3;
pub const ROUNDS: usize = 40;
/// The notice frame is padded to this size.
pub const FRAME_BYTES: usize = 1024;

fn main() {
    if let Some(args) = client::invoked_as_client() {
        return client::run(args);
    }
    let hub = hub::measure();
    println!(
        "hub ready: {} subscribers, frame of {} bytes",
        SUBSCRIBERS,
        hub.frame.len()
    );
    // `cargo bench --bench fanout -- hub-only` measures the hub alone, for profiling.
    if std::env::args().any(|arg| arg == "hub-only") {
        return println!("hub p50 {:.2} ms", millis(percentile(&hub.latencies, 0.5)));
    }
    let floor = floor::measure(&hub.frame);
    let node = node::measure(&hub.frame);
    report(&hub, &floor, node.as_deref().map_err(String::as_str));
}

fn report(hub: &hub::HubRun, floor: &floor::FloorRun, node: Result<&[Duration], &str>) {
    println!();
    println!(
        "fan-out of one {}-byte notice to {SUBSCRIBERS} WebSocket subscribers, {ROUNDS} rounds",
        hub.frame.len()
    );
    println!("{:<24} {:>9} {:>9}", "peer", "p50 ms", "p99 ms");
    let row = |name: &str, latencies: &[Duration]| {
        println!(
            "{name:<24} {:>9.2} {:>9.2}",
            millis(percentile(latencies, 0.5)),
            millis(percentile(latencies, 0.99))
        );
    };
    row("vedetta hub", &hub.latencies);
    row("raw-socket floor", &floor.latencies);
    if let Ok(node) = node {
        row("node ws 8.x", node);
    }
    let hub_p50 = percentile(&hub.latencies, 0.5).as_secs_f64();
    println!(
        "hub/floor p50 = {:.2} (target <= 1.05)",
        hub_p50 / percentile(&floor.latencies, 0.5).as_secs_f64()
    );
    println!(
        "of which the approval until COMMIT: p50 {:.2} ms",
        millis(percentile(&hub.approvals, 0.5))
    );
    match node {
        Ok(node) => println!(
            "hub/ws    p50 = {:.2} (target <= 1.0)",
            hub_p50 / percentile(node, 0.5).as_secs_f64()
        ),
        Err(why) => println!("hub/ws    not measured: {why}"),
    }
    println!(
        "hub memory per idle subscribed connection, at {MEMORY_SUBSCRIBERS}: {:.1} KB (target <= 4 KB)",
        hub.bytes_per_connection / 1024.0
    );
    println!(
        "CPU per round in the serving process: hub {:.1} ms, floor {:.1} ms",
        hub.cpu_per_round, floor.cpu_per_round
    );
}

pub fn percentile(latencies: &[Duration], q: f64) -> Duration {
    let mut sorted = latencies.to_vec();
    sorted.sort_unstable();
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Nanoseconds since the Unix epoch: comparable across the processes of one machine.
pub fn now_ns() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}
