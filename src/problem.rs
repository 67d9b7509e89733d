//! The one error vocabulary of every channel: a code, a message a person can act on, a field.
//!
//! HTTP sends a `Problem` as the JSON error body, WebSocket and MQTT as an `error` frame.

use serde::Serialize;

/// Stable, machine-readable error codes. Clients switch on these; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    MalformedJson,
    InvalidUtf8,
    MissingField,
    InvalidField,
    UnknownField,
    UnknownCategory,
    TooLong,
    TooLarge,
    UnsupportedMediaType,
    UnknownFrameType,
    OutsideZones,
    ClientRefConflict,
    RateLimited,
    NotFound,
    Unauthorized,
    InvalidCredentials,
    Forbidden,
    FourEyes,
    StaleVersion,
    InvalidState,
    /// A report status change the workflow does not allow (`resolved` -> `received`).
    InvalidTransition,
    UnsafeXml,
    MalformedXml,
    UpgradeRequired,
    /// Not valid HTTP/1.1 (a bad request line, header or path encoding).
    MalformedRequest,
    MethodNotAllowed,
    /// The request did not arrive (or could not be answered) in time.
    Timeout,
    UriTooLong,
    HeadersTooLarge,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub const ALL: &[ErrorCode] = &[
        ErrorCode::MalformedJson,
        ErrorCode::InvalidUtf8,
        ErrorCode::MissingField,
        ErrorCode::InvalidField,
        ErrorCode::UnknownField,
        ErrorCode::UnknownCategory,
        ErrorCode::TooLong,
        ErrorCode::TooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::UnknownFrameType,
        ErrorCode::OutsideZones,
        ErrorCode::ClientRefConflict,
        ErrorCode::RateLimited,
        ErrorCode::NotFound,
        ErrorCode::Unauthorized,
        ErrorCode::InvalidCredentials,
        ErrorCode::Forbidden,
        ErrorCode::FourEyes,
        ErrorCode::StaleVersion,
        ErrorCode::InvalidState,
        ErrorCode::InvalidTransition,
        ErrorCode::UnsafeXml,
        ErrorCode::MalformedXml,
        ErrorCode::UpgradeRequired,
        ErrorCode::MalformedRequest,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Timeout,
        ErrorCode::UriTooLong,
        ErrorCode::HeadersTooLarge,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ];

    /// The code as it is written on the wire (and in metric labels).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::InvalidUtf8 => "invalid_utf8",
            ErrorCode::MissingField => "missing_field",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::UnknownField => "unknown_field",
            ErrorCode::UnknownCategory => "unknown_category",
            ErrorCode::TooLong => "too_long",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::UnknownFrameType => "unknown_frame_type",
            ErrorCode::OutsideZones => "outside_zones",
            ErrorCode::ClientRefConflict => "client_ref_conflict",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::FourEyes => "four_eyes",
            ErrorCode::StaleVersion => "stale_version",
            ErrorCode::InvalidState => "invalid_state",
            ErrorCode::InvalidTransition => "invalid_transition",
            ErrorCode::UnsafeXml => "unsafe_xml",
            ErrorCode::MalformedXml => "malformed_xml",
            ErrorCode::UpgradeRequired => "upgrade_required",
            ErrorCode::MalformedRequest => "malformed_request",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Timeout => "timeout",
            ErrorCode::UriTooLong => "uri_too_long",
            ErrorCode::HeadersTooLarge => "headers_too_large",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }

    /// The HTTP status that carries this code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::MalformedJson | ErrorCode::InvalidUtf8 | ErrorCode::UnknownFrameType => 400,
            ErrorCode::MalformedRequest => 400,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Timeout => 408,
            ErrorCode::UriTooLong => 414,
            ErrorCode::HeadersTooLarge => 431,
            ErrorCode::UnsafeXml | ErrorCode::MalformedXml => 400,
            ErrorCode::Unauthorized | ErrorCode::InvalidCredentials => 401,
            ErrorCode::Forbidden | ErrorCode::FourEyes => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::UpgradeRequired => 426,
            ErrorCode::ClientRefConflict
            | ErrorCode::StaleVersion
            | ErrorCode::InvalidState
            | ErrorCode::InvalidTransition => 409,
            ErrorCode::TooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::MissingField
            | ErrorCode::InvalidField
            | ErrorCode::UnknownField
            | ErrorCode::UnknownCategory
            | ErrorCode::TooLong
            | ErrorCode::OutsideZones => 422,
            ErrorCode::RateLimited => 429,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal => 500,
        }
    }
}

/// An error a sender can act on. `message` never contains personal data or internals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    #[serde(rename = "error")]
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds after which a retry may succeed (sent as `Retry-After` over HTTP).
    #[serde(skip)]
    pub retry_after_secs: Option<u64>,
}

impl Problem {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Problem {
        Problem {
            code,
            message: message.into(),
            field: None,
            retry_after_secs: None,
        }
    }

