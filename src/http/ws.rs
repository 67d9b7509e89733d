//! `/ws`: the HTTP side of the WebSocket upgrade; the sessions themselves are `channels::ws`.

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::PeerAddr;
use crate::channels::ws::{self, WsServices};
use crate::hub::Hub;

/// Switches the connection to WebSocket, or refuses in our JSON error.
pub(crate) async fn upgrade(
    State(hub): State<Hub>,
    PeerAddr(peer): PeerAddr,
    mut request: Request,
) -> Response {
    match ws::accept(services_of(&hub), peer, &mut request) {
        Ok(switching) => switching,
        Err(problem) => ApiError(problem).into_response(),
    }
}

/// What a session needs of the hub.
fn services_of(hub: &Hub) -> WsServices {
    WsServices {
        config: hub.config.clone(),
        intake: hub.intake.clone(),
        accounts: hub.accounts.clone(),
        notices: hub.notices.clone(),
        triage: hub.triage.clone(),
        zones: hub.zones.clone(),
        sessions: hub.sessions.clone(),
        followers: hub.followers.clone(),
        events: hub.events.clone(),
        metrics: hub.metrics.clone(),
        clock: hub.clock.clone(),
        shutdown: hub.shutdown.clone(),
        tasks: hub.tasks.clone(),
    }
}
