//! What subscribers receive: a notice event with the exact frame bytes, serialized once.
//!
//! A published notice goes out as
//! `{"type":"notice","cursor":N,"signature":{...},"notice":{...}}`, where the signature covers
//! the exact bytes of the `notice` value. The same bytes go to every WebSocket session and every
//! MQTT topic (`schemas/notice-frame.schema.json`).

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::area::NoticeArea;
use super::cap::MsgType;
use super::content::NoticeContent;
use super::deliveries::DeliveryCount;
use super::model::Notice;
use super::signing::SignatureView;
use crate::reports::{Location, ZoneRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeEventKind {
    Published(MsgType),
    Expired,
}

impl NoticeEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeEventKind::Published(_) => "published",
            NoticeEventKind::Expired => "expired",
        }
    }
}

/// One committed notice event, ready for every channel.
#[derive(Debug)]
pub struct NoticeEvent {
    /// The cursor: strictly increasing, stored, what a reconnecting client resumes after.
    pub seq: i64,
    pub kind: NoticeEventKind,
    pub notice_id: String,
    pub thread_id: String,
    /// The notice as committed, for a channel that builds an envelope of its own (an e-mail, a
    /// chat message) rather than sending the frame.
    pub notice: Arc<Notice>,
    /// The frame, UTF-8 JSON, shared by every subscriber.
    pub frame: Bytes,
    /// Zones the notice covers now (for an expiry: the zones it covered).
    pub zones: Vec<String>,
    /// Zones of the notice this one replaced, so its subscribers learn of the change too.
    pub previous_zones: Vec<String>,
    pub area: Arc<NoticeArea>,
    pub previous_area: Option<Arc<NoticeArea>>,
    /// Counts the sessions and topics this event reaches.
    pub deliveries: Arc<DeliveryCount>,
}

impl NoticeEvent {
    pub fn frame_text(&self) -> &str {
        std::str::from_utf8(&self.frame).expect("frames are built from strings")
    }

    /// Whether a subscriber to these zones should get this event. Subscriptions name a few
    /// zones, so comparing them directly beats hashing, across thousands of sessions.
    pub fn concerns_any_zone(&self, zones: &[String]) -> bool {
        self.zones
            .iter()
            .chain(&self.previous_zones)
            .any(|zone| zones.contains(zone))
    }

    /// Whether a subscriber at this point should get this event.
    pub fn concerns_point(&self, point: Location) -> bool {
        self.area.contains(point)
            || self
                .previous_area
                .as_ref()
                .is_some_and(|area| area.contains(point))
    }
}

/// The signed part of a notice frame: everything a receiver needs to act on the notice.
#[derive(Serialize)]
struct SignedNotice<'a> {
    id: &'a str,
    thread_id: &'a str,
    office: &'a str,
    identifier: &'a str,
    sender: &'a str,
    sent: DateTime<Utc>,
    msg_type: MsgType,
    scope: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    references: Option<&'a str>,
    #[serde(flatten)]
    content: &'a NoticeContent,
    zones: &'a [ZoneRef],
}

/// Serializes the signed payload of a notice once; these bytes are what gets signed.
pub fn signed_payload(notice: &Notice, office: &str, references: Option<&str>) -> String {
    let payload = SignedNotice {
        id: &notice.id,
        thread_id: &notice.thread_id,
        office,
        identifier: &notice.identifier,
        sender: &notice.sender,
        sent: notice.sent.expect("a notice is signed when it is sent"),
        msg_type: notice.msg_type,
        scope: "Public",
        references,
        content: &notice.content,
        zones: &notice.covered_zones,
    };
    serde_json::to_string(&payload).expect("notices serialize")
}

/// The frame of a published notice around an already serialized and signed payload.
pub fn published_frame(cursor: i64, signature: &SignatureView, payload: &str) -> String {
    let signature = serde_json::to_string(signature).expect("signatures serialize");
    format!(r#"{{"type":"notice","cursor":{cursor},"signature":{signature},"notice":{payload}}}"#)
}

/// The frame that tells subscribers a notice has expired.
pub fn expired_frame(cursor: i64, notice: &Notice) -> String {
    json!({ "type": "notice_expired", "cursor": cursor, "id": notice.id, "thread_id": notice.thread_id }).to_string()
}
