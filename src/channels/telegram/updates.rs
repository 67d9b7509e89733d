//! Telegram updates as the Bot API sends them, and what each means to the conversation: a
//! command, text, a position, a pressed button, a photo (downloaded within the report's limit),
//! or something the bot cannot read.

use serde::Deserialize;

use super::api::{ApiError, BotApi};
use crate::model::{ChatInput, ChatRef, ChatService, IncomingChat, Location, Photo, PhotoRefusal};

#[derive(Debug, Deserialize)]
pub struct Update {
    pub update_id: i64,
    pub message: Option<Message>,
    pub callback_query: Option<CallbackQuery>,
}

#[derive(Debug, Deserialize)]
pub struct Message {
    pub from: Option<User>,
    pub chat: Chat,
    pub text: Option<String>,
    pub location: Option<TelegramLocation>,
    pub photo: Option<Vec<PhotoSize>>,
}

#[derive(Debug, Deserialize)]
pub struct User {
    pub language_code: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Chat {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Deserialize)]
pub struct TelegramLocation {
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Debug, Deserialize)]
pub struct PhotoSize {
    pub file_id: String,
    pub file_size: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    pub id: String,
    pub from: User,
    pub message: Option<CallbackMessage>,
    pub data: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CallbackMessage {
    pub chat: Chat,
}

/// Reads an update for the conversation; `None` for what is not a person's private chat
/// (groups and channels only receive the office's notices).
pub(super) async fn incoming(
    update: Update,
    api: &BotApi,
    photo_limit: usize,
) -> Option<IncomingChat> {
    let update_key = update.update_id.to_string();
    if let Some(callback) = update.callback_query {
        // The spinner on the button stops whatever becomes of the press.
        let _ = api.answer_callback(&callback.id).await;
        let chat = callback.message?.chat;
        return (chat.kind == "private").then(|| IncomingChat {
            chat: chat_ref(chat.id),
            update_key,
            language_hint: callback.from.language_code,
            input: ChatInput::Button(callback.data.unwrap_or_default()),
        });
    }
    let message = update.message?;
    if message.chat.kind != "private" {
        return None;
    }
    let input = input_of(&message, api, photo_limit).await;
    Some(IncomingChat {
        chat: chat_ref(message.chat.id),
        update_key,
        language_hint: message.from.and_then(|from| from.language_code),
        input,
    })
}

fn chat_ref(id: i64) -> ChatRef {
    ChatRef {
        service: ChatService::Telegram,
        chat_id: id.to_string(),
    }
}

async fn input_of(message: &Message, api: &BotApi, photo_limit: usize) -> ChatInput {
    if let Some(text) = &message.text {
        return ChatInput::of_text(text);
    }
    if let Some(location) = &message.location {
        let point = Location {
            lat: location.latitude,
            lon: location.longitude,
        };
        let on_earth = (-90.0..=90.0).contains(&point.lat) && (-180.0..=180.0).contains(&point.lon);
        return if on_earth {
            ChatInput::Location(point)
        } else {
            ChatInput::Unsupported
        };
    }
    if let Some(sizes) = &message.photo {
        return photo_input(sizes, api, photo_limit).await;
    }
    ChatInput::Unsupported
}

/// The largest size of the photo that fits the limit: Telegram sends every photo in several
/// sizes, largest last, so a big original still arrives as a smaller copy.
async fn photo_input(sizes: &[PhotoSize], api: &BotApi, photo_limit: usize) -> ChatInput {
    let fitting = sizes.iter().rfind(|size| {
        size.file_size
            .is_none_or(|bytes| bytes <= photo_limit as u64)
    });
    let Some(size) = fitting else {
        return ChatInput::PhotoRefused(PhotoRefusal::too_large(photo_limit));
    };
    match download(api, &size.file_id, photo_limit).await {
        Ok(data) => match Photo::sniffed(data) {
            Some(photo) => ChatInput::Photo(photo),
            None => ChatInput::PhotoRefused(PhotoRefusal::NotAnImage),
        },
        Err(ApiError::Refused { code: 413, .. }) => {
            ChatInput::PhotoRefused(PhotoRefusal::too_large(photo_limit))
        }
        Err(err) => {
            tracing::warn!(%err, "a photo sent in a chat could not be downloaded");
            ChatInput::PhotoRefused(PhotoRefusal::NotDownloaded)
        }
    }
}

async fn download(api: &BotApi, file_id: &str, limit: usize) -> Result<Vec<u8>, ApiError> {
    let file = api.get_file(file_id).await?;
    let Some(path) = file.file_path else {
        return Err(ApiError::Unreachable(
            "the file has no download path".into(),
        ));
    };
    api.download(&path, limit).await
}
