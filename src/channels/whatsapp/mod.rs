//! WhatsApp (the Business Cloud API): Meta's webhook in (the subscription handshake, and each
//! notification checked by its `X-Hub-Signature-256` before it is read) to the conversation
//! engine, and the outbox's courier for everything sent. A thin typed client of our own over
//! reqwest: no maintained Rust crate covers the Cloud API's webhooks and templates, and the
//! bot needs four calls.

mod api;
mod courier;
mod messages;
mod notifications;

use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::Semaphore;

pub use api::{ApiError, CloudApi};
pub use courier::WhatsAppCourier;
pub use notifications::Notification;

use crate::chat::Conversations;
use crate::config::WhatsAppConfig;
use crate::model::{ChatRef, ChatService};
use crate::problem::{ErrorCode, Problem};

const READ_RECEIPTS_AT_ONCE: usize = 32;

/// The business number's inbound side: what checks and reads Meta's notifications and hands
/// their messages to the conversations.
#[derive(Clone)]
pub struct WhatsAppBot {
    pub api: CloudApi,
    pub conversations: Conversations,
    phone_number_id: String,
    app_secret: String,
    verify_token: String,
    /// Read receipts on their way at most.
    read_receipts: Arc<Semaphore>,
}

impl WhatsAppBot {
    pub fn new(
        config: &WhatsAppConfig,
        conversations: Conversations,
    ) -> anyhow::Result<WhatsAppBot> {
        let token = config.access_token.as_deref().unwrap_or_default();
        Ok(WhatsAppBot {
            api: CloudApi::new(
                &config.api_url,
                &config.api_version,
                &config.phone_number_id,
                token,
            )?,
            conversations,
            phone_number_id: config.phone_number_id.clone(),
            app_secret: config.app_secret.clone().unwrap_or_default(),
            verify_token: config.verify_token.clone().unwrap_or_default(),
            read_receipts: Arc::new(Semaphore::new(READ_RECEIPTS_AT_ONCE)),
        })
    }

    /// Meta's handshake: the challenge to echo when the mode is `subscribe` and the token is
    /// the office's (compared in constant time).
    pub fn handshake<'a>(
        &self,
        mode: Option<&str>,
        token: Option<&str>,
        challenge: Option<&'a str>,
    ) -> Option<&'a str> {
        let token_ok = token.is_some_and(|token| {
            crate::secret::equal(token.as_bytes(), self.verify_token.as_bytes())
        });
        (mode == Some("subscribe") && token_ok)
            .then_some(challenge)
            .flatten()
    }

    /// Whether `X-Hub-Signature-256` is `sha256=` and the HMAC of these exact bytes with the
    /// app secret.
    pub fn signature_matches(&self, header: Option<&[u8]>, body: &[u8]) -> bool {
        let Some(expected) = header
            .and_then(|value| value.strip_prefix(b"sha256="))
            .and_then(decode_hex)
        else {
            return false;
        };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.app_secret.as_bytes()) else {
            return false;
        };
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    }

    /// Hands each message of a (verified) notification to the conversation engine, in order;
    /// the first the hub could not take fails the whole, so Meta posts it again (the messages
    /// already taken are recognised then).
    pub async fn take(&self, notification: Notification) -> Result<(), Problem> {
        for (status, code) in notification.failures(&self.phone_number_id) {
            tracing::info!(
                code,
                "WhatsApp says a message the hub sent was not delivered"
            );
            if code == courier::OUTSIDE_WINDOW {
                let chat = ChatRef {
                    service: ChatService::WhatsApp,
                    chat_id: status.recipient_id.clone(),
                };
                let failed_at = status
                    .timestamp
                    .parse()
                    .ok()
                    // Meta counts in seconds: the end of that second, so that a message from
                    // the person within it does not keep a window Meta found closed.
                    .and_then(|seconds| chrono::DateTime::from_timestamp(seconds, 999_999_999));
                self.conversations
                    .reply_window_closed(chat, &status.id, failed_at)
                    .await?;
            }
        }
        let limit = self.conversations.photo_limit();
        for message in notification.messages_to(&self.phone_number_id) {
            let message_id = message.id.clone();
            let taken = self
                .conversations
                .already_taken(ChatService::WhatsApp, &message_id);
            if taken.await? {
                continue;
            }
            let Some(incoming) = notifications::incoming(message, &self.api, limit).await else {
                continue;
            };
            self.conversations.receive(incoming).await?;
            self.mark_read(message_id);
        }
        Ok(())
    }

    /// The blue ticks tell the person the office has their message. They cost the turn
    /// nothing, and are skipped while many are still on their way.
    fn mark_read(&self, message_id: String) {
        let Ok(permit) = self.read_receipts.clone().try_acquire_owned() else {
            return;
        };
        let api = self.api.clone();
        tokio::spawn(async move {
            if let Err(err) = api.mark_read(&message_id).await {
                tracing::debug!(%err, "a WhatsApp message could not be marked as read");
            }
            drop(permit);
        });
    }
}

/// Reads a notification's JSON, once its signature held.
pub fn parse(body: &[u8]) -> Result<Notification, Problem> {
    let notification: Notification = serde_json::from_slice(body).map_err(|err| {
        Problem::new(
            ErrorCode::MalformedJson,
            format!("the body is not a WhatsApp notification: {err}"),
        )
    })?;
    if notification.object != "whatsapp_business_account" {
        return Err(Problem::new(
            ErrorCode::InvalidField,
            "the notification's object is not whatsapp_business_account",
        ));
    }
    Ok(notification)
}

fn decode_hex(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}
