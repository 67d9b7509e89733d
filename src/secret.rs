//! Bearer secrets (login tokens, follow tokens): 256 random bits shown once to their holder,
//! only their SHA-256 stored, so a leaked database leaks no usable secret.

use base64::Engine;
use sha2::{Digest, Sha256};

/// Characters of 32 bytes in unpadded base64url.
const ENCODED_LEN: usize = 43;

/// A new secret, `prefix` followed by 32 random bytes in base64url.
pub fn new(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// What is stored and looked up.
pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Cheap shape check before any database work.
pub fn looks_like(secret: &str, prefix: &str) -> bool {
    secret.len() == prefix.len() + ENCODED_LEN
        && secret.starts_with(prefix)
        && secret[prefix.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Writes a key file with mode 0600 from the start, so it is never readable by others, and
/// refuses to overwrite one that exists.
pub fn write_private_file(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    use anyhow::Context;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// Whether two secrets are equal, taking the same time wherever they differ.
pub fn equal(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}
