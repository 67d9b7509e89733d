//! What a courier is handed: a delivery, where it goes, and what it says, read in one go for a
//! batch of deliveries (each notice and frame read once however many destinations share it).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::Deserialize;

use super::Outbox;
use super::links::LinkPurpose;
use crate::model::{
    ChatMessage, ChatRef, ChatService, Delivery, DeliveryKind, Notice, OutboundChannel, Outcome,
    Recipient, Report, ReportStatus, SubscriptionState, Target,
};
use crate::store::outbox::Due;
use crate::store::triage as triage_rows;
use crate::store::{
    StoreError, chats as chat_rows, notices as notice_rows, reports as report_rows,
};

/// One delivery, ready for its courier.
#[derive(Debug, Clone)]
pub struct Parcel {
    pub delivery: Delivery,
    pub target: Target,
    /// An admin allowed this destination on loopback or a private network.
    pub allow_private: bool,
    pub language: String,
    /// The place subscribed to, in words, for "why you receive this".
    pub place: Option<String>,
    pub content: Content,
    pub links: Links,
    /// A chat service's reply window has closed (or is about to) for this person: only an
    /// approved template may reach them.
    pub outside_reply_window: bool,
}

#[derive(Debug, Clone)]
pub enum Content {
    /// A notice event: the notice as committed, and its signed frame.
    Notice {
        notice: Arc<Notice>,
        frame: Arc<[u8]>,
    },
    /// News of a citizen's own report.
    Report(ReportNews),
    /// Confirm an e-mail subscription to these places.
    Confirm { places: String },
    /// A conversation's answer to a citizen in a chat.
    Chat(ChatMessage),
}

/// What a reporter is told, read from the update the hub stored for them.
#[derive(Debug, Clone, Deserialize)]
pub struct ReportNews {
    pub report_id: String,
    pub status: ReportStatus,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub public_note: Option<String>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub expected_at: Option<DateTime<Utc>>,
}

/// Links to put in the message.
#[derive(Debug, Clone, Default)]
pub struct Links {
    /// The notice on the office's own page: the channel every cross-post points back to.
    pub notice_page: Option<String>,
    pub cap_document: Option<String>,
    pub confirm: Option<String>,
    /// Removes the subscription in one step (RFC 8058 for e-mail).
    pub unsubscribe: Option<String>,
}

/// A delivery that cannot be made, with what it comes to.
pub(super) type Undeliverable = (Delivery, Outcome);

impl Outbox {
    /// Reads what each delivery needs, on `conn`; those that can no longer be made come back
    /// settled.
    pub(super) fn open_on(
        &self,
        conn: &Connection,
        batch: Vec<Due>,
    ) -> Result<Vec<Result<Parcel, Undeliverable>>, StoreError> {
        let mut reader = BatchReader {
            conn,
            outbox: self,
            now: self.now(),
            notices: HashMap::new(),
            frames: HashMap::new(),
        };
        batch
            .into_iter()
            .map(|(delivery, recipient)| reader.open(delivery, recipient))
            .collect()
    }

    /// `subscribed` when the delivery goes to a subscription rather than to a reporter.
    fn links_for(&self, delivery: &Delivery, subscribed: bool) -> Links {
        let base = self.inner.settings.public_url.trim_end_matches('/');
        let key = &self.inner.links;
        // Only a person's subscription is confirmed or left by a link; an admin's webhook is not.
        let personal = subscribed && delivery.channel != OutboundChannel::Webhook;
        let id = &delivery.destination;
        let subscription_link = |purpose: LinkPurpose, path: &str| {
            personal.then(|| {
                format!(
                    "{base}/subscriptions/{id}/{path}?token={}",
                    key.token(purpose, id)
                )
            })
        };
        Links {
            notice_page: delivery
                .notice_id
                .as_ref()
                .map(|id| crate::model::notice_page_url(base, id)),
            cap_document: delivery
                .notice_id
                .as_ref()
                .map(|id| format!("{base}/cap/{id}.xml")),
            confirm: subscription_link(LinkPurpose::Confirm, "confirm"),
            unsubscribe: subscription_link(LinkPurpose::Unsubscribe, "unsubscribe"),
        }
    }
}

struct BatchReader<'a> {
    conn: &'a Connection,
    outbox: &'a Outbox,
    now: DateTime<Utc>,
    notices: HashMap<String, Option<Arc<Notice>>>,
    frames: HashMap<i64, Option<Arc<[u8]>>>,
}

