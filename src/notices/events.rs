//! The frames subscribers receive for a notice event, serialized once: the signed payload,
//! the published frame around it, and the expiry frame.
//!
//! A published notice goes out as
//! `{"type":"notice","cursor":N,"signature":{...},"notice":{...}}`, where the signature covers
//! the exact bytes of the `notice` value. The same bytes go to every WebSocket session and every
//! MQTT topic (`schemas/notice-frame.schema.json`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::cap::MsgType;
use super::content::NoticeContent;
use super::model::Notice;
use super::signing::SignatureView;
use crate::zones::ZoneRef;

pub use crate::model::{NoticeEvent, NoticeEventKind};

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
