//! Killed with SIGKILL mid-intake, the hub loses no acknowledged report and stores a resent one once.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::support::child::ChildHub;
use crate::support::{MONTEVERDE, TIMEOUT, report};

/// Kill and restart cycles.
const CYCLES: usize = 3;
/// Reports acknowledged in a cycle before the kill, over both channels...
const ACKED_BEFORE_KILL: usize = 300;
/// ...and at least this many over each.
const ACKED_PER_CHANNEL: usize = 50;
const HTTP_CLIENTS: usize = 8;
const WS_CLIENTS: usize = 4;
/// Report frames a WebSocket client sends before it reads their acks.
const WS_WINDOW: usize = 4;
/// Acked reports resent after each restart, per channel: the latest ones and a spread of older.
const LATEST_RESENT: usize = 8;
const OLDER_RESENT: usize = 8;
/// How long a cycle may take to reach `ACKED_BEFORE_KILL` in a debug build on a busy machine.
const LOAD_TIMEOUT: Duration = Duration::from_secs(30);

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Channel {
    Http,
    Ws,
}

impl Channel {
    fn source(self) -> &'static str {
        match self {
            Channel::Http => "http",
            Channel::Ws => "ws",
        }
    }
}

/// A report as its client sent it; a resend is the same body over the same channel.
#[derive(Clone)]
struct Sent {
    channel: Channel,
    body: Value,
}

impl Sent {
    fn new(channel: Channel, device: &str, client_ref: String) -> Sent {
        let mut body = report(&client_ref, MONTEVERDE);
        body["device_id"] = json!(device);
        body["text"] = json!(format!("Acqua alta in via Roma ({client_ref})"));
        Sent { channel, body }
    }

    fn client_ref(&self) -> &str {
        self.body["client_ref"].as_str().expect("a client_ref")
    }

    fn describe(&self) -> String {
        format!("{} {}", self.channel.source(), self.client_ref())
    }

    fn key(&self) -> (String, String, String) {
        let device = self.body["device_id"].as_str().expect("a device_id");
        let source = self.channel.source();
        (source.into(), device.into(), self.client_ref().into())
    }
}

/// What the clients know, which is all the test trusts.
#[derive(Default)]
struct Ledger {
    /// Acknowledged reports with their ids, in the order the acks came.
    acked: Vec<(Sent, String)>,
    /// Sent and not (yet) acknowledged, by client_ref.
    unacked: HashMap<String, Sent>,
    /// Answers no client should ever get.
    surprises: Vec<String>,
}

enum Answer {
    /// A receipt: the report is on disk.
    Receipt {
        id: String,
        duplicate: bool,
    },
    /// No answer: the connection died with the hub.
    Lost,
    Unexpected(String),
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Receipt { id, duplicate } => write!(f, "receipt {id} (duplicate: {duplicate})"),
            Answer::Lost => write!(f, "no answer"),
            Answer::Unexpected(what) => write!(f, "unexpected: {what}"),
        }
    }
}

/// The clients of one cycle: the ledger they share and the acks they count, per channel.
#[derive(Clone)]
struct Clients {
    ledger: Arc<Mutex<Ledger>>,
    acks: Arc<watch::Sender<[usize; 2]>>,
}

impl Clients {
    fn sending(&self, sent: &Sent) {
        let mut ledger = self.ledger.lock().unwrap();
        ledger
            .unacked
            .insert(sent.client_ref().into(), sent.clone());
    }

