//! Login tokens: `vdt_` and 256 random bits for the client, only their SHA-256 stored.

use crate::secret;

const PREFIX: &str = "vdt_";

/// A new bearer token, shown to the client once.
pub(super) fn new_token() -> String {
    secret::new(PREFIX)
}

/// What is stored and looked up.
pub(super) fn token_hash(token: &str) -> Vec<u8> {
    secret::hash(token)
}

/// Cheap shape check before any database work.
pub(super) fn looks_like_token(token: &str) -> bool {
    secret::looks_like(token, PREFIX)
}
