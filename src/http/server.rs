//! The HTTP/1.1 server: accepts connections within the limits and serves the router on each,
//! with upgrades, header and request timeouts.
//!
//! hyper's connection builder is used directly (rather than `axum::serve`) so that an upgraded
//! WebSocket connection hands back its own socket, which the notice fan-out writes to.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::net::{ConnectionLimits, ConnectionSlot, Refused, ServerIo, timeout_answer};
use crate::problem::{ErrorCode, Problem};

/// After a failed accept (out of descriptors, say), wait this long before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// How long a refused connection is read (and its bytes dropped) before it is closed, so that
/// closing does not reset it before the client has read the refusal.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);
/// Seconds a refused client is told to wait.
const REFUSAL_RETRY_SECS: u64 = 5;

/// Socket and protocol settings for every accepted connection.
#[derive(Debug, Clone, Copy)]
pub struct SocketOptions {
    /// Kernel send buffer: what a client that stops reading can hold.
    pub send_buffer_bytes: usize,
    /// A connection that does not complete a request head in this time is closed (with a 408
    /// if it began one); this also ends idle keep-alive connections.
    pub header_read_timeout: Duration,
    /// Largest request head; beyond it the answer is 431.
    pub max_header_bytes: usize,
}

/// Serves `router` until `shutdown`; connections then finish their current request.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: SocketOptions,
    limits: ConnectionLimits,
    shutdown: CancellationToken,
    connections: TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!(%err, "cannot accept a connection; retrying");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        match limits.admit(peer.ip()) {
            Ok(slot) => {
                configure(&stream, options);
                let (router, shutdown) = (router.clone(), shutdown.clone());
                let served = serve_connection(stream, slot, peer, router, options, shutdown);
                connections.spawn(served);
            }
            Err(refused) => {
                connections.spawn(refuse(stream, refused));
            }
        }
    }
}

fn configure(stream: &TcpStream, options: SocketOptions) {
    // Acks and notices are small frames that must leave at once, not wait to be coalesced.
    if let Err(err) = stream.set_nodelay(true) {
        tracing::debug!(%err, "cannot set TCP_NODELAY");
    }
    if let Err(err) = socket2::SockRef::from(stream).set_send_buffer_size(options.send_buffer_bytes)
    {
        tracing::debug!(%err, "cannot bound the send buffer");
    }
}

async fn serve_connection(
    stream: TcpStream,
    slot: ConnectionSlot,
    peer: SocketAddr,
    router: Router,
    options: SocketOptions,
    shutdown: CancellationToken,
) {
    let stream = Arc::new(stream);
    let request_begun = Arc::new(AtomicBool::new(false));
    let io = ServerIo::new(stream.clone(), slot, request_begun.clone());
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let response = router.clone().oneshot(request.map(axum::body::Body::new));
        async move { Ok::<_, Infallible>(response.await.unwrap_or_else(|never| match never {})) }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .max_header_size(options.max_header_bytes)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    let served = tokio::select! {
        served = connection.as_mut() => served,
        _ = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    match served {
        Err(err) if err.is_timeout() && request_begun.load(Ordering::Relaxed) => {
            let _ = answer_and_close(&stream, &timeout_answer()).await;
        }
        Err(err) => tracing::debug!(%err, "connection ended with an error"),
        Ok(()) => {}
    }
}

/// Answers a connection over a limit with our JSON error, then closes it.
async fn refuse(stream: TcpStream, refused: Refused) {
    let (status, problem) = match refused {
        Refused::AddressFull => (
            "429 Too Many Requests",
            Problem::new(
                ErrorCode::RateLimited,
                "too many open connections from this address (http.max_connections_per_ip); close some and retry",
            ),
        ),
        Refused::Full => (
            "503 Service Unavailable",
            Problem::new(
                ErrorCode::Unavailable,
                "the hub holds as many connections as it may (http.max_connections); retry shortly",
            ),
        ),
    };
    let body = serde_json::to_string(&problem).expect("a problem serializes");
    let answer = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: {REFUSAL_RETRY_SECS}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = answer_and_close(&stream, answer.as_bytes()).await;
}

/// Writes a last answer, ends the sending side, and drops what the client still sends for a
/// moment, so the answer is read before the connection closes.
async fn answer_and_close(stream: &TcpStream, answer: &[u8]) -> io::Result<()> {
    let lingering = async {
        let mut rest = answer;
        while !rest.is_empty() {
            stream.writable().await?;
            match stream.try_write(rest) {
                Ok(written) => rest = &rest[written..],
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => return Err(err),
            }
        }
        socket2::SockRef::from(stream).shutdown(std::net::Shutdown::Write)?;
        let mut sink = [0u8; 4096];
        loop {
            stream.readable().await?;
            match stream.try_read(&mut sink) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => return Err(err),
            }
        }
    };
    tokio::time::timeout(REFUSAL_LINGER, lingering)
        .await
        .unwrap_or(Ok(()))
}
