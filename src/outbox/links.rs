//! The links sent out with deliveries: the notice on the office's own page, its CAP document,
//! and the confirm and unsubscribe links of e-mail subscriptions, whose tokens are keyed
//! hashes of the subscription id, so the database holds no usable secret.

use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// File of the key, in the data directory.
const LINK_KEY_FILE: &str = "outbox-link-key";

/// What a link token can do; a token for one purpose does nothing for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    Confirm,
    Unsubscribe,
}

impl LinkPurpose {
    fn label(self) -> &'static str {
        match self {
            LinkPurpose::Confirm => "confirm",
            LinkPurpose::Unsubscribe => "unsubscribe",
        }
    }
}

/// The office's key for link tokens.
pub struct LinkKey {
    key: [u8; 32],
}

impl LinkKey {
    /// Loads the key from `data_dir`, or makes one there.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<LinkKey> {
        let path = data_dir.join(LINK_KEY_FILE);
        if path.exists() {
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let key = bytes
                .try_into()
                .map_err(|_| anyhow::anyhow!("{} must hold exactly 32 bytes", path.display()))?;
            return Ok(LinkKey { key });
        }
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the operating system provides randomness");
        crate::secret::write_private_file(&path, &key)?;
        Ok(LinkKey { key })
    }

    pub fn token(&self, purpose: LinkPurpose, subscription_id: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(purpose, subscription_id).finalize().into_bytes())
    }

    /// Whether `token` was made by [`LinkKey::token`] for this purpose and subscription
    /// (compared in constant time).
    pub fn verify(&self, purpose: LinkPurpose, subscription_id: &str, token: &str) -> bool {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(token) else {
            return false;
        };
        self.mac(purpose, subscription_id)
            .verify_slice(&bytes)
            .is_ok()
    }

    fn mac(&self, purpose: LinkPurpose, subscription_id: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(purpose.label().as_bytes());
        mac.update(b":");
        mac.update(subscription_id.as_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_token_opens_only_its_own_subscription_and_purpose() {
        let dir = tempfile::tempdir().unwrap();
        let key = LinkKey::load_or_create(dir.path()).unwrap();
        let token = key.token(LinkPurpose::Unsubscribe, "sub-1");

        assert!(key.verify(LinkPurpose::Unsubscribe, "sub-1", &token));
        assert!(!key.verify(LinkPurpose::Unsubscribe, "sub-2", &token));
        assert!(!key.verify(LinkPurpose::Confirm, "sub-1", &token));
        let reloaded = LinkKey::load_or_create(dir.path()).unwrap();
        assert!(
            reloaded.verify(LinkPurpose::Unsubscribe, "sub-1", &token),
            "the key survives a restart"
        );
    }
}
