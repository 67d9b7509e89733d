//! Cheap reloads: every whole GET answer without caching headers of its own gets an `ETag`
//! and is revalidated, so a page reloaded on a slow link gets `304 Not Modified` instead of
//! the same bytes again.

use axum::body::{Body, HttpBody, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// Answers larger than this are sent as they are, without an `ETag`.
const MAX_TAGGED_BYTES: usize = 4 * 1024 * 1024;

pub(super) async fn with_etag(request: Request, next: Next) -> Response {
    let is_get = request.method() == Method::GET;
    // Shared caches (a proxy in the office or at the carrier) keep nothing of the API: its
    // answers may be for one person only (a staff login, a reporter's follow token).
    let private = request.headers().contains_key(header::AUTHORIZATION)
        || request.uri().path().starts_with("/api/");
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let response = next.run(request).await;
    if !is_get || !worth_tagging(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_TAGGED_BYTES).await else {
        // Only a body over the limit fails here, and its head is already decided: send an
        // honest error rather than a truncated answer.
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let etag = etag_of(&bytes);
    let caching = if private {
        "private, no-cache"
    } else {
        "no-cache"
    };
    parts.headers.insert(header::ETAG, etag.clone());
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(caching));
    if if_none_match.is_some_and(|tags| matches(&tags, &etag)) {
        let mut headers = HeaderMap::new();
        for name in [header::ETAG, header::CACHE_CONTROL, header::VARY] {
            if let Some(value) = parts.headers.get(&name) {
                headers.insert(name, value.clone());
            }
        }
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A whole `200` answer of known, bounded size that says nothing about caching itself.
fn worth_tagging(response: &Response) -> bool {
    let headers = response.headers();
    // A body of exact, known size is whole in memory already; streams are left alone.
    let bounded = response
        .body()
        .size_hint()
        .exact()
        .is_some_and(|length| length <= MAX_TAGGED_BYTES as u64);
    response.status() == StatusCode::OK
        && bounded
        && !headers.contains_key(header::ETAG)
        && !headers.contains_key(header::CACHE_CONTROL)
}

fn etag_of(bytes: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    // Weak: the same content may go out gzip- or brotli-encoded.
    HeaderValue::from_str(&format!("W/\"{hex}\"")).expect("hex is header-safe")
}

/// Whether an `If-None-Match` list names `etag` (weak comparison, as RFC 9110 asks for GET).
pub fn matches(tags: &HeaderValue, etag: &HeaderValue) -> bool {
    let Ok(tags) = tags.to_str() else {
        return false;
    };
    let ours = etag.to_str().unwrap_or_default().trim_start_matches("W/");
    tags.split(',')
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == ours)
}
