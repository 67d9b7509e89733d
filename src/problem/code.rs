//! The error codes on the wire, each with its name and its HTTP status.

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
