//! A notice as stored: its content, where it is in the workflow, and who touched it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::notice_content::NoticeContent;
use crate::cap::MsgType;
use crate::zones::ZoneRef;

/// Where a notice is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeState {
    /// Being written; waits for a second person.
    Draft,
    /// Sent back by an approver with a reason; editing makes it a draft again.
    Rejected,
    /// Signed and sent on every channel.
    Published,
    /// Replaced by a published update.
    Superseded,
    /// Withdrawn by a published cancellation.
    Cancelled,
    /// Past its `expires` time.
    Expired,
}

impl NoticeState {
    pub const ALL: [NoticeState; 6] = [
        NoticeState::Draft,
        NoticeState::Rejected,
        NoticeState::Published,
        NoticeState::Superseded,
        NoticeState::Cancelled,
        NoticeState::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeState::Draft => "draft",
            NoticeState::Rejected => "rejected",
            NoticeState::Published => "published",
            NoticeState::Superseded => "superseded",
            NoticeState::Cancelled => "cancelled",
            NoticeState::Expired => "expired",
        }
    }

    pub fn parse(value: &str) -> Option<NoticeState> {
        NoticeState::ALL
            .into_iter()
            .find(|state| state.as_str() == value)
    }

    /// Drafts and rejected notices can still be edited.
    pub fn is_editable(self) -> bool {
        matches!(self, NoticeState::Draft | NoticeState::Rejected)
    }
}

/// Written here, or received from another authority as CAP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeOrigin {
    Local,
    Imported,
}

impl NoticeOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeOrigin::Local => "local",
            NoticeOrigin::Imported => "imported",
        }
    }
}

/// A stored notice.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub seq: i64,
    pub id: String,
    /// The first notice of its Alert -> Update -> Cancel chain; MQTT topics are keyed by it.
    pub thread_id: String,
    pub state: NoticeState,
    pub origin: NoticeOrigin,
    pub msg_type: MsgType,
    pub content: NoticeContent,
    pub covered_zones: Vec<ZoneRef>,
    /// The notice an Update or Cancel replaces.
    pub references_id: Option<String>,
    pub identifier: String,
    pub sender: String,
    pub sent: Option<DateTime<Utc>>,
    pub author: String,
    /// Everyone who wrote any of it; none of them may approve it.
    pub editors: Vec<String>,
    pub approver: Option<String>,
    pub rejection_reason: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The archive page of notice `id`; see [`Notice::page_url`].
pub fn page_url(public_url: &str, id: &str) -> String {
    format!("{}/archivio/{id}", public_url.trim_end_matches('/'))
}

impl Notice {
    /// CAP `references` entry for this notice: `sender,identifier,sent`.
    pub fn cap_reference(&self) -> Option<String> {
        let sent = self.sent?;
        Some(format!(
            "{},{},{}",
            self.sender,
            self.identifier,
            crate::cap::cap_time(sent)
        ))
    }

    /// Where its CAP document is served, under the hub's `public_url`.
    pub fn cap_url(&self, public_url: &str) -> String {
        format!("{}/cap/{}.xml", public_url.trim_end_matches('/'), self.id)
    }

    /// Its page in the office's public archive, under the hub's `public_url`: stable, so
    /// everything sent elsewhere links back to it.
    pub fn page_url(&self, public_url: &str) -> String {
        page_url(public_url, &self.id)
    }

    /// In force now: published, and not itself a cancellation.
    pub fn is_active(&self) -> bool {
        self.state == NoticeState::Published && self.msg_type != MsgType::Cancel
    }
}
