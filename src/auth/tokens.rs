//! Login tokens: 256 random bits for the client, only their SHA-256 in the database.

use base64::Engine;
use sha2::{Digest, Sha256};

const PREFIX: &str = "vdt_";

/// A new bearer token, shown to the client once.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// What is stored and looked up: a leaked database does not leak usable tokens.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Cheap shape check before any database work.
pub fn looks_like_token(token: &str) -> bool {
    token.len() == PREFIX.len() + 43 && token.starts_with(PREFIX)
}
