//! Follow tokens: the secret each acknowledgement gives a reporter, which alone opens the
//! updates on that report (over WebSocket `follow` and `GET /api/v1/reports/{id}/updates`).

use crate::problem::{ErrorCode, Problem};
use crate::secret;

const PREFIX: &str = "vft_";
/// Reports one `follow` frame may name.
pub const MAX_FOLLOWED: usize = 100;

/// A new token for a report; the reporter keeps it, the hub keeps its hash.
pub fn new_token() -> String {
    secret::new(PREFIX)
}

pub fn token_hash(token: &str) -> Vec<u8> {
    secret::hash(token)
}

/// The hashes of a `follow` frame's tokens, after checking their shape and number.
pub fn parse_tokens(tokens: &[String], field: &str) -> Result<Vec<Vec<u8>>, Problem> {
    if tokens.is_empty() || tokens.len() > MAX_FOLLOWED {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            field,
            format!(
                "follow 1 to {MAX_FOLLOWED} reports: `{field}` lists the `follow_token` of each ack"
            ),
        ));
    }
    tokens
        .iter()
        .enumerate()
        .map(|(n, token)| {
            if secret::looks_like(token, PREFIX) {
                Ok(token_hash(token))
            } else {
                Err(wrong_token(&format!("{field}[{n}]")))
            }
        })
        .collect()
}

/// The answer to a token that opens nothing: it says no more than that.
pub fn wrong_token(field: &str) -> Problem {
    Problem::with_field(
        ErrorCode::Unauthorized,
        field,
        format!(
            "`{field}` is not the follow token of a report: use the `follow_token` from the report's ack"
        ),
    )
}
