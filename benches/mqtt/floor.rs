//! The floor of intake: threads hand inserts of the same report to one writer thread that
//! commits whatever is queued (`synchronous=FULL`, the hub's schema and insert), as in
//! `benches/intake.rs`. No broker, network, JSON, zone lookup or async runtime.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::Utc;
use vedetta::reports::{ClientRef, Contact, DeviceId, Location, Source, ZoneRef};
use vedetta::store::reports::{self as report_rows, NewReport};

use crate::AT;

type Job = (NewReport, mpsc::SyncSender<()>);

/// Ack latencies over `measure` after `warmup`, with `senders` threads each waiting for its
/// commit before the next insert.
pub fn measure(senders: usize, warmup: Duration, measure: Duration) -> Vec<Duration> {
    let dir = tempfile::tempdir().unwrap();
    let conn = vedetta::store::open_for_tool(dir.path()).unwrap();
    let (jobs_tx, jobs_rx) = mpsc::channel::<Job>();
    let writer = std::thread::spawn(move || group_commit_loop(conn, jobs_rx));
    let start = Instant::now() + warmup;
    let end = start + measure;
    let threads: Vec<_> = (0..senders)
        .map(|n| {
            let jobs_tx = jobs_tx.clone();
            std::thread::spawn(move || sender(jobs_tx, n, start, end))
        })
        .collect();
    drop(jobs_tx);
    let latencies = threads
        .into_iter()
        .flat_map(|thread| thread.join().unwrap())
        .collect();
    writer.join().unwrap();
    latencies
}

fn group_commit_loop(conn: rusqlite::Connection, jobs_rx: mpsc::Receiver<Job>) {
    while let Ok(first) = jobs_rx.recv() {
        let batch: Vec<Job> = std::iter::once(first)
            .chain(jobs_rx.try_iter().take(511))
            .collect();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        for (report, _) in &batch {
            report_rows::insert(&conn, report.clone()).unwrap();
        }
        conn.execute_batch("COMMIT").unwrap();
        for (_, reply) in batch {
            let _ = reply.send(());
        }
    }
}

fn sender(jobs_tx: mpsc::Sender<Job>, n: usize, start: Instant, end: Instant) -> Vec<Duration> {
    let (reply_tx, reply_rx) = mpsc::sync_channel(1);
    let mut measured = Vec::new();
    for seq in 0.. {
        let sent = Instant::now();
        if sent >= end {
            break;
        }
        jobs_tx
            .send((new_report(n, seq), reply_tx.clone()))
            .unwrap();
        reply_rx.recv().unwrap();
        if sent >= start {
            measured.push(sent.elapsed());
        }
    }
    measured
}

/// The row the hub writes for a device's MQTT report at `AT`.
fn new_report(n: usize, seq: usize) -> NewReport {
    let zone = |id: &str, level: &str, name: &str| ZoneRef {
        id: id.into(),
        level: level.into(),
        name: name.into(),
    };
    NewReport {
        id: uuid::Uuid::now_v7().to_string(),
        source: Source::Mqtt,
        device_id: Some(DeviceId::parse(&format!("floor-{n}"), "device_id").unwrap()),
        client_ref: ClientRef::parse(&format!("floor-{n}-{seq}"), "client_ref").unwrap(),
        fingerprint: vec![0; 32],
        category: "flooding".into(),
        location: Location {
            lat: AT.0,
            lon: AT.1,
        },
        text: "Acqua alta in via Roma".into(),
        contact: Some(Contact {
            name: Some("Maria Rossi".into()),
            phone: Some("+39 333 1234567".into()),
            email: Some("maria@example.org".into()),
        }),
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
