//! The chat vocabulary: a chat and what a citizen sends in it, and the messages the bot sends
//! back, independent of the service that carries them.

use serde::{Deserialize, Serialize};

use super::outbox::{OutboundChannel, Target};
use super::report::{Photo, Source};
use crate::zones::Location;

/// A chat service the hub holds conversations on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatService {
    Telegram,
    #[serde(rename = "whatsapp")]
    WhatsApp,
}

impl ChatService {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatService::Telegram => "telegram",
            ChatService::WhatsApp => "whatsapp",
        }
    }

    pub fn parse(value: &str) -> Option<ChatService> {
        [ChatService::Telegram, ChatService::WhatsApp]
            .into_iter()
            .find(|service| service.as_str() == value)
    }

    /// Whether the service limits how often one person may be written to (WhatsApp: one
    /// message every 6 seconds), so that a turn's answers are better sent as one message.
    pub fn prefers_one_answer(self) -> bool {
        self == ChatService::WhatsApp
    }

    pub fn channel(self) -> OutboundChannel {
        match self {
            ChatService::Telegram => OutboundChannel::Telegram,
            ChatService::WhatsApp => OutboundChannel::WhatsApp,
        }
    }

    pub fn source(self) -> Source {
        match self {
            ChatService::Telegram => Source::Telegram,
            ChatService::WhatsApp => Source::WhatsApp,
        }
    }

    /// How long after the person last wrote the office may write freely (WhatsApp: 24 hours);
    /// after it, only an approved template.
    pub fn reply_window(self) -> Option<chrono::Duration> {
        (self == ChatService::WhatsApp).then(|| chrono::Duration::hours(24))
    }

    /// Where the outbox sends to reach `chat_id` on this service.
    pub fn target(self, chat_id: &str) -> Target {
        match self {
            ChatService::Telegram => Target::Telegram {
                chat_id: chat_id.to_owned(),
            },
            ChatService::WhatsApp => Target::WhatsApp {
                chat_id: chat_id.to_owned(),
            },
        }
    }
}

/// One chat on one service. The id is personal data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChatRef {
    pub service: ChatService,
    pub chat_id: String,
}

/// What a citizen sent, as the service's edge understood it.
#[derive(Debug, Clone)]
pub enum ChatInput {
    /// A command (`/start`, `/avvisi`, `/stop`), lowercase, without the slash or a bot name.
    Command(String),
    Text(String),
    Location(Location),
    /// A button pressed (its data).
    Button(String),
    Photo(Photo),
    /// A photo the hub did not take, and why.
    PhotoRefused(PhotoRefusal),
    /// A sticker, a voice note, a document: something the bot cannot read.
    Unsupported,
}

/// Why the hub did not take a photo: the bot says it in the chat's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoRefusal {
    /// Larger than the limit, in KB.
    TooLarge { limit_kb: usize },
    /// Not a JPEG, PNG or WebP image.
    NotAnImage,
    /// The service would not give it to the hub.
    NotDownloaded,
}

/// For the staff's record of a conversation.
impl std::fmt::Display for PhotoRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PhotoRefusal::TooLarge { limit_kb } => write!(f, "larger than {limit_kb} KB"),
            PhotoRefusal::NotAnImage => f.write_str("not a JPEG, PNG or WebP image"),
            PhotoRefusal::NotDownloaded => f.write_str("it could not be downloaded"),
        }
    }
}

impl PhotoRefusal {
    /// Larger than `limit` bytes.
    pub fn too_large(limit: usize) -> PhotoRefusal {
        PhotoRefusal::TooLarge {
            limit_kb: limit / 1024,
        }
    }
}

impl ChatInput {
    /// `/avvisi@vedetta_bot extra` is the command `avvisi`; anything else is text.
    pub fn of_text(text: &str) -> ChatInput {
        let Some(command) = text.trim_start().strip_prefix('/') else {
            return ChatInput::Text(text.trim().to_owned());
        };
        let word = command.split_whitespace().next().unwrap_or_default();
        let name = word.split('@').next().unwrap_or_default();
        ChatInput::Command(name.to_lowercase())
    }
}

/// One update from a chat service.
#[derive(Debug, Clone)]
pub struct IncomingChat {
    pub chat: ChatRef,
    /// The service's id of the update, unique per service: a redelivery carries the same.
    pub update_key: String,
    /// The language the citizen's app is set to, as the service says (`it`, `en-GB`).
    pub language_hint: Option<String>,
    pub input: ChatInput,
}

/// A button under a message: pressed, it comes back as [`ChatInput::Button`] with its data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatButton {
    pub label: String,
    pub data: String,
}

/// A message the bot sends: text (plain, never markup), and the ways to answer it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub text: String,
    /// Rows of buttons under the message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Vec<ChatButton>>,
    /// The label of the service's "share my position" button, offered in place of the
    /// keyboard (and then in place of `buttons`, which a service may not show with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ask_location: Option<String>,
}

impl ChatMessage {
    pub fn text(text: impl Into<String>) -> ChatMessage {
        ChatMessage {
            text: text.into(),
            ..ChatMessage::default()
        }
    }
}
