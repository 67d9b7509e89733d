//! The one error vocabulary of every channel: a code, a message a person can act on, a field.
//!
//! HTTP sends a `Problem` as the JSON error body, WebSocket and MQTT as an `error` frame.

mod code;

use serde::Serialize;

pub use code::ErrorCode;

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
                "the message must be one JSON object, `{...}`",
            ));
        }
        let de = &mut serde_json::Deserializer::from_str(text);
        match serde_path_to_error::deserialize(&mut *de) {
            Ok(parsed) => de.end().map(|()| parsed).map_err(|_| {
                // Two messages glued together would otherwise be answered for the first only.
                Problem::new(
                    ErrorCode::MalformedJson,
                    "the message goes on after its JSON object; send exactly one object",
                )
            }),
            Err(err) => Self::parse_again(text, err),
        }
    }

    /// JSON has one kind of number, and to a JSON Schema `2.0` is the integer 2: a whole number
    /// written with a fraction is read again as that integer.
    fn parse_again<T: serde::de::DeserializeOwned>(
        text: &str,
        err: serde_path_to_error::Error<serde_json::Error>,
    ) -> Result<T, Problem> {
        if !err
            .inner()
            .to_string()
            .contains("invalid type: floating point")
        {
            return Err(from_json_error(err));
        }
        let value = serde_json::from_str(text).map_err(|_| from_json_error(err))?;
        Problem::from_value(whole_numbers_as_integers(value))
    }

    /// Like [`Problem::parse_json`], for a value already parsed (a frame whose type was read first).
    pub fn from_value<T: serde::de::DeserializeOwned>(
        value: serde_json::Value,
    ) -> Result<T, Problem> {
        serde_path_to_error::deserialize(value).map_err(from_json_error)
    }
}

/// `2.0` becomes `2`, at any depth; numbers too large to be exact as a float stay as they are.
fn whole_numbers_as_integers(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    match value {
        Value::Number(number) => match number.as_f64() {
            Some(float)
                if !number.is_i64()
                    && !number.is_u64()
                    && float.fract() == 0.0
                    && float.abs() <= EXACT =>
            {
                Value::from(float as i64)
            }
            _ => Value::Number(number),
        },
        Value::Array(items) => items.into_iter().map(whole_numbers_as_integers).collect(),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(name, value)| (name, whole_numbers_as_integers(value)))
                .collect(),
        ),
        other => other,
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
    if let Some(problem) = about_a_named_field(&path, &detail) {
        return problem;
    }
    Problem::with_field(
        ErrorCode::InvalidField,
        path.clone(),
        format!("`{path}`: {detail}"),
    )
}

/// serde's errors that name a field rather than sit at one: unknown, missing, given twice.
fn about_a_named_field(path: &str, detail: &str) -> Option<Problem> {
    let name = between_backticks(detail)?;
    let field = join_path(path, &name);
    let (code, message) = if detail.starts_with("unknown field") {
        (
            ErrorCode::UnknownField,
            format!("`{field}` is not a field of this message; remove it ({detail})"),
        )
    } else if detail.starts_with("missing field") {
        (ErrorCode::MissingField, format!("`{field}` is required"))
    } else if detail.starts_with("duplicate field") {
        (
            ErrorCode::InvalidField,
            format!("`{field}` is given more than once; give it once"),
        )
    } else {
        return None;
    };
    Some(Problem::with_field(code, field, message))
}

/// serde speaks Rust (`expected f64`, `expected struct RawPhoto`); senders speak JSON.
fn plain_words(detail: &str) -> String {
    let detail = match detail.find("expected struct ") {
        Some(at) => format!("{}expected an object", &detail[..at]),
        None => detail.to_owned(),
    };
    ["u32", "i64", "u64"]
        .iter()
        .fold(detail, |detail, integer| {
            detail.replace(&format!("expected {integer}"), "expected a whole number")
        })
        .replace("expected f64", "expected a number")
        .replace("expected a sequence", "expected a list")
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
        let twice = parse(r#"{"inner": {"lat": 1, "lat": 2}}"#);
        assert_eq!(
            (twice.code, twice.field.as_deref()),
            (ErrorCode::InvalidField, Some("inner.lat"))
        );
    }

    #[test]
    fn type_errors_name_json_types_not_rust_ones() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Frame {
            cursor: Option<i64>,
            zones: Option<Vec<String>>,
            inner: Option<Inner>,
        }
        let said = |text: &str| {
            Problem::parse_json::<Frame>(text.as_bytes())
                .unwrap_err()
                .message
        };

        assert!(said(r#"{"cursor": "abc"}"#).ends_with("expected a whole number"));
        assert!(said(r#"{"zones": "demo-001"}"#).ends_with("expected a list"));
        let object = said(r#"{"inner": "x"}"#);
        assert!(object.ends_with("expected an object"), "{object}");
    }

    #[test]
    fn a_whole_number_written_with_a_fraction_is_read_as_that_integer() {
        #[derive(Debug, serde::Deserialize)]
        struct Versioned {
            version: i64,
            lat: f64,
        }

        let read: Versioned =
            Problem::parse_json(br#"{"version": 15543090151.0, "lat": 44.5}"#).unwrap();
        let fraction = Problem::parse_json::<Versioned>(br#"{"version": 2.5, "lat": 1}"#);

        assert_eq!((read.version, read.lat), (15_543_090_151, 44.5));
        assert_eq!(fraction.unwrap_err().field.as_deref(), Some("version"));
    }

    #[test]
    fn syntax_errors_and_non_objects_are_malformed_json() {
        assert_eq!(parse(r#"{"inner": "#).code, ErrorCode::MalformedJson);
        assert_eq!(parse("[1, 2]").code, ErrorCode::MalformedJson);
        assert_eq!(parse("").code, ErrorCode::MalformedJson);
        let glued = parse(r#"{"inner": {"lat": 1}} {"inner": {"lat": 2}}"#);
        assert_eq!(glued.code, ErrorCode::MalformedJson);
        assert!(glued.message.contains("exactly one object"), "{glued:?}");
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
