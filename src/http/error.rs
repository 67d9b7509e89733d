//! The HTTP face of [`Problem`]: a JSON error body with the status its code calls for.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::problem::{ErrorCode, Problem};

/// Any handler error. The body is `{"error", "message", "field"}`.
#[derive(Debug)]
pub struct ApiError(pub Problem);

impl ApiError {
    pub fn not_found(what: &str) -> ApiError {
        ApiError(Problem::new(
            ErrorCode::NotFound,
            format!("{what} does not exist"),
        ))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let challenge = self.0.code == ErrorCode::Unauthorized;
        let retry_after = self.0.retry_after_secs;
        let problem = self.0.clone();
        let mut response = (status, Json(self.0)).into_response();
        // Kept beside the body, so that `refusals::speak_json` can say it again in Open311's
        // words when a layer refused a request under `/open311`.
        response.extensions_mut().insert(problem);
        let headers = response.headers_mut();
        if challenge {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> ApiError {
        ApiError(problem)
    }
}

/// The answer to a route that does not exist.
pub(super) async fn not_found() -> ApiError {
    ApiError(Problem::new(
        ErrorCode::NotFound,
        "no such endpoint; the API is described at /api/v1/openapi.json",
    ))
}
