//! Refusals that come from below the handlers (a body over the limit, a path that does not
//! decode, a method a route does not take, a request that took too long) in the same JSON
//! error as every other, or as an Open311 error list under `/open311`.

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::problem::{ErrorCode, Problem};

/// A framework's own refusal text is short; anything longer is not one.
const MAX_REFUSAL_TEXT: usize = 4096;

/// Refuses at once a request whose declared body is over `limit`, before reading any of it.
pub(super) async fn check_declared_length(
    State(limit): State<usize>,
    request: Request,
    next: Next,
) -> Response {
    match declared_length(request.headers()) {
        Ok(Some(length)) if length > limit as u64 => {
            let problem = Problem::new(
                ErrorCode::TooLarge,
                format!(
                    "the body is declared as {length} bytes; the limit here is {limit}: send a smaller photo or document"
                ),
            );
            closing(ApiError(problem).into_response())
        }
        Ok(_) => next.run(request).await,
        Err(problem) => closing(ApiError(problem).into_response()),
    }
}

/// Refuses a request whose path and query are longer than `limit` with 414.
pub(super) async fn check_uri_length(
    State(limit): State<usize>,
    request: Request,
    next: Next,
) -> Response {
    let length = request
        .uri()
        .path_and_query()
        .map_or(0, |path| path.as_str().len());
    if length <= limit {
        return next.run(request).await;
    }
    let problem = Problem::new(
        ErrorCode::UriTooLong,
        format!(
            "the path and query have {length} bytes; the limit is {limit} (http.max_uri_bytes): send long data in the body"
        ),
    );
    ApiError(problem).into_response()
}

fn declared_length(headers: &HeaderMap) -> Result<Option<u64>, Problem> {
    let Some(value) = headers.get(header::CONTENT_LENGTH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .map(Some)
        .ok_or_else(|| {
            Problem::new(
                ErrorCode::MalformedRequest,
                "Content-Length is not a number of bytes",
            )
        })
}

/// The connection ends after this answer: the unread body is not worth reading.
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Marks an error answer that is a page of the UI, which tells a person itself what is wrong
/// (a notice's page for an id no published notice has): the one kind not said in JSON.
#[derive(Clone, Copy)]
pub(super) struct PageSaysIt;

/// Turns an error answer without a JSON (or XML) body into our error format.
pub(super) async fn speak_json(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if !response.status().is_client_error() && !response.status().is_server_error() {
        return response;
    }
    if response.extensions().get::<PageSaysIt>().is_some() {
        return response;
    }
    let open311 = path.starts_with("/open311/");
    let ours = response.extensions().get::<Problem>().cloned();
    // Our own JSON error under `/open311` (a layer's refusal: a limit, a rate) is said again.
    let reworded = open311 && ours.is_some();
    if !reworded && already_formatted(response.headers()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let problem = match ours {
        Some(problem) => problem,
        None => {
            let text = to_bytes(body, MAX_REFUSAL_TEXT).await.unwrap_or_default();
            problem_for(
                parts.status,
                &parts.headers,
                &String::from_utf8_lossy(&text),
            )
        }
    };
    let mut answer = match open311 {
        true => super::open311::error_response(&path, problem),
        false => ApiError(problem).into_response(),
    };
    *answer.status_mut() = parts.status;
    for name in [header::ALLOW, header::CONNECTION, header::RETRY_AFTER] {
        if let Some(value) = parts.headers.get(&name) {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}

fn already_formatted(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|kind| kind.contains("json") || kind.contains("xml"))
}

/// What a framework refusal means, in our words, keeping the framework's detail.
fn problem_for(status: StatusCode, headers: &HeaderMap, text: &str) -> Problem {
    let detail = text.trim();
    let said = |message: &str| match detail.is_empty() {
        true => message.to_owned(),
        false => format!("{message} ({detail})"),
    };
    match status {
        StatusCode::BAD_REQUEST => Problem::new(
            ErrorCode::MalformedRequest,
            said("the request could not be read: check the path's percent-encoding and the body"),
        ),
        StatusCode::NOT_FOUND => Problem::new(ErrorCode::NotFound, said("no such resource")),
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = headers
                .get(header::ALLOW)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("");
            Problem::new(
                ErrorCode::MethodNotAllowed,
                format!("this endpoint does not take that method; it takes: {allowed}"),
            )
        }
        StatusCode::REQUEST_TIMEOUT => Problem::new(
            ErrorCode::Timeout,
            "the request took too long to arrive or to answer (http.request_timeout_secs); send it again",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
            ErrorCode::TooLarge,
            said("the body is over the size limit; send a smaller photo or document"),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Problem::new(
            ErrorCode::UnsupportedMediaType,
            said("the body's Content-Type is not one this endpoint takes"),
        ),
        StatusCode::UNPROCESSABLE_ENTITY => {
            Problem::new(ErrorCode::InvalidField, said("a value is not valid"))
        }
        StatusCode::TOO_MANY_REQUESTS => Problem::new(
            ErrorCode::RateLimited,
            "too many requests; slow down and retry",
        ),
        status if status.is_server_error() => Problem::internal(&detail),
        _ => Problem::new(ErrorCode::MalformedRequest, said("the request was refused")),
    }
}
