//! Concurrent report senders over HTTP and WebSocket that keep a ledger of what the hub
//! acknowledged and what it did not, for tests that kill the hub mid-intake.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{MONTEVERDE, TIMEOUT, report};

/// Report frames a WebSocket client sends before it reads their acks.
const WS_WINDOW: usize = 4;

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Http,
    Ws,
}

impl Channel {
    pub fn source(self) -> &'static str {
        match self {
            Channel::Http => "http",
            Channel::Ws => "ws",
        }
    }
}

/// A report as its client sent it; a resend is the same body over the same channel.
#[derive(Clone)]
pub struct Sent {
    pub channel: Channel,
    pub body: Value,
}

impl Sent {
    pub fn new(channel: Channel, device: &str, client_ref: String) -> Sent {
        let mut body = report(&client_ref, MONTEVERDE);
        body["device_id"] = json!(device);
        body["text"] = json!(format!("Acqua alta in via Roma ({client_ref})"));
        Sent { channel, body }
    }

    pub fn client_ref(&self) -> &str {
        self.body["client_ref"].as_str().expect("a client_ref")
    }

    pub fn describe(&self) -> String {
        format!("{} {}", self.channel.source(), self.client_ref())
    }

    pub fn key(&self) -> (String, String, String) {
        let device = self.body["device_id"].as_str().expect("a device_id");
        let source = self.channel.source();
        (source.into(), device.into(), self.client_ref().into())
    }
}

/// What the clients know, which is all the test trusts.
#[derive(Default)]
pub struct Ledger {
    /// Acknowledged reports with their ids, in the order the acks came.
    pub acked: Vec<(Sent, String)>,
    /// Sent and not (yet) acknowledged, by client_ref.
    pub unacked: HashMap<String, Sent>,
    /// Answers no client should ever get.
    pub surprises: Vec<String>,
}

pub enum Answer {
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
pub struct Clients {
    pub ledger: Arc<Mutex<Ledger>>,
    pub acks: Arc<watch::Sender<[usize; 2]>>,
}

impl Clients {
    pub fn sending(&self, sent: &Sent) {
        let mut ledger = self.ledger.lock().unwrap();
        ledger
            .unacked
            .insert(sent.client_ref().into(), sent.clone());
    }

    pub fn answered(&self, client_ref: &str, answer: Answer) -> bool {
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

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .expect("an HTTP client")
}

pub async fn post(http: &reqwest::Client, url: &str, sent: &Sent) -> Answer {
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

pub fn receipt_answer(receipt: &Value, client_ref: &str) -> Answer {
    match (receipt["id"].as_str(), receipt["duplicate"].as_bool()) {
        (Some(id), Some(duplicate)) if receipt["client_ref"] == client_ref => Answer::Receipt {
            id: id.into(),
            duplicate,
        },
        _ => Answer::Unexpected(format!("not a receipt for {client_ref}: {receipt}")),
    }
}

/// Connects and reads the `welcome` frame.
pub async fn ws_connect(url: &str) -> Result<Ws, String> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(|err| format!("connect: {err}"))?;
    match ws_next(&mut ws).await {
        Ok(frame) if frame["type"] == "welcome" => Ok(ws),
        Ok(frame) => Err(format!("a {} frame before the welcome", frame["type"])),
        Err(answer) => Err(format!("no welcome: {answer}")),
    }
}

pub async fn ws_send(ws: &mut Ws, sent: &Sent) -> bool {
    let frame = json!({ "type": "report", "report": sent.body });
    ws.send(Message::text(frame.to_string())).await.is_ok()
}

/// The next `ack` or `error` frame, as the client_ref it names and the answer it is.
pub async fn ws_answer(ws: &mut Ws) -> (String, Answer) {
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
pub async fn ws_next(ws: &mut Ws) -> Result<Value, Answer> {
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
pub async fn http_client(clients: Clients, url: String, device: String, prefix: String) {
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
pub async fn ws_client(clients: Clients, url: String, device: String, prefix: String) {
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
