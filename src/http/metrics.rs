//! `/metrics`: the hub's counters in the Prometheus text format (OpenMetrics), for staff on
//! the main listener, and for a Prometheus that cannot log in on `metrics.listen`.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::error::ApiError;
use crate::auth::{Action, Staff};
use crate::channels::mqtt::BrokerState;
use crate::hub::Hub;
use crate::metrics::MqttCounts;

const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `GET /metrics` on the main listener: any staff role.
pub(super) async fn for_staff(State(hub): State<Hub>, staff: Staff) -> Result<Response, ApiError> {
    staff.require(Action::ReadMetrics)?;
    Ok(exposition(&hub).await)
}

/// The routes of the metrics-only listener: `GET /metrics`, without a login.
pub fn listener_router(hub: Hub) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(hub): State<Hub>| async move { exposition(&hub).await }),
        )
        .fallback(super::error::not_found)
        .with_state(hub)
}

async fn exposition(hub: &Hub) -> Response {
    match hub.outbox.gauges().await {
        Ok(gauges) => {
            for gauge in gauges {
                let labels = [("channel", gauge.channel.as_str())];
                hub.metrics
                    .outbox_waiting
                    .get_or_create(&labels)
                    .set(gauge.waiting as i64);
                hub.metrics
                    .outbox_oldest_seconds
                    .get_or_create(&labels)
                    .set(gauge.oldest_age_secs);
            }
        }
        Err(problem) => {
            tracing::warn!(message = %problem.message, "cannot read the outbox's depth");
        }
    }
    let intake = hub.mqtt.intake.snapshot();
    let state = *hub.mqtt.state.borrow();
    hub.metrics.mqtt.refresh(
        state.as_str(),
        &BrokerState::ALL.map(BrokerState::as_str),
        MqttCounts {
            unacked: intake.unacked,
            in_flight: intake.in_flight,
            stalled: intake.stalled,
            received_total: intake.received_total,
            acked_total: intake.acked_total,
        },
    );
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], hub.metrics.render()).into_response()
}
