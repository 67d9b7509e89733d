//! `/healthz` (the process is up) and `/readyz` (the database takes writes, MQTT intake moves).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::hub::Hub;

/// A write that takes longer than this means the disk is in trouble.
const WRITE_PROBE_TIMEOUT: Duration = Duration::from_secs(3);

pub(super) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "up" }))
}

/// 200 when the database accepts a committed write and MQTT intake is not stuck; 503
/// otherwise. A broker that is away is reported but does not make the hub unready: HTTP and
/// WebSocket keep working without it, and the broker keeps what devices send meanwhile.
pub(super) async fn readyz(State(hub): State<Hub>) -> (StatusCode, Json<Value>) {
    let probe = hub.intake.check_writable();
    let database = match tokio::time::timeout(WRITE_PROBE_TIMEOUT, probe).await {
        Ok(Ok(())) => "writable",
        Ok(Err(problem)) => {
            tracing::error!(message = %problem.message, "readiness probe: database write failed");
            "failing"
        }
        Err(_) => "timed_out",
    };
    let broker = *hub.mqtt.state.borrow();
    let intake = hub.mqtt.intake.snapshot();
    if intake.stalled {
        tracing::error!(
            unacked = intake.unacked,
            "MQTT intake is stuck: messages wait for their acknowledgement and none leaves"
        );
    }
    let ready = database == "writable" && !intake.stalled;
    let status = match ready {
        true => StatusCode::OK,
        false => StatusCode::SERVICE_UNAVAILABLE,
    };
    let body =
        json!({ "ready": ready, "database": database, "mqtt": broker, "mqtt_intake": intake });
    (status, Json(body))
}
