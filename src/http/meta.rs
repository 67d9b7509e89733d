//! Describing the API: the category catalog and the OpenAPI document.

use std::sync::OnceLock;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::hub::Hub;

/// `GET /api/v1/categories`.
pub(super) async fn categories(State(hub): State<Hub>) -> Json<Value> {
    Json(json!({ "categories": hub.intake.rules().catalog.all() }))
}

/// `GET /api/v1/openapi.json`: the document in `schemas/openapi.json`, with every message schema
/// from `schemas/` inlined under `components/schemas`.
pub(super) async fn openapi() -> Json<Value> {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    Json(
        DOCUMENT
            .get_or_init(crate::schemas::openapi_document)
            .clone(),
    )
}
