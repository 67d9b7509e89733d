//! Part 2, backlog drain: with the hub stopped (its persistent session kept by the broker),
//! devices queue 100,000 reports at the broker; the hub is started again on the same data dir
//! and timed until every report is stored and every device has all its answers. Then one more
//! report shows intake is live.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use vedetta::channels::mqtt::IntakeProgress;

use crate::broker::Broker;
use crate::device::{self, Device};
use crate::{hub, millis};

pub const REPORTS: usize = 100_000;
const DEVICES: usize = 200;
/// Reports sent one by one after the drain, each timed to its ack.
const AFTER: usize = 5;
/// How often the timeline of the drain is sampled.
const TIMELINE_STEP: Duration = Duration::from_secs(5);
/// Longest wait for one answer during the drain.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(300);

pub async fn run() {
    println!(
        "\n== backlog drain: {REPORTS} QoS 1 reports from {DEVICES} devices queued at the broker for \
         the stopped hub's persistent session"
    );
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let config = hub::mqtt_config(dir.path(), &broker);
    let app = hub::start_taking_reports(config.clone(), &broker).await;
    let mut devices = device::connect_all(broker.port(), "backlog", DEVICES).await;
    app.shutdown().await.unwrap();
    let stored_before = count_reports(dir.path());

    let per_device = REPORTS / DEVICES;
    let queueing = Instant::now();
    let publishers: Vec<_> = devices
        .drain(..)
        .map(|mut device| {
            tokio::spawn(async move {
                for seq in 0..per_device {
                    device.publish(&format!("{}-{seq}", device.id)).await;
                }
                device.broker_has(per_device).await;
                device
            })
        })
        .collect();
    for publisher in publishers {
        devices.push(publisher.await.unwrap());
    }
    println!(
        "queued: {REPORTS} reports PUBACKed by the broker in {:.1} s; broker resident memory {:.0} MB",
        queueing.elapsed().as_secs_f64(),
        broker.resident_bytes() as f64 / 1e6
    );

    let restarted = Instant::now();
    let app = vedetta::app::start(config).await.unwrap();
    let started = restarted.elapsed();
    let answered = Arc::new(AtomicUsize::new(0));
    let stored = watch_count(
        dir.path().to_owned(),
        stored_before,
        REPORTS as i64,
        (answered.clone(), app.hub().mqtt.intake.clone()),
    );
    let receivers: Vec<_> = devices
        .drain(..)
        .map(|device| tokio::spawn(all_answers(device, per_device, answered.clone())))
        .collect();
    let mut last_answer = restarted;
    let mut duplicates = 0;
    for receiver in receivers {
        let (device, last, repeated) = receiver.await.unwrap();
        last_answer = last_answer.max(last);
        duplicates += repeated;
        devices.push(device);
    }
    let (all_stored, timeline) = tokio::task::spawn_blocking(move || stored.recv().unwrap())
        .await
        .unwrap();
    let stored_secs = (all_stored - restarted).as_secs_f64();
    let answered_secs = (last_answer - restarted).as_secs_f64();
    println!(
        "hub restarted (start() returned after {:.0} ms): all {REPORTS} stored after {stored_secs:.1} s, \
         every device had all its answers after {answered_secs:.1} s ({duplicates} marked duplicate)",
        millis(started)
    );
    println!(
        "drain: {:.0} reports/s stored, {:.0} reports/s answered",
        REPORTS as f64 / stored_secs,
        REPORTS as f64 / answered_secs
    );

    println!(
        "timeline after the restart (reports stored / answers received / messages the hub held \
         unacknowledged / of those being handled): {timeline}"
    );
    let hub = app.hub().mqtt.intake.snapshot();
    println!(
        "after the drain the hub holds {} messages unacknowledged, {} being handled",
        hub.unacked, hub.in_flight
    );
    let probe = &mut devices[0];
    let mut latencies = Vec::new();
    for n in 0..AFTER {
        let sent = Instant::now();
        probe.publish(&format!("after-drain-{n}")).await;
        let (answered, _) = probe.next_ack(Duration::from_secs(60)).await;
        latencies.push(format!("{:.1}", millis(answered - sent)));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "{AFTER} more reports after the drain, each 0.5 s after the previous ack: acked in {} ms",
        latencies.join(", ")
    );
    assert_eq!(
        count_reports(dir.path()),
        stored_before + (REPORTS + AFTER) as i64
    );
    for device in devices {
        device.disconnect().await;
    }
    app.shutdown().await.unwrap();
}

/// Reads `count` answers; returns when the last came and how many were marked duplicate.
async fn all_answers(
    mut device: Device,
    count: usize,
    answered: Arc<AtomicUsize>,
) -> (Device, Instant, usize) {
    let mut last = Instant::now();
    let mut duplicates = 0;
    for _ in 0..count {
        let (at, answer) = device.next_ack(ANSWER_TIMEOUT).await;
        answered.fetch_add(1, Ordering::Relaxed);
        last = at;
        if answer
            .windows(16)
            .any(|window| window == br#""duplicate":true"#)
        {
            duplicates += 1;
        }
    }
    (device, last, duplicates)
}

/// Polls the database (read-only, as an auditor would) from a thread; sends when it first
/// holds `expected` more reports than `before`, with a timeline of reports stored and answers
/// received every `TIMELINE_STEP` until then.
fn watch_count(
    data_dir: PathBuf,
    before: i64,
    expected: i64,
    (answered, intake): (Arc<AtomicUsize>, Arc<IntakeProgress>),
) -> mpsc::Receiver<(Instant, String)> {
    let (reached_tx, reached_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let started = Instant::now();
        let mut timeline = Vec::new();
        let mut next_step = started + TIMELINE_STEP;
        loop {
            let stored = count_reports(&data_dir) - before;
            if stored >= expected {
                break;
            }
            if Instant::now() >= next_step {
                let answers = answered.load(Ordering::Relaxed);
                let at = (next_step - started).as_secs();
                let hub = intake.snapshot();
                timeline.push(format!(
                    "{at}s {stored}/{answers}/{}/{}",
                    hub.unacked, hub.in_flight
                ));
                next_step += TIMELINE_STEP;
            }
            assert!(
                started.elapsed() < Duration::from_secs(900),
                "the backlog never drained"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = reached_tx.send((Instant::now(), timeline.join(", ")));
    });
    reached_rx
}

fn count_reports(data_dir: &Path) -> i64 {
    let db = data_dir.join(vedetta::DATABASE_FILE);
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    conn.query_row("SELECT count(*) FROM reports", [], |row| row.get(0))
        .unwrap()
}