    fn answered(&self, client_ref: &str, answer: Answer) -> bool {
        let mut ledger = self.ledger.lock().unwrap();
        if matches!(answer, Answer::Lost) {
            // Stays unacked, to be resent after the restart.
            return false;
        }
        match (answer, ledger.unacked.remove(client_ref)) {
            (Answer::Receipt { id, duplicate }, Some(sent)) if !duplicate => {
                let channel = sent.channel as usize;
                ledger.acked.push((sent, id));
                self.acks.send_modify(|acks| acks[channel] += 1);
                true
            }
            (answer, sent) => {
                let awaited = sent.is_some();
                let what = format!("{client_ref} (awaited: {awaited}) was answered {answer}");
                ledger.surprises.push(what);
                false
            }
        }
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .expect("an HTTP client")
}

async fn post(http: &reqwest::Client, url: &str, sent: &Sent) -> Answer {
    let response = match http.post(url).json(&sent.body).send().await {
        Ok(response) => response,
        Err(err) if err.is_timeout() => return Answer::Unexpected(format!("timed out: {err}")),
        Err(_) => return Answer::Lost,
    };
    let status = response.status().as_u16();
    let Ok(text) = response.text().await else {
        return Answer::Lost;
    };
    let receipt: Value = serde_json::from_str(&text).unwrap_or_default();
    match receipt_answer(&receipt, sent.client_ref()) {
        Answer::Receipt { duplicate, .. } if (status == 200) != duplicate || status > 201 => {
            Answer::Unexpected(format!("HTTP {status}: {text}"))
        }
        Answer::Unexpected(_) => Answer::Unexpected(format!("HTTP {status}: {text}")),
        answer => answer,
    }
}

fn receipt_answer(receipt: &Value, client_ref: &str) -> Answer {
    match (receipt["id"].as_str(), receipt["duplicate"].as_bool()) {
        (Some(id), Some(duplicate)) if receipt["client_ref"] == client_ref => Answer::Receipt {
            id: id.into(),
            duplicate,
        },
        _ => Answer::Unexpected(format!("not a receipt for {client_ref}: {receipt}")),
    }
}

/// Connects and reads the `welcome` frame.
async fn ws_connect(url: &str) -> Result<Ws, String> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(|err| format!("connect: {err}"))?;
    match ws_next(&mut ws).await {
        Ok(frame) if frame["type"] == "welcome" => Ok(ws),
        Ok(frame) => Err(format!("a {} frame before the welcome", frame["type"])),
        Err(answer) => Err(format!("no welcome: {answer}")),
    }
}

async fn ws_send(ws: &mut Ws, sent: &Sent) -> bool {
    let frame = json!({ "type": "report", "report": sent.body });
    ws.send(Message::text(frame.to_string())).await.is_ok()
}

/// The next `ack` or `error` frame, as the client_ref it names and the answer it is.
async fn ws_answer(ws: &mut Ws) -> (String, Answer) {
    loop {
        let frame = match ws_next(ws).await {
            Ok(frame) => frame,
            Err(answer) => return (String::new(), answer),
        };
        let client_ref = frame["client_ref"].as_str().unwrap_or_default().to_owned();
        match frame["type"].as_str() {
            Some("ack") => {
                let answer = receipt_answer(&frame["report"], &client_ref);
                return (client_ref, answer);
            }
            Some("error") => return (client_ref, Answer::Unexpected(frame.to_string())),
            _ => continue,
        }
    }
}

/// The next text frame as JSON, or why there is none.
async fn ws_next(ws: &mut Ws) -> Result<Value, Answer> {
    loop {
        match tokio::time::timeout(TIMEOUT, ws.next()).await {
            Err(_) => return Err(Answer::Unexpected("no frame in time".into())),
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return Err(Answer::Lost),
            Ok(Some(Ok(Message::Text(text)))) => {
                return serde_json::from_str(&text)
                    .map_err(|_| Answer::Unexpected(format!("not JSON: {}", text.as_str())));
            }
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// Posts new reports one after the other until the hub dies.
async fn http_client(clients: Clients, url: String, device: String, prefix: String) {
    let http = http();
    for n in 0.. {
        let sent = Sent::new(Channel::Http, &device, format!("{prefix}-{n}"));
        clients.sending(&sent);
        if !clients.answered(sent.client_ref(), post(&http, &url, &sent).await) {
            return;
        }
    }
}

/// Sends report frames `WS_WINDOW` at a time, then reads their acks, until the hub dies.
async fn ws_client(clients: Clients, url: String, device: String, prefix: String) {
    let mut ws = match ws_connect(&url).await {
        Ok(ws) => ws,
        Err(err) => return clients.ledger.lock().unwrap().surprises.push(err),
    };
    for batch in 0.. {
        for n in 0..WS_WINDOW {
            let sent = Sent::new(Channel::Ws, &device, format!("{prefix}-{batch}-{n}"));
            clients.sending(&sent);
            if !ws_send(&mut ws, &sent).await {
                return;
            }
        }
        for _ in 0..WS_WINDOW {
            let (client_ref, answer) = ws_answer(&mut ws).await;
            if !clients.answered(&client_ref, answer) {
                return;
            }
        }
    }
}

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
    let db = data_dir.join(vedetta::store::DATABASE_FILE);
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
