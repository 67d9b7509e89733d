//! Follow tokens: the secret each acknowledgement gives a reporter, which alone opens the
//! updates on that report (over WebSocket `follow` and `GET /api/v1/reports/{id}/updates`).
//!
//! A token is `vft_<report id>.<256 random bits>`: it names its report, so that checking it is
//! one lookup by id, and the hub keeps only its SHA-256, in the report's own row (a retry's
//! fresh token goes beside it), so that issuing one costs the intake no index of its own.

use crate::problem::{ErrorCode, Problem};
use crate::secret;

const PREFIX: &str = "vft_";
/// Reports one `follow` frame may name.
pub const MAX_FOLLOWED: usize = 100;
/// Characters of 32 random bytes in unpadded base64url.
const SECRET_CHARS: usize = 43;

/// A token as given to the reporter, and what the hub keeps of it.
#[derive(Debug, Clone)]
pub struct FollowToken {
    pub token: String,
    pub hash: Vec<u8>,
}

/// A new token for report `report_id`.
pub fn issue(report_id: &str) -> FollowToken {
    let token = secret::new(&format!("{PREFIX}{report_id}."));
    FollowToken {
        hash: secret::hash(&token),
        token,
    }
}

/// A token that names a report, and its hash: what the store checks.
#[derive(Debug, Clone)]
pub struct Presented {
    pub report_id: String,
    pub hash: Vec<u8>,
}

/// Reads a token's report id and hash, after checking its shape.
pub fn present(token: &str, field: &str) -> Result<Presented, Problem> {
    let named = token
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.rsplit_once('.'))
        .filter(|(id, secret)| {
            secret.len() == SECRET_CHARS
                && (1..=64).contains(&id.len())
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    let Some((report_id, _)) = named else {
        return Err(wrong_token(field));
    };
    if !secret::looks_like(token, &format!("{PREFIX}{report_id}.")) {
        return Err(wrong_token(field));
    }
    Ok(Presented {
        report_id: report_id.to_owned(),
        hash: secret::hash(token),
    })
}

/// The tokens of a `follow` frame, after checking their shape and number.
pub fn present_all(tokens: &[String], field: &str) -> Result<Vec<Presented>, Problem> {
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
        .map(|(n, token)| present(token, &format!("{field}[{n}]")))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_report_and_only_a_well_formed_one_is_read() {
        let issued = issue("019a2b3c-0000-7000-8000-000000000001");

        let presented = present(&issued.token, "tokens[0]").unwrap();

        assert_eq!(presented.report_id, "019a2b3c-0000-7000-8000-000000000001");
        assert_eq!(presented.hash, issued.hash);
        for forged in [
            "vft_".to_owned(),
            format!("vft_{}", "A".repeat(43)),
            issued.token.replace('.', "_"),
            format!("{}x", issued.token),
            issued.token.replacen("vft_", "vdt_", 1),
        ] {
            assert_eq!(
                present(&forged, "t").unwrap_err().code,
                ErrorCode::Unauthorized
            );
        }
    }
}
