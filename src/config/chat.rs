//! Settings of the chat services: the Telegram bot, how it receives updates, and the service's
//! sending limits the outbox paces itself to.

use serde::{Deserialize, Serialize};

/// How the bot receives updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TelegramMode {
    /// `getUpdates` long polling: works behind NAT with no public address.
    Poll,
    /// Telegram posts updates to `/chat/telegram/webhook`, checked with `webhook_secret`.
    Webhook,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramConfig {
    /// Hold conversations and send notices on Telegram. Off until a bot token is set.
    pub enabled: bool,
    /// The bot's token from @BotFather; better given as `VEDETTA_TELEGRAM__TOKEN`.
    pub token: Option<String>,
    /// The Bot API server: Telegram's, or the office's own `telegram-bot-api`.
    pub api_url: String,
    pub mode: TelegramMode,
    /// Webhook mode: the secret Telegram sends in `X-Telegram-Bot-Api-Secret-Token` (1 to 256
    /// of `A-Z a-z 0-9 _ -`); every request without it is refused.
    pub webhook_secret: Option<String>,
    /// Webhook mode: register this URL with `setWebhook` at start (the hub's public address
    /// followed by `/chat/telegram/webhook`). Unset: the office registers it itself.
    pub webhook_url: Option<String>,
    /// Long polling: how long one `getUpdates` waits for news.
    pub poll_timeout_secs: u64,
    /// Messages per second to all chats together (Telegram: about 30).
    pub messages_per_second: u32,
    /// Messages per second to one person's chat (Telegram: 1).
    pub per_chat_per_second: u32,
    /// Messages per minute to one group or channel (Telegram: 20).
    pub per_group_per_minute: u32,
    /// Telegram channels and groups the office posts every notice to, per zone and severity.
    pub channels: Vec<TelegramChannel>,
}

/// A channel or group that receives the office's notices (the bot must be an admin of it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramChannel {
    /// `@channelname`, or a group's or channel's numeric id (`-100…`).
    pub chat_id: String,
    /// Zone ids whose notices it gets; empty: every zone.
    #[serde(default)]
    pub zones: Vec<String>,
    /// CAP severities it gets (`Extreme`, `Severe`…); unset: all.
    #[serde(default)]
    pub severities: Option<Vec<String>>,
    /// What the office calls it, for the notice's "why you get this".
    #[serde(default)]
    pub label: Option<String>,
}

impl Default for TelegramConfig {
    fn default() -> TelegramConfig {
        TelegramConfig {
            enabled: false,
            token: None,
            api_url: "https://api.telegram.org".into(),
            mode: TelegramMode::Poll,
            webhook_secret: None,
            webhook_url: None,
            poll_timeout_secs: 25,
            messages_per_second: 30,
            per_chat_per_second: 1,
            per_group_per_minute: 20,
            channels: Vec::new(),
        }
    }
}

impl TelegramConfig {
    /// A bot that is on has a token, a usable API address and limits, and in webhook mode a
    /// secret Telegram accepts.
    pub(super) fn check(&self) -> Result<(), (&'static str, &'static str)> {
        if !self.enabled {
            return Ok(());
        }
        let token_ok = self.token.as_deref().is_some_and(|token| {
            !token.is_empty()
                && token
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-'))
        });
        if !token_ok {
            return Err((
                "telegram.token",
                "must be the bot's token from @BotFather, such as 123456:ABC-DEF...",
            ));
        }
        let api_ok = url::Url::parse(&self.api_url)
            .is_ok_and(|url| matches!(url.scheme(), "http" | "https"));
        if !api_ok {
            return Err((
                "telegram.api_url",
                "must be an http(s) URL such as https://api.telegram.org",
            ));
        }
        if self.messages_per_second == 0
            || self.per_chat_per_second == 0
            || self.per_group_per_minute == 0
        {
            return Err((
                "telegram.messages_per_second",
                "the sending limits must be at least 1",
            ));
        }
        let is_group = |id: &str| {
            id.strip_prefix('@').is_some_and(|name| {
                name.len() >= 5 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            }) || id.strip_prefix('-').is_some_and(|digits| {
                !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
            })
        };
        if !self
            .channels
            .iter()
            .all(|channel| is_group(&channel.chat_id))
        {
            return Err((
                "telegram.channels",
                "each chat_id is a channel's @name or a group's or channel's negative id",
            ));
        }
        let severity_ok = |s: &String| crate::cap::Severity::parse(s, "severities").is_ok();
        let severities_ok = self
            .channels
            .iter()
            .all(|channel| channel.severities.iter().flatten().all(severity_ok));
        if !severities_ok {
            return Err((
                "telegram.channels",
                "severities are CAP severities: Extreme, Severe, Moderate, Minor, Unknown",
            ));
        }
        if self.mode == TelegramMode::Webhook {
            let secret_ok = self.webhook_secret.as_deref().is_some_and(|secret| {
                (1..=256).contains(&secret.len())
                    && secret
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
            });
            if !secret_ok {
                return Err((
                    "telegram.webhook_secret",
                    "webhook mode needs a secret of 1 to 256 letters, digits, '_' or '-'",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bot_with(channel: TelegramChannel) -> TelegramConfig {
        TelegramConfig {
            enabled: true,
            token: Some("123:abc".into()),
            channels: vec![channel],
            ..TelegramConfig::default()
        }
    }

    fn channel(chat_id: &str, severities: Option<Vec<String>>) -> TelegramChannel {
        TelegramChannel {
            chat_id: chat_id.into(),
            zones: Vec::new(),
            severities,
            label: None,
        }
    }

    #[test]
    fn a_channel_is_named_by_its_at_name_or_negative_id_with_cap_severities() {
        assert!(bot_with(channel("@allerte_demo", None)).check().is_ok());
        assert!(
            bot_with(channel("-1001234567890", Some(vec!["Severe".into()])))
                .check()
                .is_ok()
        );
        let person = bot_with(channel("4242", None)).check();
        assert_eq!(person.unwrap_err().0, "telegram.channels");
        let shouted = bot_with(channel("@allerte_demo", Some(vec!["SEVERE".into()]))).check();
        assert_eq!(shouted.unwrap_err().0, "telegram.channels");
    }
}
