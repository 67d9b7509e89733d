//! Sending on Telegram through the outbox: a conversation's answers with their keyboards,
//! notices to subscribed chats and configured channels, reporters' news; paced to the Bot
//! API's limits (overall, per person, per group) so that Telegram rarely has to say 429, and
//! honouring its `retry_after` when it does.

use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, RateLimiter};
use serde_json::{Value, json};

use super::api::{ApiError, BotApi, OutgoingMessage};
use crate::channels::chat_text::{cut_keeping_links, cut_to_length};
use crate::channels::email::plain_text;
use crate::channels::pacing::{Pacer, evenly, quota};
use crate::config::TelegramConfig;
use crate::model::{ChatMessage, OutboundChannel, Outcome, Target};
use crate::outbox::{Content, Courier, Parcel};

/// Telegram's longest message, in UTF-16 code units; longer text is cut at a line.
const MAX_TEXT_UNITS: usize = 4096;

pub struct TelegramCourier {
    api: BotApi,
    office: String,
    concurrency: usize,
    overall: Pacer,
    per_person: DefaultKeyedRateLimiter<String>,
    per_group: DefaultKeyedRateLimiter<String>,
}

impl TelegramCourier {
    pub fn new(api: BotApi, config: &TelegramConfig, office: String) -> TelegramCourier {
        TelegramCourier {
            api,
            office,
            concurrency: (config.messages_per_second as usize).clamp(1, 64),
            overall: Pacer::new(evenly(1.0, config.messages_per_second)),
            per_person: RateLimiter::keyed(quota(evenly(1.0, config.per_chat_per_second))),
            per_group: RateLimiter::keyed(quota(evenly(60.0, config.per_group_per_minute))),
        }
    }

    /// Waits for this chat's turn, then for the bot's.
    async fn paced(&self, chat_id: &str, shared: bool) {
        let key = chat_id.to_owned();
        if shared {
            self.per_group.until_key_ready(&key).await;
        } else {
            self.per_person.until_key_ready(&key).await;
        }
        self.overall.turn().await;
    }

    /// Forgets chats whose pace has fully recovered, so the key maps stay small.
    fn prune(&self) {
        self.per_person.retain_recent();
        self.per_group.retain_recent();
    }
}

impl Courier for TelegramCourier {
    fn channel(&self) -> OutboundChannel {
        OutboundChannel::Telegram
    }

    fn concurrency(&self) -> usize {
        self.concurrency
    }

    async fn send(&self, parcel: &Parcel) -> Outcome {
        let Target::Telegram { chat_id } = &parcel.target else {
            return Outcome::Failed {
                error: "not a Telegram chat".into(),
            };
        };
        let (text, reply_markup) = match &parcel.content {
            Content::Chat(message) => (message.text.clone(), keyboard(message)),
            Content::Confirm { .. } => {
                return Outcome::Failed {
                    error: "chats need no confirmation".into(),
                };
            }
            _ => {
                let plain = plain_text(parcel, &self.office);
                let text =
                    cut_keeping_links(&plain.words, &plain.links, MAX_TEXT_UNITS, char::len_utf16);
                (text, None)
            }
        };
        let text = within_limit(&text);
        self.paced(chat_id, parcel.target.is_shared_chat()).await;
        if self.per_person.len() > 10_000 {
            self.prune();
        }
        let message = OutgoingMessage {
            chat_id,
            text: &text,
            reply_markup,
            link_preview_options: json!({ "is_disabled": true }),
        };
        match self.api.send_message(&message).await {
            Ok(()) => Outcome::Delivered,
            Err(err) => {
                // Telegram's flood limit is the bot's: every sender waits, not only this one.
                if let ApiError::Refused {
                    code: 429,
                    retry_after,
                    ..
                } = &err
                {
                    self.overall
                        .hold(Duration::from_secs(retry_after.unwrap_or(1)));
                }
                outcome_of(err)
            }
        }
    }
}

/// Buttons under the message, or the keyboard that shares a position.
fn keyboard(message: &ChatMessage) -> Option<Value> {
    if let Some(label) = &message.ask_location {
        return Some(json!({
            "keyboard": [[{ "text": label, "request_location": true }]],
            "resize_keyboard": true,
            "one_time_keyboard": true,
        }));
    }
    if message.buttons.is_empty() {
        return None;
    }
    let rows: Vec<Vec<Value>> = message
        .buttons
        .iter()
        .map(|row| {
            row.iter()
                .map(|button| json!({ "text": button.label, "callback_data": button.data }))
                .collect()
        })
        .collect();
    Some(json!({ "inline_keyboard": rows }))
}

/// The text cut to Telegram's length, which counts UTF-16 code units.
fn within_limit(text: &str) -> String {
    cut_to_length(text, MAX_TEXT_UNITS, char::len_utf16)
}

/// What Telegram's answer means for the delivery.
fn outcome_of(err: ApiError) -> Outcome {
    let error = err.to_string();
    match err {
        ApiError::Refused {
            code: 429,
            retry_after,
            ..
        } => Outcome::Retry {
            error,
            after: Some(Duration::from_secs(retry_after.unwrap_or(1))),
        },
        // The person blocked the bot, or the bot was removed from the group.
        ApiError::Refused { code: 403, .. } => Outcome::Gone { error },
        ApiError::Refused {
            code: 400,
            description,
            ..
        } if description.contains("chat not found") => Outcome::Gone { error },
        ApiError::Refused { code: 400, .. } => Outcome::Failed { error },
        // A wrong token (401, 404) is the office's to fix: kept, and tried again until it is.
        ApiError::Refused { .. } | ApiError::Unreachable(_) => {
            Outcome::Retry { error, after: None }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_notice_is_cut_at_a_line_within_telegrams_limit() {
        let text = "una riga di avviso\n".repeat(400);
        let cut = within_limit(&text);
        assert!(cut.encode_utf16().count() <= MAX_TEXT_UNITS);
        assert!(cut.ends_with("\n…"));
        let endless = "è".repeat(5000);
        let cut = within_limit(&endless);
        assert_eq!(cut.encode_utf16().count(), MAX_TEXT_UNITS - 1);
    }

    #[test]
    fn a_blocked_bot_removes_the_destination_and_429_waits_as_told() {
        let refused = |code, description: &str, retry_after| ApiError::Refused {
            code,
            description: description.into(),
            retry_after,
        };
        assert!(matches!(
            outcome_of(refused(403, "Forbidden: bot was blocked by the user", None)),
            Outcome::Gone { .. }
        ));
        assert_eq!(
            outcome_of(refused(429, "Too Many Requests: retry after 7", Some(7))),
            Outcome::Retry {
                error: "Telegram answered 429: Too Many Requests: retry after 7".into(),
                after: Some(Duration::from_secs(7)),
            }
        );
        assert!(matches!(
            outcome_of(refused(400, "Bad Request: chat not found", None)),
            Outcome::Gone { .. }
        ));
        assert!(matches!(
            outcome_of(refused(400, "Bad Request: message is too long", None)),
            Outcome::Failed { .. }
        ));
    }
}
