//! `GET /api/v1/cap-sources`: how each upstream CAP source is polled, for staff who read notices.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::error::ApiError;
use crate::auth::Staff;
use crate::hub::Hub;

pub(super) async fn list(State(hub): State<Hub>, staff: Staff) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        json!({ "sources": hub.notices.source_states(&staff)? }),
    ))
}
