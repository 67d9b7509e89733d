//! Free text as every form takes it: trimmed, empty as absent, bounded in characters; and the
//! shape of an e-mail address, which reports and subscriptions both take.

use crate::problem::{ErrorCode, Problem};

/// Trims an optional text; empty becomes absent; over `max` characters is an error.
pub fn bounded_text(
    value: Option<String>,
    field: &str,
    max: usize,
) -> Result<Option<String>, Problem> {
    let Some(value) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let chars = value.chars().count();
    if chars > max {
        return Err(Problem::with_field(
            ErrorCode::TooLong,
            field,
            format!("`{field}` has {chars} characters; the limit is {max}"),
        ));
    }
    Ok(Some(value))
}

/// Longest e-mail address (RFC 5321's path limit).
const MAX_EMAIL: usize = 254;

/// An optional e-mail address, trimmed, bounded and shaped like `name@example.org`.
pub fn parse_email(email: Option<String>, field: &str) -> Result<Option<String>, Problem> {
    let Some(email) = bounded_text(email, field, MAX_EMAIL)? else {
        return Ok(None);
    };
    let looks_valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace)
    });
    if !looks_valid {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            field,
            format!("`{field}` must be an e-mail address like name@example.org"),
        ));
    }
    Ok(Some(email))
}
