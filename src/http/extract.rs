//! Request extractors whose failures speak our error format instead of axum's plain text.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::problem::{ErrorCode, Problem};

/// A JSON body: checks the content type, the size limit, UTF-8 and every field.
pub(super) struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        require_content_type(req.headers(), "application/json")?;
        let bytes = body_bytes(req, state).await?;
        Ok(JsonBody(Problem::parse_json(&bytes)?))
    }
}

/// Reads the whole body, turning the size limit into a 413 that says what the limit is.
pub(super) async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError(Problem::new(
                ErrorCode::TooLarge,
                "the request body is over the size limit; send a smaller photo or text",
            ))
        } else {
            ApiError(Problem::new(
                ErrorCode::MalformedJson,
                format!("the request body could not be read: {rejection}"),
            ))
        }
    })
}

pub(super) fn require_content_type(headers: &HeaderMap, expected: &str) -> Result<(), ApiError> {
    let given = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let mut parts = given.split(';');
    let essence = parts.next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case(expected) {
        // A form is ASCII whatever its label says (its escapes are checked as UTF-8 where it
        // is read), and clients such as Apache HttpClient label it ISO-8859-1 by default.
        return match expected {
            "application/json" => utf8_charset(parts, expected),
            _ => Ok(()),
        };
    }
    let shown = if given.is_empty() {
        "none".to_owned()
    } else {
        format!("`{given}`")
    };
    Err(ApiError(Problem::new(
        ErrorCode::UnsupportedMediaType,
        format!("the body must be sent with Content-Type: {expected} (got {shown})"),
    )))
}

/// Charsets whose text is UTF-8 as it stands (ASCII is a part of it).
const READ_AS_UTF8: [&str; 3] = ["utf-8", "utf8", "us-ascii"];

/// Every body is read as UTF-8: a body declared in another charset would be misread.
fn utf8_charset<'a>(
    mut parameters: impl Iterator<Item = &'a str>,
    expected: &str,
) -> Result<(), ApiError> {
    let charset = parameters.find_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"'))
    });
    match charset {
        Some(charset)
            if !READ_AS_UTF8
                .iter()
                .any(|name| charset.eq_ignore_ascii_case(name)) =>
        {
            Err(ApiError(Problem::new(
                ErrorCode::UnsupportedMediaType,
                format!(
                    "the body must be UTF-8 (got charset={charset}); send Content-Type: {expected}; charset=utf-8"
                ),
            )))
        }
        _ => Ok(()),
    }
}

/// Query parameters as a map, refusing any name this endpoint does not know (catches typos), an
/// empty value and a name given twice, so that each parameter means one thing or is absent.
pub(super) struct KnownQuery(pub HashMap<String, String>);

impl KnownQuery {
    pub(super) fn from_uri(uri: &Uri, known: &[&str]) -> Result<KnownQuery, ApiError> {
        super::params::decodes_to_utf8(uri.query().unwrap_or_default())?;
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(uri).map_err(|err| {
            ApiError(Problem::new(
                ErrorCode::InvalidField,
                format!("the query string is malformed: {err}"),
            ))
        })?;
        let mut params = HashMap::with_capacity(pairs.len());
        for (name, value) in pairs {
            if !known.contains(&name.as_str()) {
                let message = format!(
                    "unknown query parameter `{name}`; this endpoint takes: {}",
                    known.join(", ")
                );
                return Err(ApiError(Problem::with_field(
                    ErrorCode::UnknownField,
                    name,
                    message,
                )));
            }
            if value.is_empty() {
                return Err(refused(name, "is empty; give it a value or leave it out"));
            }
            match params.entry(name) {
                Entry::Occupied(given) => {
                    return Err(refused(given.key().clone(), "is given more than once"));
                }
                Entry::Vacant(entry) => {
                    entry.insert(value);
                }
            }
        }
        Ok(KnownQuery(params))
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

fn refused(name: String, why: &str) -> ApiError {
    let message = format!("`{name}` {why}");
    ApiError(Problem::with_field(ErrorCode::InvalidField, name, message))
}

/// The peer address, when the server was started with connect info (tests using `oneshot` are not).
pub struct PeerAddr(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0),
        ))
    }
}

/// One page of a newest-first listing: `limit` items before the `cursor` (a sequence number).
#[derive(Debug, Clone, Copy)]
pub(super) struct Page {
    pub limit: usize,
    pub before: Option<i64>,
}

impl Page {
    /// The cursor of the next page, or `None` on the last one.
    pub(super) fn next_cursor<T>(&self, items: &[T], seq: impl Fn(&T) -> i64) -> Option<String> {
        (items.len() == self.limit)
            .then(|| items.last().map(|item| seq(item).to_string()))
            .flatten()
    }
}

impl KnownQuery {
    /// `limit` (1 to `max`, default `default`) and `cursor`.
    pub(super) fn page(&self, default: i64, max: i64) -> Result<Page, Problem> {
        let limit = self
            .get("limit")
            .map(|v| super::params::integer("limit", v, 1, max))
            .transpose()?
            .unwrap_or(default);
        let before = self
            .get("cursor")
            .map(|v| super::params::integer("cursor", v, 1, i64::MAX))
            .transpose()?;
        Ok(Page {
            limit: limit as usize,
            before,
        })
    }
}