impl BatchReader<'_> {
    fn open(
        &mut self,
        delivery: Delivery,
        recipient: Option<Recipient>,
    ) -> Result<Result<Parcel, Undeliverable>, StoreError> {
        if delivery.kind == DeliveryKind::ReportUpdate {
            let report_id = delivery.report_id.clone().unwrap_or_default();
            return self.open_report_news(delivery, &report_id);
        }
        if delivery.kind == DeliveryKind::ChatMessage {
            return self.open_chat_message(delivery);
        }
        let wanted_state = if delivery.kind == DeliveryKind::Confirm {
            SubscriptionState::Pending
        } else {
            SubscriptionState::Active
        };
        let Some(recipient) = recipient.filter(|r| r.state == wanted_state) else {
            let outcome = Outcome::Failed {
                error: "the subscription was removed or switched off".into(),
            };
            return Ok(Err((delivery, outcome)));
        };
        let content = match delivery.kind {
            DeliveryKind::Confirm => Content::Confirm {
                places: recipient.label.clone().unwrap_or_default(),
            },
            _ => match self.notice_content(&delivery)? {
                Ok(content) => content,
                Err(outcome) => return Ok(Err((delivery, outcome))),
            },
        };
        let mut links = self.outbox.links_for(&delivery, true);
        if recipient.target.is_shared_chat() {
            links.unsubscribe = None;
        }
        Ok(Ok(Parcel {
            links,
            outside_reply_window: self.outside_reply_window(delivery.channel, &recipient.target)?,
            target: recipient.target,
            allow_private: recipient.allow_private,
            language: recipient.language,
            place: recipient.label,
            content,
            delivery,
        }))
    }

    fn notice_content(
        &mut self,
        delivery: &Delivery,
    ) -> Result<Result<Content, Outcome>, StoreError> {
        let (Some(notice_id), Some(seq)) = (delivery.notice_id.as_deref(), delivery.event_seq)
        else {
            return Ok(Err(Outcome::Failed {
                error: "the delivery names no notice event".into(),
            }));
        };
        let notice = match self.notices.get(notice_id) {
            Some(found) => found.clone(),
            None => {
                let found = notice_rows::get(self.conn, notice_id)?.map(Arc::new);
                self.notices.insert(notice_id.to_owned(), found.clone());
                found
            }
        };
        let frame = match self.frames.get(&seq) {
            Some(found) => found.clone(),
            None => {
                let found = notice_rows::event_frame(self.conn, seq)?.map(Arc::from);
                self.frames.insert(seq, found.clone());
                found
            }
        };
        let (Some(notice), Some(frame)) = (notice, frame) else {
            return Ok(Err(Outcome::Failed {
                error: "the notice event is no longer stored".into(),
            }));
        };
        if delivery.kind != DeliveryKind::Expired && notice.content.expires <= self.now {
            return Ok(Err(Outcome::Expired {
                reason: "the notice expired before delivery".into(),
            }));
        }
        Ok(Ok(Content::Notice { notice, frame }))
    }

    fn open_report_news(
        &mut self,
        delivery: Delivery,
        report_id: &str,
    ) -> Result<Result<Parcel, Undeliverable>, StoreError> {
        let report: Option<Report> = report_rows::get(self.conn, report_id)?;
        let reached = match report {
            Some(report) => self.reporter_reached_by(delivery.channel, report)?,
            None => None,
        };
        let frame = match delivery.update_cursor {
            Some(cursor) => triage_rows::update_frame(self.conn, cursor)?,
            None => None,
        };
        let news = frame.and_then(|frame| serde_json::from_str::<ReportNews>(&frame).ok());
        let (Some((target, language)), Some(news)) = (reached, news) else {
            let outcome = Outcome::Expired {
                reason: "the reporter's address or update was removed".into(),
            };
            return Ok(Err((delivery, outcome)));
        };
        Ok(Ok(Parcel {
            links: self.outbox.links_for(&delivery, false),
            outside_reply_window: self.outside_reply_window(delivery.channel, &target)?,
            target,
            allow_private: false,
            language,
            place: None,
            content: Content::Report(news),
            delivery,
        }))
    }

    /// Whether the person behind a chat target last wrote too long ago for the service to take
    /// a free message; a quarter of an hour is kept in hand for the send itself.
    fn outside_reply_window(
        &self,
        channel: OutboundChannel,
        target: &Target,
    ) -> Result<bool, StoreError> {
        let service = ChatService::parse(channel.as_str());
        let window = service.and_then(ChatService::reply_window);
        let (Some(service), Some(window), Some(chat_id)) = (service, window, target.chat_id())
        else {
            return Ok(false);
        };
        let chat = ChatRef {
            service,
            chat_id: chat_id.to_owned(),
        };
        let heard =
            chat_rows::last_heard_ms(self.conn, &chat)?.map(crate::store::reports::from_millis);
        let open_until = heard.map(|at| at + window - chrono::Duration::minutes(15));
        Ok(open_until.is_none_or(|until| until <= self.now))
    }

    /// Where a reporter is reached on `channel`, and in which language, while they still can be.
    fn reporter_reached_by(
        &self,
        channel: OutboundChannel,
        report: Report,
    ) -> Result<Option<(Target, String)>, StoreError> {
        let default_language = &self.outbox.inner.settings.default_language;
        if channel == OutboundChannel::Email {
            let address = report.contact.and_then(|contact| contact.email);
            return Ok(address.map(|address| (Target::Email { address }, default_language.clone())));
        }
        let Some(service) = ChatService::parse(channel.as_str()) else {
            return Ok(None);
        };
        let Some(chat_id) = report
            .device_id
            .filter(|_| report.source == service.source())
        else {
            return Ok(None);
        };
        let chat = ChatRef {
            service,
            chat_id: chat_id.as_str().to_owned(),
        };
        let language = chat_rows::language(self.conn, &chat)?;
        Ok(Some((
            service.target(&chat.chat_id),
            language.unwrap_or_else(|| default_language.clone()),
        )))
    }

    fn open_chat_message(
        &mut self,
        delivery: Delivery,
    ) -> Result<Result<Parcel, Undeliverable>, StoreError> {
        let stored = match delivery.message_id {
            Some(id) => chat_rows::outgoing(self.conn, id)?,
            None => None,
        };
        let message = stored.and_then(|(chat, body)| {
            let message = serde_json::from_str::<ChatMessage>(&body).ok()?;
            Some((chat, message))
        });
        let Some((chat, message)) = message else {
            let outcome = Outcome::Expired {
                reason: "the chat asked to be forgotten".into(),
            };
            return Ok(Err((delivery, outcome)));
        };
        let language = chat_rows::language(self.conn, &chat)?
            .unwrap_or_else(|| self.outbox.inner.settings.default_language.clone());
        Ok(Ok(Parcel {
            links: Links::default(),
            outside_reply_window: false,
            target: chat.service.target(&chat.chat_id),
            allow_private: false,
            language,
            place: None,
            content: Content::Chat(message),
            delivery,
        }))
    }
}
