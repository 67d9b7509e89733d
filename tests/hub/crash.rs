//! Killed with SIGKILL mid-intake, the hub loses no acknowledged report and stores a resent one once.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use tokio::sync::watch;

use crate::support::TIMEOUT;
use crate::support::child::ChildHub;
use crate::support::senders::*;

/// Kill and restart cycles.
const CYCLES: usize = 3;
/// Reports acknowledged in a cycle before the kill, over both channels...
const ACKED_BEFORE_KILL: usize = 300;
/// ...and at least this many over each.
const ACKED_PER_CHANNEL: usize = 50;
const HTTP_CLIENTS: usize = 8;
const WS_CLIENTS: usize = 4;
/// Acked reports resent after each restart, per channel: the latest ones and a spread of older.
const LATEST_RESENT: usize = 8;
const OLDER_RESENT: usize = 8;
/// How long a cycle may take to reach `ACKED_BEFORE_KILL` in a debug build on a busy machine.
const LOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the clients against `hub` until enough reports are acked, then kills the hub under them.
async fn load_then_kill(hub: &mut ChildHub, ledger: &Arc<Mutex<Ledger>>, cycle: usize) {
    let (acks, mut acked) = watch::channel([0; 2]);
    let clients = Clients {
        ledger: ledger.clone(),
        acks: Arc::new(acks),
    };
    let http_url = format!("http://{}/api/v1/reports", hub.addr());
    let ws_url = format!("ws://{}/ws", hub.addr());
    let mut running = Vec::new();
    for n in 0..HTTP_CLIENTS {
        let (device, prefix) = (format!("crash-http-{n}"), format!("c{cycle}-h{n}"));
        let client = http_client(clients.clone(), http_url.clone(), device, prefix);
        running.push(tokio::spawn(client));
    }
    for n in 0..WS_CLIENTS {
        let (device, prefix) = (format!("crash-ws-{n}"), format!("c{cycle}-w{n}"));
        running.push(tokio::spawn(ws_client(
            clients.clone(),
            ws_url.clone(),
            device,
            prefix,
        )));
    }
    let enough = |acks: &[usize; 2]| {
        acks.iter().sum::<usize>() >= ACKED_BEFORE_KILL
            && acks.iter().all(|&n| n >= ACKED_PER_CHANNEL)
    };
    // The borrow `wait_for` returns is dropped at once: it would block the clients' counting.
    let waited = tokio::time::timeout(LOAD_TIMEOUT, acked.wait_for(enough))
        .await
        .is_ok_and(|changed| changed.is_ok());
    let surprises = ledger.lock().unwrap().surprises.join("\n");
    assert!(
        waited,
        "cycle {cycle}: only {:?} acked in {LOAD_TIMEOUT:?}\n{surprises}\n{}",
        *acked.borrow(),
        hub.log_tail()
    );
    let peak_kb = hub.status_kb("VmHWM");
    hub.kill9();
    let stopped = tokio::time::timeout(TIMEOUT, join_all(running)).await;
    assert!(
        stopped.is_ok(),
        "cycle {cycle}: clients still running after the kill"
    );
    let acks = *acked.borrow();
    let unacked = ledger.lock().unwrap().unacked.len();
    eprintln!(
        "cycle {cycle}: killed after {} acked ({} http, {} ws), {unacked} sent and unacked; peak RSS {peak_kb} kB",
        acks[0] + acks[1],
        acks[0],
        acks[1]
    );
}

/// What one restart's resend found.
#[derive(Debug, Default)]
struct Resent {
    /// Acked before the kill, answered as a duplicate with the same id.
    acked: usize,
    /// Unacked, found stored: committed before the kill, its answer lost.
    unacked_found: usize,
    /// Unacked, stored now.
    unacked_new: usize,
}

/// Resends every unacked report and a sample of acked ones, each over its own channel.
async fn resend(hub: &ChildHub, ledger: &Mutex<Ledger>, resent_unacked: &mut Vec<Sent>) -> Resent {
    let (unacked, sample) = {
        let mut ledger = ledger.lock().unwrap();
        let unacked: Vec<Sent> = ledger.unacked.drain().map(|(_, sent)| sent).collect();
        (unacked, sample_acked(&ledger.acked))
    };
    resent_unacked.extend(unacked.iter().cloned());
    let all: Vec<&Sent> = sample
        .iter()
        .map(|(sent, _)| sent)
        .chain(&unacked)
        .collect();
    let mut answers = send_each(hub, &all).await;
    let mut resent = Resent::default();
    let mut ledger = ledger.lock().unwrap();
    let mut answer_for = |sent: &Sent| answers.remove(sent.client_ref()).unwrap_or(Answer::Lost);
    for (sent, id) in sample {
        match answer_for(&sent) {
            Answer::Receipt {
                id: again,
                duplicate: true,
            } if again == id => resent.acked += 1,
            answer => ledger.surprises.push(format!(
                "acked {} as {id}, resent: {answer}",
                sent.describe()
            )),
        }
    }
    for sent in unacked {
        match answer_for(&sent) {
            Answer::Receipt { id, duplicate } => {
                if duplicate {
                    resent.unacked_found += 1;
                } else {
                    resent.unacked_new += 1;
                }
                ledger.acked.push((sent, id));
            }
            answer => ledger
                .surprises
                .push(format!("unacked {}, resent: {answer}", sent.describe())),
        }
    }
    resent
}

