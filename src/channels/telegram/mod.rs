//! Telegram: the bot's updates in (long polling with the offset kept in the database, or a
//! webhook checked by its secret token) to the conversation engine, and the outbox's courier
//! for everything sent. A thin typed client of our own over reqwest: the bot uses six methods,
//! and a framework (teloxide) would bring its own HTTP stack, dialogue storage and dispatcher
//! that the outbox and the conversation engine already are.

mod api;
mod courier;
mod updates;

use std::time::Duration;

use tokio_util::sync::CancellationToken;

pub use api::{ApiError, BotApi};
pub use courier::TelegramCourier;
pub use updates::Update;

use crate::chat::Conversations;
use crate::config::{TelegramConfig, TelegramMode};
use crate::model::ChatService;

/// The wait after a failed poll, doubled up to the longest.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const LONGEST_BACKOFF: Duration = Duration::from_secs(60);

/// The bot's inbound side: what reads updates and hands them to the conversations.
#[derive(Clone)]
pub struct TelegramBot {
    pub api: BotApi,
    pub conversations: Conversations,
    /// Webhook mode: the secret every request must carry.
    pub webhook_secret: Option<String>,
}

impl TelegramBot {
    pub fn new(
        config: &TelegramConfig,
        conversations: Conversations,
    ) -> anyhow::Result<TelegramBot> {
        let token = config.token.as_deref().unwrap_or_default();
        let poll_timeout = Duration::from_secs(config.poll_timeout_secs);
        Ok(TelegramBot {
            api: BotApi::new(&config.api_url, token, poll_timeout)?,
            conversations,
            webhook_secret: (config.mode == TelegramMode::Webhook)
                .then(|| config.webhook_secret.clone())
                .flatten(),
        })
    }

    /// Hands one update to the conversation engine.
    pub async fn take(&self, update: Update) -> Result<(), crate::problem::Problem> {
        let key = update.update_id.to_string();
        if self
            .conversations
            .already_taken(ChatService::Telegram, &key)
            .await?
        {
            return Ok(());
        }
        let limit = self.conversations.photo_limit();
        match updates::incoming(update, &self.api, limit).await {
            Some(incoming) => self.conversations.receive(incoming).await,
            None => Ok(()),
        }
    }

    /// Whether a webhook request carries the configured secret (compared in constant time).
    pub fn webhook_secret_matches(&self, given: Option<&[u8]>) -> bool {
        let (Some(expected), Some(given)) = (self.webhook_secret.as_deref(), given) else {
            return false;
        };
        crate::secret::equal(given, expected.as_bytes())
    }
}

/// Runs the bot's inbound side until shutdown: long polling, or registering the webhook.
pub async fn serve(bot: TelegramBot, config: TelegramConfig, shutdown: CancellationToken) {
    match config.mode {
        TelegramMode::Poll => {
            poll(bot, Duration::from_secs(config.poll_timeout_secs), shutdown).await;
        }
        TelegramMode::Webhook => {
            let (Some(url), Some(secret)) = (&config.webhook_url, &config.webhook_secret) else {
                return;
            };
            if let Err(err) = bot.api.set_webhook(url, secret).await {
                tracing::error!(%err, "cannot register the Telegram webhook; register it by hand or check telegram.webhook_url");
            }
        }
    }
}

/// Long polling: each update is handed on, then the offset moves past it in the database, so
/// a restart neither loses one nor (the conversation recognises it) answers one twice.
async fn poll(bot: TelegramBot, timeout: Duration, shutdown: CancellationToken) {
    let mut backoff = FIRST_BACKOFF;
    if let Err(err) = bot.api.delete_webhook().await {
        tracing::warn!(%err, "cannot remove a Telegram webhook before polling");
    }
    while !shutdown.is_cancelled() {
        let offset = match bot.conversations.poll_offset(ChatService::Telegram).await {
            Ok(offset) => offset,
            Err(problem) => {
                tracing::error!(message = %problem.message, "cannot read the Telegram offset");
                None
            }
        };
        let polled = tokio::select! {
            polled = bot.api.get_updates(offset, timeout) => polled,
            () = shutdown.cancelled() => return,
        };
        let taken = match polled {
            Ok(updates) => Ok(take_all(&bot, updates).await),
            Err(err) => Err(err),
        };
        match taken {
            Ok(true) => backoff = FIRST_BACKOFF,
            Ok(false) => {
                backoff = (backoff * 2).min(LONGEST_BACKOFF);
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = shutdown.cancelled() => return,
                }
            }
            Err(err) => {
                let wait = match &err {
                    ApiError::Refused {
                        retry_after: Some(seconds),
                        ..
                    } => Duration::from_secs(*seconds),
                    _ => backoff,
                };
                tracing::warn!(%err, "Telegram polling failed; trying again");
                backoff = (backoff * 2).min(LONGEST_BACKOFF);
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = shutdown.cancelled() => return,
                }
            }
        }
    }
}

/// Takes updates in order; false when one could not be taken (it is not confirmed, so the
/// next poll brings it again).
async fn take_all(bot: &TelegramBot, updates: Vec<Update>) -> bool {
    for update in updates {
        let next = update.update_id + 1;
        if let Err(problem) = bot.take(update).await {
            tracing::error!(message = %problem.message, "a Telegram update could not be taken in");
            return false;
        }
        if let Err(problem) = bot.conversations.polled(ChatService::Telegram, next).await {
            tracing::error!(message = %problem.message, "cannot record the Telegram offset");
            return false;
        }
    }
    true
}
