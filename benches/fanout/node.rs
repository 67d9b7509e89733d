//! The peer: Node's `ws` 8.x (benches/fanout/node/broadcast.js) sending the same frame.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::client::Clients;
use crate::{ROUNDS, SUBSCRIBERS, WARMUP_ROUNDS, now_ns};

pub fn measure(frame: &str) -> Result<Vec<Duration>, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/fanout/node");
    Command::new("node")
        .arg("--version")
        .output()
        .map_err(|_| "node is not installed".to_owned())?;
    if !dir.join("node_modules/ws").exists() {
        let installed = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status();
        if !installed.is_ok_and(|status| status.success()) {
            return Err("npm ci failed in benches/fanout/node".into());
        }
    }
    let frame_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(frame_file.path(), frame).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new("node")
        .arg(dir.join("broadcast.js"))
        .arg(port.to_string())
        .arg(frame_file.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|err| err.to_string())?;
    let mut ready = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "listening");
    let mut trigger = server.stdin.take().unwrap();
    let mut clients = Clients::spawn(&format!("ws://127.0.0.1:{port}/"), SUBSCRIBERS, false);
    let mut latencies = Vec::new();
    for round in 0..WARMUP_ROUNDS + ROUNDS {
        let sent = now_ns();
        trigger.write_all(b"go\n").unwrap();
        trigger.flush().unwrap();
        let last_receipt = clients.round();
        if round >= WARMUP_ROUNDS {
            latencies.push(Duration::from_nanos((last_receipt - sent) as u64));
        }
    }
    drop(clients);
    let _ = server.kill();
    let _ = server.wait();
    Ok(latencies)
}