/// Per channel, the latest acked reports (the ones a crash most threatens) and a spread of older.
fn sample_acked(acked: &[(Sent, String)]) -> Vec<(Sent, String)> {
    let mut sample = Vec::new();
    for channel in [Channel::Http, Channel::Ws] {
        let of_channel: Vec<_> = acked
            .iter()
            .filter(|(sent, _)| sent.channel == channel)
            .collect();
        let (older, latest) = of_channel.split_at(of_channel.len().saturating_sub(LATEST_RESENT));
        let step = (older.len() / OLDER_RESENT).max(1);
        sample.extend(
            older
                .iter()
                .step_by(step)
                .take(OLDER_RESENT)
                .copied()
                .cloned(),
        );
        sample.extend(latest.iter().copied().cloned());
    }
    sample
}

/// Sends each report once, HTTP ones concurrently, WebSocket ones in order on one connection.
async fn send_each(hub: &ChildHub, all: &[&Sent]) -> HashMap<String, Answer> {
    let (http, url) = (http(), format!("http://{}/api/v1/reports", hub.addr()));
    let over_http = all.iter().filter(|sent| sent.channel == Channel::Http);
    let over_http = join_all(
        over_http
            .map(|sent| async { (sent.client_ref().to_owned(), post(&http, &url, sent).await) }),
    );
    let over_ws = async {
        let mut ws = ws_connect(&format!("ws://{}/ws", hub.addr()))
            .await
            .expect("reconnect");
        let mut answers = Vec::new();
        for sent in all.iter().filter(|sent| sent.channel == Channel::Ws) {
            assert!(ws_send(&mut ws, sent).await, "resend over WebSocket");
            let (client_ref, answer) = ws_answer(&mut ws).await;
            assert_eq!(client_ref, sent.client_ref(), "{answer}");
            answers.push((client_ref, answer));
        }
        answers
    };
    let (over_http, over_ws) = tokio::join!(over_http, over_ws);
    over_http.into_iter().chain(over_ws).collect()
}

/// Every (source, device_id, client_ref) in the database with the ids stored under it.
type Stored = HashMap<(String, String, String), Vec<String>>;

/// Reads the database file directly, read-only, as an auditor would.
fn stored(data_dir: &Path) -> Stored {
    let db = data_dir.join(vedetta::DATABASE_FILE);
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    let conn = rusqlite::Connection::open_with_flags(&db, flags).expect("open the database");
    let mut query = conn
        .prepare("SELECT source, device_id, client_ref, id FROM reports")
        .expect("prepare");
    let rows = query
        .query_map([], |row| {
            Ok(((row.get(0)?, row.get(1)?, row.get(2)?), row.get(3)?))
        })
        .expect("query");
    let mut stored = Stored::new();
    for row in rows {
        let (key, id) = row.expect("a row");
        stored.entry(key).or_default().push(id);
    }
    stored
}

/// The acked reports that are not stored, or not under the id their ack gave.
fn missing(acked: &[(Sent, String)], stored: &Stored) -> Vec<String> {
    acked
        .iter()
        .filter(|(sent, id)| stored.get(&sent.key()) != Some(&vec![id.clone()]))
        .map(|(sent, id)| format!("{} as {id}", sent.describe()))
        .collect()
}

#[tokio::test]
async fn a_hub_killed_mid_intake_keeps_every_acked_report_and_stores_each_resent_one_once() {
    let started = Instant::now();
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut resent_unacked = Vec::new();
    let mut hub = ChildHub::start(data_dir.path());

    for cycle in 1..=CYCLES {
        load_then_kill(&mut hub, &ledger, cycle).await;
        // Before any restart can repair anything: every ack so far is in the file the hub left.
        let lost = missing(&ledger.lock().unwrap().acked, &stored(data_dir.path()));
        assert!(
            lost.is_empty(),
            "cycle {cycle}: acked, not on disk after the kill: {lost:?}"
        );
        hub = ChildHub::start(data_dir.path());
        let resent = resend(&hub, &ledger, &mut resent_unacked).await;
        eprintln!("cycle {cycle}: after restart resent {resent:?}");
        let surprises = ledger.lock().unwrap().surprises.join("\n");
        assert!(
            surprises.is_empty(),
            "cycle {cycle}:\n{surprises}\n{}",
            hub.log_tail()
        );
    }
    let status = hub.terminate();
    assert!(status.success(), "{status}\n{}", hub.log_tail());

    let ledger = ledger.lock().unwrap();
    let stored = stored(data_dir.path());
    let missing = missing(&ledger.acked, &stored);
    let duplicates: Vec<_> = stored.iter().filter(|(_, ids)| ids.len() > 1).collect();
    let resent_not_once = resent_unacked
        .iter()
        .filter(|sent| stored.get(&sent.key()).map(Vec::len) != Some(1))
        .count();
    eprintln!(
        "{} acked, {} resent unacked, {} rows; {} missing, {} duplicates; {:.1?}",
        ledger.acked.len(),
        resent_unacked.len(),
        stored.len(),
        missing.len(),
        duplicates.len(),
        started.elapsed()
    );
    assert!(
        missing.is_empty(),
        "acked but not stored under its id: {missing:?}"
    );
    assert!(
        duplicates.is_empty(),
        "stored more than once: {duplicates:?}"
    );
    assert_eq!(
        resent_not_once, 0,
        "resent unacked reports not stored exactly once"
    );
    assert!(
        ledger.unacked.is_empty(),
        "never acked: {:?}",
        ledger.unacked.keys()
    );
    assert_eq!(stored.len(), ledger.acked.len(), "rows no client knows of");
}
