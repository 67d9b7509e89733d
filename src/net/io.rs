//! A connection's socket as hyper sees it. It holds the connection's slot in the limits, notes
//! whether a request has begun arriving (so a timeout can be answered), and turns the few
//! answers hyper writes on its own (400, 414, 431 and 505 after a request it could not parse,
//! always without a body) into our JSON error.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::limits::ConnectionSlot;
use crate::problem::{ErrorCode, Problem};

pub struct ServerIo {
    stream: Arc<TcpStream>,
    slot: ConnectionSlot,
    /// Bytes arrived since the hub last wrote: a request is (partly) in.
    request_begun: Arc<AtomicBool>,
    /// What is left to write of a rewritten answer.
    pending: Vec<u8>,
}

impl ServerIo {
    pub fn new(
        stream: Arc<TcpStream>,
        slot: ConnectionSlot,
        request_begun: Arc<AtomicBool>,
    ) -> ServerIo {
        ServerIo {
            stream,
            slot,
            request_begun,
            pending: Vec::new(),
        }
    }

    /// The socket and its slot, for a connection that leaves HTTP (a WebSocket upgrade).
    pub fn into_parts(self) -> (Arc<TcpStream>, ConnectionSlot) {
        (self.stream, self.slot)
    }

    /// Writes what is left of a rewritten answer.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            ready!(self.stream.poll_write_ready(cx))?;
            match self.stream.try_write(&self.pending) {
                Ok(written) => {
                    self.pending.drain(..written);
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for ServerIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.stream.poll_read_ready(cx))?;
            match self.stream.try_read(buf.initialize_unfilled()) {
                Ok(read) => {
                    if read > 0 {
                        self.request_begun.store(true, Ordering::Relaxed);
                    }
                    buf.advance(read);
                    return Poll::Ready(Ok(()));
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
    }
}

impl AsyncWrite for ServerIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        self.request_begun.store(false, Ordering::Relaxed);
        if let Some(answer) = json_answer_for(buf) {
            self.pending = answer;
            let _ = self.poll_pending(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        loop {
            ready!(self.stream.poll_write_ready(cx))?;
            match self.stream.try_write(buf) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                written => return Poll::Ready(written),
            }
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_pending(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Poll::Ready(socket2::SockRef::from(&*self.stream).shutdown(std::net::Shutdown::Write))
    }
}

/// hyper's own answers to requests it could not parse, and what each means to a sender.
const HYPER_ANSWERS: [(&[u8], ErrorCode, &str); 4] = [
    (
        b"HTTP/1.1 400 ",
        ErrorCode::MalformedRequest,
        "the request is not valid HTTP/1.1: check the request line, the headers and the percent-encoding of the path",
    ),
    (
        b"HTTP/1.1 414 ",
        ErrorCode::UriTooLong,
        "the address (path and query) is too long; send long data in the body",
    ),
    (
        b"HTTP/1.1 431 ",
        ErrorCode::HeadersTooLarge,
        "the request headers are over the hub's limit (http.max_header_bytes); send fewer or smaller headers and cookies",
    ),
    (
        b"HTTP/1.1 505 ",
        ErrorCode::MalformedRequest,
        "this hub speaks HTTP/1.1 (and 1.0) only",
    ),
];

/// The same answer with our JSON error as its body, if `head` is one of hyper's own.
/// Handlers never answer an error without a body (see `http::refusals`), so a bodiless 400, 414,
/// 431 or 505 head can only be hyper's.
fn json_answer_for(head: &[u8]) -> Option<Vec<u8>> {
    const EMPTY: &[u8] = b"\r\ncontent-length: 0\r\n";
    const CLOSE: &[u8] = b"\r\nconnection: close\r\n";
    if !head.ends_with(b"\r\n\r\n") {
        return None;
    }
    let (_, code, message) = HYPER_ANSWERS
        .iter()
        .find(|(status, _, _)| head.starts_with(status))?;
    let at = head
        .windows(EMPTY.len())
        .position(|window| window == EMPTY)?;
    let body = serde_json::to_vec(&Problem::new(*code, *message)).expect("a problem serializes");
    // hyper says it itself when it will close (after a 400, say); once is enough.
    let closing = match head.windows(CLOSE.len()).any(|window| window == CLOSE) {
        true => "",
        false => "connection: close\r\n",
    };
    let mut answer = head[..at].to_vec();
    answer.extend_from_slice(
        format!(
            "\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{closing}",
            body.len()
        )
        .as_bytes(),
    );
    answer.extend_from_slice(&head[at + EMPTY.len()..]);
    answer.extend_from_slice(&body);
    Some(answer)
}

/// The answer to a request whose head did not arrive in time, written by the server loop
/// after hyper gave up on the connection.
pub fn timeout_answer() -> Vec<u8> {
    let body = serde_json::to_vec(&Problem::new(
        ErrorCode::Timeout,
        "the request did not arrive in time (http.header_read_timeout_secs); send it again, whole",
    ))
    .expect("a problem serializes");
    let mut answer = format!(
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_400_that_hyper_already_closes_says_connection_close_once() {
        let head = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: Sat, 28 Nov 2026 10:00:00 GMT\r\n\r\n";

        let answer = String::from_utf8(json_answer_for(head).unwrap()).unwrap();

        assert_eq!(answer.matches("connection: close").count(), 1, "{answer}");
    }

    #[test]
    fn a_bodiless_431_from_hyper_becomes_a_json_error_with_the_same_status() {
        let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Sat, 28 Nov 2026 10:00:00 GMT\r\n\r\n";

        let answer = String::from_utf8(json_answer_for(head).unwrap()).unwrap();

        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 "));
        assert!(head.contains("content-type: application/json"));
        assert!(head.contains("date: Sat"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let problem: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(problem["error"], "headers_too_large");
    }

    #[test]
    fn answers_with_a_body_or_other_statuses_pass_untouched() {
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 20\r\n\r\n";
        let fine = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";

        assert!(json_answer_for(ours).is_none());
        assert!(json_answer_for(fine).is_none());
    }
}
