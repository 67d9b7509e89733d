//! `/ws`: the HTTP side of the WebSocket upgrade; the sessions themselves are `channels::ws`.

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::PeerAddr;
use crate::hub::Hub;

/// Switches the connection to WebSocket, or refuses in our JSON error.
pub(crate) async fn upgrade(
    State(hub): State<Hub>,
    PeerAddr(peer): PeerAddr,
    mut request: Request,
) -> Response {
    match crate::channels::ws::accept(hub, peer, &mut request) {
        Ok(switching) => switching,
        Err(problem) => ApiError(problem).into_response(),
    }
}
