//! Where an outbound delivery goes: a webhook, a browser, a mailbox or a chat, as stored with
//! its subscription.

use serde::{Deserialize, Serialize};

use super::outbox::OutboundChannel;

/// Where a subscription's deliveries go; personal data for citizens' subscriptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", try_from = "FlatTarget")]
pub enum Target {
    Webhook {
        url: String,
        /// The Standard Webhooks secret, `whsec_` and base64.
        secret: String,
    },
    #[serde(rename = "webpush")]
    WebPush {
        endpoint: String,
        /// The browser's P-256 public key and auth secret, base64url as the browser gives them.
        p256dh: String,
        auth: String,
    },
    Email {
        address: String,
    },
    /// A Telegram chat: a person's private chat, or a group or channel an admin configured.
    Telegram {
        chat_id: String,
    },
    /// A person's WhatsApp number (their `wa_id`, digits with the country code).
    #[serde(rename = "whatsapp")]
    WhatsApp {
        chat_id: String,
    },
}

/// A target as stored, read in one pass. Serde reads an internally tagged enum by first
/// copying every field aside, and the outbox reads a target for every delivery it sends. It
/// reads what `Target` writes; hand-made JSON fares a little differently (a `null` field counts
/// as missing, and a field of another kind must still be a string).
#[derive(Deserialize)]
struct FlatTarget {
    /// A target's kind is its channel's name.
    #[serde(rename = "type")]
    kind: OutboundChannel,
    url: Option<String>,
    secret: Option<String>,
    endpoint: Option<String>,
    p256dh: Option<String>,
    auth: Option<String>,
    address: Option<String>,
    chat_id: Option<String>,
}

impl TryFrom<FlatTarget> for Target {
    type Error = String;

    fn try_from(flat: FlatTarget) -> Result<Target, String> {
        let need = |field: Option<String>, name: &str| {
            field.ok_or_else(|| format!("missing field `{name}`"))
        };
        Ok(match flat.kind {
            OutboundChannel::Webhook => Target::Webhook {
                url: need(flat.url, "url")?,
                secret: need(flat.secret, "secret")?,
            },
            OutboundChannel::WebPush => Target::WebPush {
                endpoint: need(flat.endpoint, "endpoint")?,
                p256dh: need(flat.p256dh, "p256dh")?,
                auth: need(flat.auth, "auth")?,
            },
            OutboundChannel::Email => Target::Email {
                address: need(flat.address, "address")?,
            },
            OutboundChannel::Telegram => Target::Telegram {
                chat_id: need(flat.chat_id, "chat_id")?,
            },
            OutboundChannel::WhatsApp => Target::WhatsApp {
                chat_id: need(flat.chat_id, "chat_id")?,
            },
        })
    }
}

impl Target {
    /// A group or channel (negative id or `@name`) rather than a person: nobody in it can
    /// unsubscribe it, and it is paced per minute.
    pub fn is_shared_chat(&self) -> bool {
        matches!(self, Target::Telegram { chat_id } if chat_id.starts_with('-') || chat_id.starts_with('@'))
    }

    /// The chat this target is, for the chat services.
    pub fn chat_id(&self) -> Option<&str> {
        match self {
            Target::Telegram { chat_id } | Target::WhatsApp { chat_id } => Some(chat_id),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_target_reads_back_as_it_was_stored_and_a_missing_field_is_named() {
        let targets = [
            Target::Webhook {
                url: "https://example.org/hook".into(),
                secret: "whsec_c2VjcmV0".into(),
            },
            Target::WebPush {
                endpoint: "https://push.example.org/x".into(),
                p256dh: "BKey".into(),
                auth: "auth".into(),
            },
            Target::Email {
                address: "anna@example.org".into(),
            },
            Target::Telegram {
                chat_id: "-100".into(),
            },
            Target::WhatsApp {
                chat_id: "393331234567".into(),
            },
        ];
        for target in targets {
            let stored = serde_json::to_string(&target).unwrap();
            assert_eq!(serde_json::from_str::<Target>(&stored).unwrap(), target);
        }
        let missing = serde_json::from_str::<Target>(r#"{"type":"webhook","url":"https://x"}"#);
        assert!(missing.unwrap_err().to_string().contains("`secret`"));
    }

    #[test]
    fn targets_are_stored_with_the_field_names_the_subscription_indexes_read() {
        let stored = [
            (
                r#"{"type":"webhook","url":"https://example.org/h","secret":"whsec_c2VjcmV0"}"#,
                Target::Webhook {
                    url: "https://example.org/h".into(),
                    secret: "whsec_c2VjcmV0".into(),
                },
            ),
            (
                r#"{"type":"webpush","endpoint":"https://push.example.org/x","p256dh":"BKey","auth":"a"}"#,
                Target::WebPush {
                    endpoint: "https://push.example.org/x".into(),
                    p256dh: "BKey".into(),
                    auth: "a".into(),
                },
            ),
            (
                r#"{"type":"email","address":"anna@example.org"}"#,
                Target::Email {
                    address: "anna@example.org".into(),
                },
            ),
            (
                r#"{"type":"telegram","chat_id":"-100"}"#,
                Target::Telegram {
                    chat_id: "-100".into(),
                },
            ),
            (
                r#"{"type":"whatsapp","chat_id":"393331234567"}"#,
                Target::WhatsApp {
                    chat_id: "393331234567".into(),
                },
            ),
        ];
        for (json, target) in stored {
            assert_eq!(serde_json::to_string(&target).unwrap(), json);
            assert_eq!(serde_json::from_str::<Target>(json).unwrap(), target);
        }
    }
}
