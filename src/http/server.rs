//! The HTTP/1.1 server: accepts connections and serves the router on each, with upgrades.
//!
//! hyper's connection builder is used directly (rather than `axum::serve`) so that an upgraded
//! WebSocket connection hands back its own `TcpStream`, which the notice fan-out writes to.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// After a failed accept (out of descriptors, say), wait this long before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Socket settings for every accepted connection.
#[derive(Debug, Clone, Copy)]
pub struct SocketOptions {
    /// Kernel send buffer: what a client that stops reading can hold.
    pub send_buffer_bytes: usize,
}

/// Serves `router` until `shutdown`; connections then finish their current request.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: SocketOptions,
    shutdown: CancellationToken,
    connections: TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                configure(&stream, options);
                connections.spawn(serve_connection(
                    stream,
                    peer,
                    router.clone(),
                    shutdown.clone(),
                ));
            }
            Err(err) => {
                tracing::warn!(%err, "cannot accept a connection; retrying");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
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
    peer: SocketAddr,
    router: Router,
    shutdown: CancellationToken,
) {
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let response = router.clone().oneshot(request.map(axum::body::Body::new));
        async move { Ok::<_, Infallible>(response.await.unwrap_or_else(|never| match never {})) }
    });
    let connection = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    let served = tokio::select! {
        served = connection.as_mut() => served,
        _ = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(err) = served {
        tracing::debug!(%err, "connection ended with an error");
    }
}
