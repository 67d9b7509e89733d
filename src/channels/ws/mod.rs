//! WebSocket at `/ws`: clients send `report` frames and get `ack` or `error` frames back.

mod session;
mod subscription;

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::{IntoResponse, Response};

use crate::http::{ApiError, PeerAddr};
use crate::hub::Hub;
use crate::problem::{ErrorCode, Problem};

/// Messages above the configured body limit get an error frame; only beyond twice that does the
/// WebSocket layer itself close the connection (code 1009), since it cannot buffer them.
const HARD_LIMIT_FACTOR: usize = 2;
/// Read buffer per connection. tungstenite allocates it up front and zero-fills it on every
/// read; its 128 KiB default costs CPU on every frame and memory on every idle session. Frames
/// larger than this still arrive whole: the buffer grows to fit them.
const READ_BUFFER_BYTES: usize = 4 * 1024;

pub async fn upgrade(
    State(hub): State<Hub>,
    PeerAddr(peer): PeerAddr,
    ws: WebSocketUpgrade,
) -> Response {
    if hub.shutdown.is_cancelled() {
        return ApiError(Problem::new(
            ErrorCode::Unavailable,
            "the hub is shutting down; reconnect shortly",
        ))
        .into_response();
    }
    let hard_limit = hub.config.intake.max_body_bytes * HARD_LIMIT_FACTOR;
    let tasks = hub.tasks.clone();
    ws.read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(hard_limit)
        .max_frame_size(hard_limit)
        .on_upgrade(move |socket| tasks.track_future(session::run(socket, hub, peer)))
}