    pub fn with_field(
        code: ErrorCode,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            code,
            message: message.into(),
            field: Some(field.into()),
            retry_after_secs: None,
        }
    }

    /// Says when a retry may succeed.
    pub fn retry_after(mut self, secs: u64) -> Problem {
        self.retry_after_secs = Some(secs);
        self
    }

    /// Prefixes the field path, for messages nested inside a frame (`report.lat`).
    pub fn nested_in(mut self, parent: &str) -> Problem {
        if let Some(field) = self.field.take() {
            self.message = self
                .message
                .replace(&format!("`{field}`"), &format!("`{parent}.{field}`"));
            self.field = Some(format!("{parent}.{field}"));
        }
        self
    }

    /// A server-side failure: the cause is logged here, the sender only learns it failed.
    pub fn internal(cause: &dyn std::fmt::Display) -> Problem {
        tracing::error!(%cause, "internal error");
        Problem::new(
            ErrorCode::Internal,
            "the hub could not process this; nothing was stored, please retry",
        )
    }

    /// Parses JSON into `T`, turning serde's error into a problem that names the field.
    /// Every message on our wire is a JSON object; anything else is refused before field checks.
    pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
        let text = utf8(bytes)?;
        if !text.trim_start().starts_with('{') {
            return Err(Problem::new(
                ErrorCode::MalformedJson,
                "the message must be a JSON object, such as {\"type\": ...}",
            ));
        }
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(from_json_error)
    }

    /// Like [`Problem::parse_json`], for a value already parsed (a frame whose type was read first).
    pub fn from_value<T: serde::de::DeserializeOwned>(
        value: serde_json::Value,
    ) -> Result<T, Problem> {
        serde_path_to_error::deserialize(value).map_err(from_json_error)
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, Problem> {
    std::str::from_utf8(bytes).map_err(|err| {
        Problem::new(
            ErrorCode::InvalidUtf8,
            format!(
                "the message is not valid UTF-8 (bad byte at offset {}); send UTF-8 encoded JSON",
                err.valid_up_to()
            ),
        )
    })
}

fn from_json_error(err: serde_path_to_error::Error<serde_json::Error>) -> Problem {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let detail = plain_words(&strip_position(&inner.to_string()));
    let at_field = !path.is_empty() && path != ".";
    if !inner.is_data() {
        let problem = Problem::new(
            ErrorCode::MalformedJson,
            format!("the message is not valid JSON: {inner}"),
        );
        // A number too large for a float (1e999) is a syntax error that still has a field.
        return match at_field && detail.starts_with("number out of range") {
            true => Problem::with_field(
                ErrorCode::InvalidField,
                path.clone(),
                format!("`{path}` is not a finite number"),
            ),
            false => problem,
        };
    }
    let named = between_backticks(&detail);
    if let Some(name) = named
        .as_deref()
        .filter(|_| detail.starts_with("unknown field"))
    {
        let field = join_path(&path, name);
        return Problem::with_field(
            ErrorCode::UnknownField,
            field.clone(),
            format!("`{field}` is not a field of this message; remove it ({detail})"),
        );
    }
    if let Some(name) = named
        .as_deref()
        .filter(|_| detail.starts_with("missing field"))
    {
        let field = join_path(&path, name);
        return Problem::with_field(
            ErrorCode::MissingField,
            field.clone(),
            format!("`{field}` is required"),
        );
    }
    Problem::with_field(
        ErrorCode::InvalidField,
        path.clone(),
        format!("`{path}`: {detail}"),
    )
}

/// serde speaks Rust (`expected f64`); senders speak JSON.
fn plain_words(detail: &str) -> String {
    detail
        .replace("expected f64", "expected a number")
        .replace("expected u32", "expected a whole number")
        .replace("expected a string", "expected text")
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

fn between_backticks(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_owned())
}

fn join_path(path: &str, name: &str) -> String {
    if path == name || path.ends_with(&format!(".{name}")) {
        path.to_owned()
    } else if path.is_empty() || path == "." {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        lat: f64,
    }

    fn parse(text: &str) -> Problem {
        Problem::parse_json::<Outer>(text.as_bytes()).unwrap_err()
    }

    #[test]
    fn json_errors_name_the_field_by_its_full_path() {
        let wrong_type = parse(r#"{"inner": {"lat": "north"}}"#);
        let unknown = parse(r#"{"inner": {"lat": 1, "lng": 2}}"#);
        let missing = parse(r#"{"inner": {}}"#);

        assert_eq!(
            (wrong_type.code, wrong_type.field.as_deref()),
            (ErrorCode::InvalidField, Some("inner.lat"))
        );
        assert!(
            wrong_type.message.contains("expected a number"),
            "{}",
            wrong_type.message
        );
        assert_eq!(
            (unknown.code, unknown.field.as_deref()),
            (ErrorCode::UnknownField, Some("inner.lng"))
        );
        assert_eq!(
            (missing.code, missing.field.as_deref()),
            (ErrorCode::MissingField, Some("inner.lat"))
        );
    }

    #[test]
    fn syntax_errors_and_non_objects_are_malformed_json() {
        assert_eq!(parse(r#"{"inner": "#).code, ErrorCode::MalformedJson);
        assert_eq!(parse("[1, 2]").code, ErrorCode::MalformedJson);
        assert_eq!(parse("").code, ErrorCode::MalformedJson);
        assert_eq!(
            Problem::parse_json::<Outer>(b"{\xff}").unwrap_err().code,
            ErrorCode::InvalidUtf8
        );
    }

    #[test]
    fn a_number_beyond_a_float_is_an_invalid_field_not_a_syntax_error() {
        let problem = parse(r#"{"inner": {"lat": 1e400}}"#);

        assert_eq!(
            (problem.code, problem.field.as_deref()),
            (ErrorCode::InvalidField, Some("inner.lat"))
        );
    }

    #[test]
    fn every_code_is_written_as_serde_writes_it() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn nesting_prefixes_the_field_and_the_message() {
        let problem = Problem::with_field(ErrorCode::TooLong, "text", "`text` has 9 characters")
            .nested_in("report");

        assert_eq!(problem.field.as_deref(), Some("report.text"));
        assert_eq!(problem.message, "`report.text` has 9 characters");
        assert_eq!(
            Problem::new(ErrorCode::RateLimited, "slow down")
                .nested_in("report")
                .field,
            None
        );
    }
}
