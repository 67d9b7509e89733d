//! WebSocket at `/ws`: reports in, acks and errors out, and notice subscriptions.
//!
//! The upgrade is done here rather than by axum's extractor so that each session keeps its raw
//! TCP socket: the notice fan-out writes a frame encoded once straight to it (see `outlet`),
//! while tungstenite handles everything else.

mod fanout;
mod followers;
mod guard;
mod listen;
mod login;
mod outlet;
mod requests;
mod session;
mod subscription;

pub use fanout::Sessions;
pub use followers::Followers;

use axum::body::Body;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Accounts;
use crate::bus::Events;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::net::ServerIo;
use crate::notices::Notices;
use crate::problem::{ErrorCode, Problem};
use crate::reports::Intake;
use crate::triage::Triage;
use crate::zones::ZoneDirectory;

/// What a WebSocket session works with: the domain services it calls, the channel's own
/// registries, and the hub's plumbing. Built by the HTTP side of the upgrade from the `Hub`,
/// so that the channel does not depend on the bundle that holds it.
#[derive(Clone)]
pub struct WsServices {
    pub config: Arc<Config>,
    pub intake: Intake,
    pub accounts: Accounts,
    pub notices: Notices,
    pub triage: Triage,
    pub zones: ZoneDirectory,
    /// Sessions subscribed to notices, served by one fan-out task.
    pub sessions: Sessions,
    /// Sessions following reports, each sent only its own reporter updates.
    pub followers: Followers,
    pub events: Events,
    pub metrics: Arc<Metrics>,
    pub clock: SharedClock,
    pub shutdown: CancellationToken,
    pub tasks: TaskTracker,
}

/// Messages above the configured body limit get an error frame; only beyond twice that does the
/// WebSocket layer itself close the connection (code 1009), since it cannot buffer them.
const HARD_LIMIT_FACTOR: usize = 2;
/// Read buffer per connection. tungstenite allocates it up front and zero-fills it on reads;
/// its 128 KiB default would cost CPU on every frame and memory on every idle session. 512 B
/// holds a report without a photo in one read; a larger message still arrives whole (the
/// buffer grows to fit it), in reads of this size.
const READ_BUFFER_BYTES: usize = 512;

/// Checks a WebSocket upgrade request and, once the client has switched, runs its session.
/// The answer is the `101 Switching Protocols` to send, or the problem to refuse it with.
pub fn accept(
    services: WsServices,
    peer: Option<SocketAddr>,
    request: &mut Request,
) -> Result<Response, Problem> {
    if services.shutdown.is_cancelled() {
        return Err(Problem::new(
            ErrorCode::Unavailable,
            "the hub is shutting down; reconnect shortly",
        ));
    }
    let key = websocket_key(request.headers())?;
    let upgrading = hyper::upgrade::on(request);
    let tasks = services.tasks.clone();
    // One pointer in the session's task instead of the services laid out at every step.
    let services = Arc::new(services);
    tasks.spawn(async move {
        let upgraded = match upgrading.await {
            Ok(upgraded) => upgraded,
            Err(err) => return tracing::debug!(%err, "websocket upgrade failed"),
        };
        match upgraded.downcast::<TokioIo<ServerIo>>() {
            Ok(parts) => {
                let (stream, slot) = parts.io.into_inner().into_parts();
                let connection = session::Connection { stream, slot, peer };
                session::run(connection, parts.read_buf, services).await;
            }
            Err(_) => tracing::error!("the websocket connection is not the server's; closing it"),
        }
    });
    Ok(switching_protocols(&key))
}

pub(super) fn websocket_config(services: &WsServices) -> WebSocketConfig {
    let hard_limit = services.config.intake.max_body_bytes * HARD_LIMIT_FACTOR;
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(Some(hard_limit))
        .max_frame_size(Some(hard_limit))
}

/// The client's `Sec-WebSocket-Key`, after checking that this is a WebSocket upgrade.
fn websocket_key(headers: &HeaderMap) -> Result<String, Problem> {
    let has = |name: header::HeaderName, token: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|part| part.trim().eq_ignore_ascii_case(token))
    };
    let refuse = |what: &str| {
        Err(Problem::new(
            ErrorCode::UpgradeRequired,
            format!("/ws speaks WebSocket (RFC 6455) only: {what}"),
        ))
    };
    if !has(header::CONNECTION, "upgrade") || !has(header::UPGRADE, "websocket") {
        return refuse("send Connection: Upgrade and Upgrade: websocket");
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .and_then(|v| v.to_str().ok())
        != Some("13")
    {
        return refuse("only version 13 is supported");
    }
    match headers
        .get(header::SEC_WEBSOCKET_KEY)
        .and_then(|v| v.to_str().ok())
    {
        Some(key) if !key.is_empty() => Ok(key.to_owned()),
        _ => refuse("Sec-WebSocket-Key is missing"),
    }
}

fn switching_protocols(key: &str) -> Response {
    let accept = derive_accept_key(key.as_bytes());
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(
        header::SEC_WEBSOCKET_ACCEPT,
        HeaderValue::from_str(&accept).expect("base64 is a valid header value"),
    );
    response
}
