//! Free text as every form takes it: trimmed, empty as absent, bounded in characters.

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
