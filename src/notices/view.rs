//! A notice as the API shows it, and the list of what an update changes.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use super::cap::{CapStatus, MsgType};
use super::content::NoticeContent;
use super::deliveries::{DeliveryTotals, Destination};
use super::model::{Notice, NoticeOrigin, NoticeState};
use crate::model::ZoneRef;

/// `schemas/notice.schema.json`.
#[derive(Debug, Serialize)]
pub struct NoticeView<'a> {
    pub id: &'a str,
    pub thread_id: &'a str,
    pub state: NoticeState,
    pub origin: NoticeOrigin,
    pub msg_type: MsgType,
    /// Repeated from `content` so lists can mark tests and exercises without opening them.
    pub status: CapStatus,
    pub identifier: &'a str,
    pub sender: &'a str,
    pub sent: Option<DateTime<Utc>>,
    pub references_id: Option<&'a str>,
    pub content: &'a NoticeContent,
    pub covered_zones: &'a [ZoneRef],
    pub author: &'a str,
    pub editors: &'a [String],
    pub approver: Option<&'a str>,
    pub rejection_reason: Option<&'a str>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Where the CAP document of this notice is served.
    pub cap_url: String,
    /// Its page in the public archive; a draft's answers 404 until it is published.
    pub page_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliveries: Option<DeliveryReport>,
    /// The outbox's deliveries of this notice, per channel and state (queued, retrying,
    /// delivered, failed, dead, superseded, expired).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox: Option<crate::model::OutboxStatus>,
    /// For an Update or Cancel: what differs from the notice it replaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<Change>>,
    /// For a draft whose area is wide: what the approver must confirm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wide_area: Option<super::WideArea>,
    /// For an imported notice: what the office found of the sender's XML signature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_signature: Option<super::SignatureCheck>,
    /// For an alert from a source: its rule marked it for fast review.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fast_review: bool,
    /// For an imported notice: what the operator was told about how it was read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// What a published notice reached: the ledger by channel, and the two first channels' counts
/// at the top level, where clients written before the ledger read them.
#[derive(Debug, Serialize)]
pub struct DeliveryReport {
    pub ws_sessions: u64,
    pub mqtt_topics: u64,
    pub by_channel: DeliveryTotals,
}

impl From<DeliveryTotals> for DeliveryReport {
    fn from(by_channel: DeliveryTotals) -> DeliveryReport {
        DeliveryReport {
            ws_sessions: by_channel.get(Destination::WS_SESSIONS),
            mqtt_topics: by_channel.get(Destination::MQTT_TOPICS),
            by_channel,
        }
    }
}

impl<'a> NoticeView<'a> {
    pub fn of(notice: &'a Notice, public_url: &str) -> NoticeView<'a> {
        NoticeView {
            id: &notice.id,
            thread_id: &notice.thread_id,
            state: notice.state,
            origin: notice.origin,
            msg_type: notice.msg_type,
            status: notice.content.status,
            identifier: &notice.identifier,
            sender: &notice.sender,
            sent: notice.sent,
            references_id: notice.references_id.as_deref(),
            content: &notice.content,
            covered_zones: &notice.covered_zones,
            author: &notice.author,
            editors: &notice.editors,
            approver: notice.approver.as_deref(),
            rejection_reason: notice.rejection_reason.as_deref(),
            version: notice.version,
            created_at: notice.created_at,
            updated_at: notice.updated_at,
            cap_url: notice.cap_url(public_url),
            page_url: notice.page_url(public_url),
            deliveries: None,
            outbox: None,
            changes: None,
            wide_area: None,
            sender_signature: None,
            fast_review: false,
            warnings: Vec::new(),
        }
    }
}

/// One field that differs, by its path in the content (`info.it.headline`, `area.zones`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub field: String,
    pub before: Value,
    pub after: Value,
}

/// Every field of `after` that differs from `before`.
pub fn changes_between(before: &NoticeContent, after: &NoticeContent) -> Vec<Change> {
    let mut old = Map::new();
    let mut new = Map::new();
    flatten(
        "",
        &serde_json::to_value(before).unwrap_or(Value::Null),
        &mut old,
    );
    flatten(
        "",
        &serde_json::to_value(after).unwrap_or(Value::Null),
        &mut new,
    );
    let mut fields: Vec<&String> = old.keys().chain(new.keys()).collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .filter_map(|field| {
            let (before, after) = (
                old.get(field).cloned().unwrap_or(Value::Null),
                new.get(field).cloned().unwrap_or(Value::Null),
            );
            (before != after).then(|| Change {
                field: field.clone(),
                before,
                after,
            })
        })
        .collect()
}

/// Objects become dotted paths; arrays and scalars are compared whole.
fn flatten(prefix: &str, value: &Value, into: &mut Map<String, Value>) {
    match value {
        Value::Object(object) => {
            for (key, child) in object {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, child, into);
            }
        }
        other => {
            into.insert(prefix.to_owned(), other.clone());
        }
    }
}
