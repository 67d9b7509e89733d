//! Password hashing with argon2id (OWASP parameters: 19 MiB, 2 passes, 1 lane).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::problem::{ErrorCode, Problem};

const MIN_PASSWORD_CHARS: usize = 12;
const MAX_PASSWORD_BYTES: usize = 1024;

/// Refuses passwords too short to resist guessing, or too long to hash cheaply.
pub fn check_password_strength(password: &str) -> Result<(), Problem> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            "password",
            format!(
                "the password has {chars} characters; use at least {MIN_PASSWORD_CHARS} (a few unrelated words work well)"
            ),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(Problem::with_field(
            ErrorCode::TooLong,
            "password",
            format!("the password is longer than {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// An argon2id PHC string with a fresh random salt. CPU-heavy: call it off the async workers.
pub fn hash(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system provides randomness");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters accepts any password")
        .to_string()
}

/// Checks `password` against a stored PHC string. CPU-heavy, like [`hash`].
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a password nobody has, verified when a user name is unknown so that a wrong name
/// takes as long to refuse as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("decoy password that matches nothing"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_argon2id_salted_and_verifies_only_the_right_password() {
        let first = hash("correct horse battery staple");
        let second = hash("correct horse battery staple");

        assert!(first.starts_with("$argon2id$"));
        assert_ne!(first, second, "each hash has its own salt");
        assert!(verify("correct horse battery staple", &first));
        assert!(!verify("correct horse battery stapler", &first));
        assert!(!verify("anything", "not a phc string"));
    }
}
