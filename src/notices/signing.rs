//! The office's Ed25519 notice-signing key: made on first start, kept in the data dir.

use std::path::Path;

use anyhow::Context;
use base64::Engine;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signer as _, SigningKey};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// File name of the private key (PKCS#8 PEM, readable by the hub's user only).
pub const KEY_FILE: &str = "notice-signing-key.pem";

/// Signs notice payloads. Cheap to share: the key never leaves this struct.
pub struct Signer {
    key: SigningKey,
    key_id: String,
}

/// A signature as it travels in a notice frame.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureView {
    pub alg: &'static str,
    pub kid: String,
    /// Standard base64 of the 64-byte Ed25519 signature over the exact bytes of `notice`.
    pub value: String,
}

/// The public half, as `GET /api/v1/keys` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PublicKeyView {
    pub kid: String,
    pub alg: &'static str,
    /// Standard base64 of the 32-byte public key.
    pub public_key: String,
    /// SubjectPublicKeyInfo PEM, for `openssl pkeyutl -verify`.
    pub pem: String,
}

impl Signer {
    /// Loads the key from `data_dir`, or makes one there if it has none yet.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Signer> {
        let path = data_dir.join(KEY_FILE);
        let key = if path.exists() {
            let pem = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            SigningKey::from_pkcs8_pem(&pem).map_err(|err| {
                anyhow::anyhow!("{} is not an Ed25519 PKCS#8 key: {err}", path.display())
            })?
        } else {
            let key = generate();
            write_private(&path, &key)?;
            tracing::info!(path = %path.display(), "created the notice-signing key; back it up with the database");
            key
        };
        Ok(Signer::from_key(key))
    }

    fn from_key(key: SigningKey) -> Signer {
        let digest = Sha256::digest(key.verifying_key().as_bytes());
        let key_id = digest[..8]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        Signer { key, key_id }
    }

    pub fn sign(&self, payload: &[u8]) -> SignatureView {
        SignatureView {
            alg: "Ed25519",
            kid: self.key_id.clone(),
            value: base64::engine::general_purpose::STANDARD
                .encode(self.key.sign(payload).to_bytes()),
        }
    }

    pub fn public_key(&self) -> PublicKeyView {
        let verifying = self.key.verifying_key();
        PublicKeyView {
            kid: self.key_id.clone(),
            alg: "Ed25519",
            public_key: base64::engine::general_purpose::STANDARD.encode(verifying.as_bytes()),
            pem: verifying
                .to_public_key_pem(LineEnding::LF)
                .expect("an Ed25519 key encodes"),
        }
    }
}

fn generate() -> SigningKey {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("the operating system provides randomness");
    SigningKey::from_bytes(&seed)
}

fn write_private(path: &Path, key: &SigningKey) -> anyhow::Result<()> {
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .context("encoding the signing key")?;
    crate::secret::write_private_file(path, pem.as_bytes())
}
