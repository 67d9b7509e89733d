//! The floor: one thread writing an already encoded frame to every socket with blocking writes.
//! No framework, no tasks, no per-connection encoding: nothing a server could skip.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use crate::client::Clients;
use crate::{ROUNDS, SUBSCRIBERS, WARMUP_ROUNDS, now_ns};

pub struct FloorRun {
    pub latencies: Vec<Duration>,
    pub cpu_per_round: f64,
}

pub fn measure(frame: &str) -> FloorRun {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let accepting = std::thread::spawn(move || {
        (0..SUBSCRIBERS)
            .map(|_| accept(&listener))
            .collect::<Vec<TcpStream>>()
    });
    let mut clients = Clients::spawn(&url, SUBSCRIBERS, false);
    let mut sockets = accepting.join().unwrap();
    let encoded = encode(frame);
    let mut latencies = Vec::new();
    let cpu_start = crate::cpu_ms();
    for round in 0..WARMUP_ROUNDS + ROUNDS {
        let sent = now_ns();
        for socket in &mut sockets {
            socket.write_all(&encoded).unwrap();
        }
        let last_receipt = clients.round();
        if round >= WARMUP_ROUNDS {
            latencies.push(Duration::from_nanos((last_receipt - sent) as u64));
        }
    }
    let cpu_per_round = (crate::cpu_ms() - cpu_start) / (WARMUP_ROUNDS + ROUNDS) as f64;
    FloorRun {
        latencies,
        cpu_per_round,
    }
}

/// Completes the WebSocket handshake, then keeps only the raw socket.
fn accept(listener: &TcpListener) -> TcpStream {
    let (stream, _) = listener.accept().unwrap();
    stream.set_nodelay(true).unwrap();
    let raw = stream.try_clone().unwrap();
    tokio_tungstenite::tungstenite::accept(stream).unwrap();
    raw
}

/// A final, unmasked text frame (RFC 6455 section 5.2), as a server sends it.
fn encode(text: &str) -> Vec<u8> {
    let payload = text.as_bytes();
    let mut frame = vec![0x81];
    match payload.len() {
        len if len < 126 => frame.push(len as u8),
        len if len < 65_536 => {
            frame.push(126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            frame.push(127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(payload);
    frame
}
