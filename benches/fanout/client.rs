//! The subscribers: a child process holding thousands of WebSocket connections, reporting for
//! each round when the last of them received the frame.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::{CLIENT_PROCESSES, now_ns};

const FLAG: &str = "--fanout-client";
/// Connections opened at once, so the server's listen backlog never overflows.
const CONNECT_CONCURRENCY: usize = 64;

pub struct ClientArgs {
    url: String,
    count: usize,
    subscribe: bool,
}

pub fn invoked_as_client() -> Option<ClientArgs> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|arg| arg == FLAG)?;
    Some(ClientArgs {
        url: args[at + 1].clone(),
        count: args[at + 2].parse().unwrap(),
        subscribe: args[at + 3] == "subscribe",
    })
}

/// The client processes of one peer.
pub struct Clients {
    children: Vec<(Child, BufReader<ChildStdout>)>,
}

impl Clients {
    /// Starts the processes and waits until every connection is open (and subscribed).
    pub fn spawn(url: &str, total: usize, subscribe: bool) -> Clients {
        let exe = std::env::current_exe().unwrap();
        let mode = if subscribe { "subscribe" } else { "plain" };
        let children = (0..CLIENT_PROCESSES)
            .map(|_| {
                let mut child = Command::new(&exe)
                    .args([FLAG, url, &(total / CLIENT_PROCESSES).to_string(), mode])
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap();
                let stdout = BufReader::new(child.stdout.take().unwrap());
                (child, stdout)
            })
            .collect();
        let mut clients = Clients { children };
        for line in clients.lines() {
            assert_eq!(line, "ready");
        }
        clients
    }

    fn lines(&mut self) -> Vec<String> {
        self.children
            .iter_mut()
            .map(|(_, stdout)| {
                let mut line = String::new();
                stdout.read_line(&mut line).unwrap();
                assert!(!line.is_empty(), "a client process ended");
                line.trim().to_owned()
            })
            .collect()
    }

    /// Waits for one round and returns when the last subscriber got the frame (ns).
    pub fn round(&mut self) -> u128 {
        self.lines()
            .iter()
            .map(|line| line.strip_prefix("done ").unwrap().parse::<u128>().unwrap())
            .max()
            .unwrap()
    }
}

impl Drop for Clients {
    fn drop(&mut self) {
        for (child, _) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn run(args: ClientArgs) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let (receipts_tx, mut receipts_rx) = mpsc::unbounded_channel();
        let url = args.url.clone();
        let connections = futures_util::stream::iter(0..args.count)
            .map(|_| connect(url.clone(), args.subscribe))
            .buffer_unordered(CONNECT_CONCURRENCY)
            .collect::<Vec<_>>()
            .await;
        for socket in connections {
            tokio::spawn(listen(socket, receipts_tx.clone()));
        }
        println!("ready");
        std::io::stdout().flush().unwrap();
        loop {
            let mut last = 0;
            for _ in 0..args.count {
                last = last.max(receipts_rx.recv().await.unwrap());
            }
            println!("done {last}");
            std::io::stdout().flush().unwrap();
        }
    });
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: String, subscribe: bool) -> Socket {
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (mut socket, _) = tokio_tungstenite::connect_async_with_config(&url, Some(config), true)
        .await
        .unwrap();
    if subscribe {
        socket.next().await.unwrap().unwrap(); // welcome
        socket
            .send(Message::text(
                r#"{"type":"subscribe","zones":["demo-001"]}"#,
            ))
            .await
            .unwrap();
        loop {
            let frame = socket.next().await.unwrap().unwrap();
            if frame.to_text().unwrap().contains("\"subscribed\"") {
                break;
            }
        }
    }
    socket
}

/// Records the arrival time of every text frame.
async fn listen(mut socket: Socket, receipts_tx: mpsc::UnboundedSender<u128>) {
    while let Some(Ok(message)) = socket.next().await {
        if message.is_text() && receipts_tx.send(now_ns()).is_err() {
            return;
        }
    }
}
