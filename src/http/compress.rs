//! Compressed answers: gzip or brotli for clients that accept them, and never a refusal for a
//! client that accepts neither.

use axum::extract::Request;
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, Version, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};

/// gzip or brotli for whole answers of any size worth it; never a range of a file (its bytes
/// are addressed by offset), an upgrade, or what is compressed already.
pub(super) fn compression() -> CompressionLayer<impl Predicate> {
    let whole_answer = |status: StatusCode, _: Version, headers: &HeaderMap, _: &Extensions| {
        status == StatusCode::OK && !headers.contains_key(header::CONTENT_RANGE)
    };
    CompressionLayer::new().compress_when(
        DefaultPredicate::new()
            .and(NotForContentType::const_new("application/vnd.pmtiles"))
            .and(whole_answer),
    )
}

/// Keeps only the encodings the hub speaks in `Accept-Encoding`. A client that refuses plain
/// bytes (`identity;q=0`) and offers nothing we speak would otherwise get `406` for everything,
/// health checks and the WebSocket upgrade included; it gets plain bytes instead.
pub(super) async fn only_known_encodings(mut request: Request, next: Next) -> Response {
    let headers = request.headers_mut();
    if let Some(offered) = headers.get(header::ACCEPT_ENCODING) {
        let known = known_encodings(offered.to_str().unwrap_or(""));
        match HeaderValue::from_str(&known) {
            Ok(value) if !known.is_empty() => headers.insert(header::ACCEPT_ENCODING, value),
            _ => headers.remove(header::ACCEPT_ENCODING),
        };
    }
    next.run(request).await
}

fn known_encodings(offered: &str) -> String {
    offered
        .split(',')
        .map(str::trim)
        .filter(|offer| {
            let mut parts = offer.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            !refused && (coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("br"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::known_encodings;

    #[test]
    fn only_the_encodings_the_hub_speaks_are_kept() {
        assert_eq!(known_encodings("gzip, deflate, br, zstd"), "gzip, br");
        assert_eq!(known_encodings("identity;q=0, zstd"), "");
        assert_eq!(known_encodings("br;q=0, gzip;q=0.5"), "gzip;q=0.5");
    }
}
