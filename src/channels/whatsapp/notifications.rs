//! Meta's webhook notifications as the Cloud API posts them, and what each message means to the
//! conversation: text, a position, a reply button or list row, a photo (downloaded within the
//! report's limit), or something the bot cannot read. Statuses of sent messages are read too.

use serde::Deserialize;

use super::api::{ApiError, CloudApi};
use crate::model::{ChatInput, ChatRef, ChatService, IncomingChat, Location, Photo, PhotoRefusal};

#[derive(Debug, Deserialize)]
pub struct Notification {
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub entry: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
pub struct Entry {
    #[serde(default)]
    pub changes: Vec<Change>,
}

#[derive(Debug, Deserialize)]
pub struct Change {
    #[serde(default)]
    pub field: String,
    pub value: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct Value {
    pub metadata: Option<Metadata>,
    #[serde(default)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub statuses: Vec<Status>,
}

#[derive(Debug, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub phone_number_id: String,
}

#[derive(Debug, Deserialize)]
pub struct Message {
    pub from: String,
    pub id: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    pub text: Option<Text>,
    pub location: Option<WhatsAppLocation>,
    pub image: Option<Image>,
    pub interactive: Option<Interactive>,
    /// A template's quick-reply button.
    pub button: Option<TemplateButton>,
}

#[derive(Debug, Deserialize)]
pub struct Text {
    pub body: String,
}

#[derive(Debug, Deserialize)]
pub struct WhatsAppLocation {
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Debug, Deserialize)]
pub struct Image {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub struct Interactive {
    pub button_reply: Option<Reply>,
    pub list_reply: Option<Reply>,
}

#[derive(Debug, Deserialize)]
pub struct Reply {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub struct TemplateButton {
    #[serde(default)]
    pub payload: String,
}

/// What became of a message the hub sent.
#[derive(Debug, Deserialize)]
pub struct Status {
    /// The id Meta gave the message when the hub sent it (`wamid.…`).
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub status: String,
    /// The person the message was for.
    #[serde(default)]
    pub recipient_id: String,
    /// When it happened, in Unix seconds.
    #[serde(default)]
    pub timestamp: String,
    #[serde(default)]
    pub errors: Vec<StatusError>,
}

#[derive(Debug, Deserialize)]
pub struct StatusError {
    #[serde(default)]
    pub code: u64,
}

impl Notification {
    /// The messages people sent to this business number, in order.
    pub fn messages_to(self, phone_number_id: &str) -> impl Iterator<Item = Message> {
        self.values_of(phone_number_id)
            .flat_map(|value| value.messages)
    }

    /// The messages this business number sent that Meta says failed: each status (with the
    /// id Meta gave the message), and its first error code.
    pub fn failures(&self, phone_number_id: &str) -> Vec<(&Status, u64)> {
        let values = self.entry.iter().flat_map(|entry| &entry.changes);
        let ours = values
            .filter(|change| change.field == "messages")
            .filter_map(|change| change.value.as_ref())
            .filter(|value| {
                value
                    .metadata
                    .as_ref()
                    .is_some_and(|meta| meta.phone_number_id == phone_number_id)
            });
        ours.flat_map(|value| &value.statuses)
            .filter(|status| status.status == "failed" && !status.id.is_empty())
            .map(|status| (status, status.errors.first().map_or(0, |error| error.code)))
            .collect()
    }

    fn values_of(self, phone_number_id: &str) -> impl Iterator<Item = Value> {
        let phone_number_id = phone_number_id.to_owned();
        self.entry
            .into_iter()
            .flat_map(|entry| entry.changes)
            .filter(|change| change.field == "messages")
            .filter_map(|change| change.value)
            .filter(move |value| {
                value
                    .metadata
                    .as_ref()
                    .is_some_and(|meta| meta.phone_number_id == phone_number_id)
            })
    }
}

/// Reads a message for the conversation; `None` for one with no sender to answer.
pub(super) async fn incoming(
    message: Message,
    api: &CloudApi,
    photo_limit: usize,
) -> Option<IncomingChat> {
    let wa_id = message.from.clone();
    if !(7..=15).contains(&wa_id.len()) || !wa_id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // A reaction to a message, or WhatsApp's own notice (a changed number): nothing to answer.
    if matches!(message.kind.as_str(), "reaction" | "system") {
        return None;
    }
    let input = input_of(&message, api, photo_limit).await;
    Some(IncomingChat {
        language_hint: Some(language_of_number(&wa_id).into()),
        chat: ChatRef {
            service: ChatService::WhatsApp,
            chat_id: wa_id,
        },
        update_key: message.id,
        input,
    })
}

/// WhatsApp does not say the app's language: an Italian number is greeted in Italian, any
/// other in English (a visitor's phone); either can switch.
fn language_of_number(wa_id: &str) -> &'static str {
    if wa_id.starts_with("39") { "it" } else { "en" }
}

async fn input_of(message: &Message, api: &CloudApi, photo_limit: usize) -> ChatInput {
    match message.kind.as_str() {
        "text" => match &message.text {
            Some(text) => ChatInput::of_text(&text.body),
            None => ChatInput::Unsupported,
        },
        "location" => match &message.location {
            Some(location) => located(location),
            None => ChatInput::Unsupported,
        },
        "interactive" => {
            let interactive = message.interactive.as_ref();
            let reply = interactive.and_then(|i| i.button_reply.as_ref().or(i.list_reply.as_ref()));
            match reply {
                Some(reply) => ChatInput::Button(reply.id.clone()),
                None => ChatInput::Unsupported,
            }
        }
        "button" => match &message.button {
            Some(button) => ChatInput::Button(button.payload.clone()),
            None => ChatInput::Unsupported,
        },
        "image" => match &message.image {
            Some(image) => photo_input(&image.id, api, photo_limit).await,
            None => ChatInput::Unsupported,
        },
        _ => ChatInput::Unsupported,
    }
}

fn located(location: &WhatsAppLocation) -> ChatInput {
    let point = Location {
        lat: location.latitude,
        lon: location.longitude,
    };
    let on_earth = (-90.0..=90.0).contains(&point.lat) && (-180.0..=180.0).contains(&point.lon);
    if on_earth {
        ChatInput::Location(point)
    } else {
        ChatInput::Unsupported
    }
}

/// The photo, downloaded through its media id within the limit and checked to be an image.
async fn photo_input(media_id: &str, api: &CloudApi, photo_limit: usize) -> ChatInput {
    let too_big = || ChatInput::PhotoRefused(PhotoRefusal::too_large(photo_limit));
    let downloaded = async {
        let media = api.media(media_id).await?;
        if media
            .file_size
            .is_some_and(|size| size > photo_limit as u64)
        {
            return Err(ApiError::Refused {
                status: 413,
                code: 0,
                message: String::new(),
            });
        }
        api.download(&media.url, photo_limit).await
    };
    match downloaded.await {
        Ok(data) => match Photo::sniffed(data) {
            Some(photo) => ChatInput::Photo(photo),
            None => ChatInput::PhotoRefused(PhotoRefusal::NotAnImage),
        },
        Err(ApiError::Refused { status: 413, .. }) => too_big(),
        Err(err) => {
            tracing::warn!(%err, "a photo sent on WhatsApp could not be downloaded");
            ChatInput::PhotoRefused(PhotoRefusal::NotDownloaded)
        }
    }
}
