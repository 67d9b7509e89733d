//! The notice subscribers: child processes (this binary with `--mqtt-subscribers`) each holding
//! thousands of raw MQTT 3.1.1 connections (rumqttc's v4 codec over a tokio `TcpStream`, no
//! event loop per connection), subscribed at QoS 1 to a zone's notices. For each round a child
//! reports when the last of its connections received a live message.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rumqttc::QoS;
use rumqttc::mqttbytes::v4::{Codec, Connect, Packet, PubAck, Subscribe};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::codec::Framed;

use crate::now_ns;

const FLAG: &str = "--mqtt-subscribers";
pub const PROCESSES: usize = 2;
/// Connections opened at once per process: both together stay within mosquitto's listen
/// backlog of 100.
const CONNECT_CONCURRENCY: usize = 32;
/// A round in which some subscriber got nothing for this long has lost a message.
const ROUND_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_PACKET: usize = 1 << 20;

pub struct ChildArgs {
    port: u16,
    count: usize,
    filter: String,
}

pub fn invoked_as_child() -> Option<ChildArgs> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|arg| arg == FLAG)?;
    Some(ChildArgs {
        port: args[at + 1].parse().unwrap(),
        count: args[at + 2].parse().unwrap(),
        filter: args[at + 3].clone(),
    })
}

/// The child processes of one run.
pub struct Subscribers {
    children: Vec<(Child, BufReader<ChildStdout>)>,
}

impl Subscribers {
    /// Starts the processes and waits until every connection is subscribed.
    pub fn spawn(port: u16, total: usize, filter: &str) -> Subscribers {
        let exe = std::env::current_exe().unwrap();
        let per_process = (total / PROCESSES).to_string();
        let children = (0..PROCESSES)
            .map(|_| {
                let mut child = Command::new(&exe)
                    .args([FLAG, &port.to_string(), &per_process, filter])
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap();
                let stdout = BufReader::new(child.stdout.take().unwrap());
                (child, stdout)
            })
            .collect();
        let mut subscribers = Subscribers { children };
        for line in subscribers.lines() {
            assert_eq!(line, "ready");
        }
        subscribers
    }

    fn lines(&mut self) -> Vec<String> {
        self.children
            .iter_mut()
            .map(|(_, stdout)| {
                let mut line = String::new();
                stdout.read_line(&mut line).unwrap();
                assert!(!line.is_empty(), "a subscriber process ended");
                line.trim().to_owned()
            })
            .collect()
    }

    /// Waits for one round; returns when the last subscriber got its message (ns since epoch).
    pub fn round(&mut self) -> u128 {
        self.lines()
            .iter()
            .map(|line| {
                let done = line.strip_prefix("done ");
                done.unwrap_or_else(|| panic!("subscribers: {line}"))
                    .parse::<u128>()
                    .unwrap()
            })
            .max()
            .unwrap()
    }
}

impl Drop for Subscribers {
    fn drop(&mut self) {
        for (child, _) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn run_child(args: ChildArgs) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let (receipts_tx, mut receipts_rx) = mpsc::unbounded_channel();
        let pid = std::process::id();
        let connections = futures_util::stream::iter(0..args.count)
            .map(|n| subscribe(args.port, format!("bench-sub-{pid}-{n}"), &args.filter))
            .buffer_unordered(CONNECT_CONCURRENCY)
            .collect::<Vec<_>>()
            .await;
        for connection in connections {
            tokio::spawn(listen(connection, receipts_tx.clone()));
        }
        println!("ready");
        std::io::stdout().flush().unwrap();
        loop {
            let mut last = 0;
            for received in 0..args.count {
                match tokio::time::timeout(ROUND_TIMEOUT, receipts_rx.recv()).await {
                    Ok(Some(at)) => last = last.max(at),
                    _ => {
                        println!("lost: only {received} of {} received", args.count);
                        std::process::exit(1);
                    }
                }
            }
            println!("done {last}");
            std::io::stdout().flush().unwrap();
        }
    });
}

type Connection = Framed<TcpStream, Codec>;

/// Connects (clean session, no keep-alive) and subscribes at QoS 1; returns after the SUBACK.
async fn subscribe(port: u16, client_id: String, filter: &str) -> Connection {
    let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let codec = Codec {
        max_incoming_size: MAX_PACKET,
        max_outgoing_size: MAX_PACKET,
    };
    let mut connection = Framed::new(stream, codec);
    let mut connect = Connect::new(client_id);
    connect.keep_alive = 0;
    connection.send(Packet::Connect(connect)).await.unwrap();
    let connack = connection.next().await.unwrap().unwrap();
    assert!(matches!(connack, Packet::ConnAck(_)), "{connack:?}");
    let mut request = Subscribe::new(filter, QoS::AtLeastOnce);
    request.pkid = 1;
    connection.send(Packet::Subscribe(request)).await.unwrap();
    let suback = connection.next().await.unwrap().unwrap();
    assert!(matches!(suback, Packet::SubAck(_)), "{suback:?}");
    connection
}

/// Acknowledges every message and reports the arrival of each live one (retained messages
/// sent on subscribing, and empty ones that clear a topic, are not a round's).
async fn listen(mut connection: Connection, receipts_tx: mpsc::UnboundedSender<u128>) {
    while let Some(Ok(packet)) = connection.next().await {
        let Packet::Publish(publish) = packet else {
            continue;
        };
        let at = now_ns();
        if publish.qos == QoS::AtLeastOnce
            && connection
                .send(Packet::PubAck(PubAck::new(publish.pkid)))
                .await
                .is_err()
        {
            return;
        }
        if !publish.retain && !publish.payload.is_empty() && receipts_tx.send(at).is_err() {
            return;
        }
    }
}
