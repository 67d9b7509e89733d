//! A raw TCP client for what real HTTP clients refuse to send: broken heads, lies about the
//! body, silence. It reads answers as bytes.

use std::net::SocketAddr;

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use super::TIMEOUT;

/// An answer as it came off the wire.
#[derive(Debug)]
pub struct RawAnswer {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl RawAnswer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("a JSON body: {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// Connects to `addr` from `source` (one of the loopback's addresses).
pub async fn connect_from(addr: SocketAddr, source: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    socket.connect(addr).await.expect("connects")
}

/// Sends `bytes` and reads one answer (its head, and as much body as it declares).
pub async fn exchange(stream: &mut TcpStream, bytes: &[u8]) -> RawAnswer {
    stream.write_all(bytes).await.expect("send");
    read_answer(stream).await
}

/// Reads one answer, waiting at most `TIMEOUT`.
pub async fn read_answer(stream: &mut TcpStream) -> RawAnswer {
    read_answer_from(stream).await
}

/// Reads one answer from any byte stream (the read half of a split connection, say).
pub async fn read_answer_from(stream: &mut (impl AsyncRead + Unpin)) -> RawAnswer {
    tokio::time::timeout(TIMEOUT, read_answer_now(stream))
        .await
        .expect("an answer within the timeout")
}

async fn read_answer_now(stream: &mut (impl AsyncRead + Unpin)) -> RawAnswer {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 8192];
    let end_of_head = loop {
        if let Some(at) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let read = stream.read(&mut chunk).await.expect("read");
        assert!(
            read > 0,
            "closed before an answer: {:?}",
            String::from_utf8_lossy(&bytes)
        );
        bytes.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&bytes[..end_of_head]).into_owned();
    let status = head[9..12].parse().expect("a status code");
    let mut answer = RawAnswer {
        status,
        head,
        body: bytes[end_of_head..].to_vec(),
    };
    let length: usize = answer
        .header("content-length")
        .map_or(0, |value| value.parse().unwrap());
    while answer.body.len() < length {
        let read = stream.read(&mut chunk).await.expect("read");
        assert!(read > 0, "closed in the middle of the body");
        answer.body.extend_from_slice(&chunk[..read]);
    }
    answer
}

/// Waits until the hub closes the connection (reading and dropping anything it still sends).
pub async fn closed_by_hub(stream: &mut TcpStream) {
    let mut chunk = [0u8; 8192];
    let closing = async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(TIMEOUT, closing)
        .await
        .expect("the hub closes the connection within the timeout");
}
