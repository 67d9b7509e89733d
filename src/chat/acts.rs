//! What a turn does beyond talking: a report through intake, the notices in force at a place,
//! a subscription to a place's notices.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use super::dialog::{ChatPlace, Draft};
use super::{Conversations, replies, words};
use crate::cap::Severity;
use crate::model::{ChatMessage, ChatRef, DeviceId, NoticeArea};
use crate::outbox::{NewSubscription, Place};
use crate::problem::Problem;
use crate::reports::{Origin, RawPhoto, RawSubmission};

/// Notices listed at most for one place; the rest are on the office's page.
const NOTICES_LISTED: usize = 5;

impl Conversations {
    /// Sends the gathered report through intake, as every channel does; returns its id and
    /// the acknowledgement. The report's reference comes from the update that sent it, so a
    /// redelivery of that update finds the same report.
    pub(super) async fn submit(
        &self,
        chat: &ChatRef,
        update_key: &str,
        draft: Draft,
        language: &str,
    ) -> Result<(String, Vec<ChatMessage>), Problem> {
        let origin = Origin {
            source: chat.service.source(),
            peer_ip: None,
            device_id: Some(DeviceId::parse(&chat.chat_id, "chat_id")?),
        };
        let reference = hex(&Sha256::digest(format!(
            "{}:{update_key}",
            chat.service.as_str()
        )));
        let mut text = draft.text;
        if draft.place.by_name {
            text.push_str(words::place_by_name_note(&draft.place.name, language).as_str());
        }
        let raw = RawSubmission {
            client_ref: Some(format!("chat-{}", &reference[..32])),
            device_id: None,
            category: Some(draft.category.clone()),
            lat: Some(draft.place.lat),
            lon: Some(draft.place.lon),
            text: Some(text),
            contact: None,
            photo: draft.photo.map(|photo| RawPhoto {
                content_type: photo.content_type.to_owned(),
                data: STANDARD.encode(&photo.data),
            }),
            media_url: None,
        };
        let receipt = self.inner.intake.submit(origin, raw).await?;
        let rules = self.inner.intake.rules();
        let ack = replies::acknowledgement(
            &receipt,
            rules.targets.of(&draft.category).acknowledge_within,
            (rules.catalog.is_life_safety(&draft.category))
                .then_some(self.inner.settings.emergency_number.as_str()),
            language,
        );
        Ok((receipt.id, ack))
    }

    /// The notices in force whose area covers the place, most severe first, with the button
    /// that subscribes the chat to it.
    pub(super) async fn notices_at(
        &self,
        place: &ChatPlace,
        language: &str,
    ) -> Result<Vec<ChatMessage>, Problem> {
        let zones = self.inner.zones.snapshot();
        let mut here: Vec<_> = self
            .inner
            .notices
            .in_force_with_frames()
            .await?
            .into_iter()
            .map(|(notice, _)| notice)
            .filter(|notice| {
                NoticeArea::of(&notice.content.area, &zones).contains(place.location())
            })
            .collect();
        here.sort_by_key(|notice| {
            Severity::ALL
                .iter()
                .position(|s| *s == notice.content.severity)
        });
        here.truncate(NOTICES_LISTED);
        Ok(replies::notices_here(
            &here,
            &place.name,
            language,
            &self.notice_page_base(),
        ))
    }

    fn notice_page_base(&self) -> String {
        self.inner
            .outbox
            .settings()
            .public_url
            .trim_end_matches('/')
            .to_owned()
    }

    /// Subscribes the chat to the notices of the place's zones.
    pub(super) async fn subscribe(
        &self,
        chat: &ChatRef,
        place: &ChatPlace,
        language: &str,
    ) -> Result<ChatMessage, Problem> {
        let new = NewSubscription {
            target: chat.service.target(&chat.chat_id),
            place: Place::Point(place.location()),
            language: Some(language.to_owned()),
        };
        match self
            .inner
            .outbox
            .subscribe_chat(chat.service.channel(), new)
            .await
        {
            Ok(view) => Ok(replies::subscribed(
                view.place.as_deref().unwrap_or(&place.name),
                language,
            )),
            Err(problem) => Ok(replies::not_stored(&problem, language)),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
