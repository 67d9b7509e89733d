//! A committed notice event, ready for every channel: the typed notice, its frame bytes,
//! what it concerns, and the counter of what it reached.

use std::sync::Arc;

use bytes::Bytes;

use super::deliveries::DeliveryCount;
use super::notice::Notice;
use super::notice_area::NoticeArea;
use crate::cap::MsgType;
use crate::zones::Location;

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
