//! The floor of durable intake: threads hand inserts of a report to one writer thread that
//! commits whatever is queued (`synchronous=FULL`, the hub's schema and insert). No network,
//! JSON, zone lookup or async runtime: what the disk alone allows.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use vedetta::bench_floor::{self as report_rows, NewReport};

type Job = (NewReport, mpsc::SyncSender<()>);

/// Rows one transaction takes at most, as the hub's writer.
const MAX_BATCH: usize = 512;

/// Ack latencies over `measure` after `warmup`, with `senders` threads each waiting for its
/// commit before the next insert; `report(sender, seq)` makes each row.
pub fn measure(
    senders: usize,
    warmup: Duration,
    measure: Duration,
    report: fn(usize, usize) -> NewReport,
) -> Vec<Duration> {
    let dir = tempfile::tempdir().unwrap();
    let conn = vedetta::bench_floor::open_for_tool(dir.path()).unwrap();
    let (jobs_tx, jobs_rx) = mpsc::channel::<Job>();
    let writer = std::thread::spawn(move || group_commit_loop(conn, jobs_rx));
    let start = Instant::now() + warmup;
    let end = start + measure;
    let threads: Vec<_> = (0..senders)
        .map(|n| {
            let jobs_tx = jobs_tx.clone();
            std::thread::spawn(move || sender(jobs_tx, n, start, end, report))
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
            .chain(jobs_rx.try_iter().take(MAX_BATCH - 1))
            .collect();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        for (report, _) in &batch {
            let stored = report_rows::insert(&conn, report.clone()).unwrap();
            // A taken key would skip the row and flatter the floor.
            assert!(matches!(stored, report_rows::Inserted::Stored(_)));
        }
        conn.execute_batch("COMMIT").unwrap();
        for (_, reply) in batch {
            let _ = reply.send(());
        }
    }
}

fn sender(
    jobs_tx: mpsc::Sender<Job>,
    n: usize,
    start: Instant,
    end: Instant,
    report: fn(usize, usize) -> NewReport,
) -> Vec<Duration> {
    let (reply_tx, reply_rx) = mpsc::sync_channel(1);
    let mut measured = Vec::new();
    for seq in 0.. {
        let sent = Instant::now();
        if sent >= end {
            break;
        }
        jobs_tx.send((report(n, seq), reply_tx.clone())).unwrap();
        reply_rx.recv().unwrap();
        if sent >= start {
            measured.push(sent.elapsed());
        }
    }
    measured
}
