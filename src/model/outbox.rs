//! The outbox's vocabulary: destinations that subscribed, deliveries and their states, and
//! what a channel answers when it tries one.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::zones::Location;

pub use super::target::Target;

/// A channel that delivers through the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboundChannel {
    Webhook,
    #[serde(rename = "webpush")]
    WebPush,
    Email,
    Telegram,
    #[serde(rename = "whatsapp")]
    WhatsApp,
}

impl OutboundChannel {
    pub const ALL: [OutboundChannel; 5] = [
        OutboundChannel::Webhook,
        OutboundChannel::WebPush,
        OutboundChannel::Email,
        OutboundChannel::Telegram,
        OutboundChannel::WhatsApp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboundChannel::Webhook => "webhook",
            OutboundChannel::WebPush => "webpush",
            OutboundChannel::Email => "email",
            OutboundChannel::Telegram => "telegram",
            OutboundChannel::WhatsApp => "whatsapp",
        }
    }

    pub fn parse(value: &str) -> Option<OutboundChannel> {
        OutboundChannel::ALL
            .into_iter()
            .find(|channel| channel.as_str() == value)
    }
}

/// Where one delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Waiting for its first attempt.
    Queued,
    /// Failed for a reason that may pass; tried again at `next_attempt_at`.
    Retrying,
    Delivered,
    /// Refused for good (the destination said no, or is gone); an operator may retry it.
    Failed,
    /// Still failing when the retry horizon ran out; an operator may retry it.
    Dead,
    /// A later state of the same thread was queued for the same destination before this left.
    Superseded,
    /// The notice expired before it could be delivered, so it never will be.
    Expired,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 7] = [
        DeliveryState::Queued,
        DeliveryState::Retrying,
        DeliveryState::Delivered,
        DeliveryState::Failed,
        DeliveryState::Dead,
        DeliveryState::Superseded,
        DeliveryState::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Queued => "queued",
            DeliveryState::Retrying => "retrying",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
            DeliveryState::Dead => "dead",
            DeliveryState::Superseded => "superseded",
            DeliveryState::Expired => "expired",
        }
    }

    pub fn parse(value: &str) -> Option<DeliveryState> {
        DeliveryState::ALL
            .into_iter()
            .find(|state| state.as_str() == value)
    }
}

/// What a delivery carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryKind {
    Alert,
    Update,
    Cancel,
    Expired,
    ReportUpdate,
    /// The confirmation an e-mail subscriber must answer before anything else is sent.
    Confirm,
    /// A message of a chat conversation (the bot's answer to a citizen).
    ChatMessage,
}

impl DeliveryKind {
    pub const NOTICE_KINDS: [DeliveryKind; 4] = [
        DeliveryKind::Alert,
        DeliveryKind::Update,
        DeliveryKind::Cancel,
        DeliveryKind::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryKind::Alert => "alert",
            DeliveryKind::Update => "update",
            DeliveryKind::Cancel => "cancel",
            DeliveryKind::Expired => "expired",
            DeliveryKind::ReportUpdate => "report_update",
            DeliveryKind::Confirm => "confirm",
            DeliveryKind::ChatMessage => "chat_message",
        }
    }

    pub fn parse(value: &str) -> Option<DeliveryKind> {
        DeliveryKind::NOTICE_KINDS
            .into_iter()
            .chain([
                DeliveryKind::ReportUpdate,
                DeliveryKind::Confirm,
                DeliveryKind::ChatMessage,
            ])
            .find(|kind| kind.as_str() == value)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SubscriptionState {
    /// Waiting for its owner to confirm (e-mail double opt-in).
    Pending,
    Active,
    /// Gone (the service said so) or switched off by an admin; receives nothing.
    Disabled,
}

impl SubscriptionState {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionState::Pending => "pending",
            SubscriptionState::Active => "active",
            SubscriptionState::Disabled => "disabled",
        }
    }

    pub fn parse(value: &str) -> Option<SubscriptionState> {
        [
            SubscriptionState::Pending,
            SubscriptionState::Active,
            SubscriptionState::Disabled,
        ]
        .into_iter()
        .find(|state| state.as_str() == value)
    }
}

/// A destination that asked, or was registered, to receive notices.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub id: String,
    pub channel: OutboundChannel,
    pub state: SubscriptionState,
    pub target: Target,
    /// Zone ids; empty means every zone (webhooks only).
    pub zones: Vec<String>,
    /// A point: delivered when a notice's area covers it.
    pub point: Option<Location>,
    /// CAP severities and event kinds wanted; `None` means all.
    pub severities: Option<Vec<String>>,
    pub events: Option<Vec<DeliveryKind>>,
    pub language: String,
    /// An admin allowed this destination on loopback or a private network.
    pub allow_private: bool,
    pub label: Option<String>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub disabled_reason: Option<String>,
}

/// The part of a subscription a courier needs, read with each delivery that goes to it.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub state: SubscriptionState,
    pub target: Target,
    /// An admin allowed this destination on loopback or a private network.
    pub allow_private: bool,
    pub language: String,
    /// The place subscribed to, in words.
    pub label: Option<String>,
}

/// One delivery taken from the queue for an attempt.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub channel: OutboundChannel,
    pub destination: String,
    pub thread: String,
    pub kind: DeliveryKind,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub notice_id: Option<String>,
    pub event_seq: Option<i64>,
    pub report_id: Option<String>,
    pub update_cursor: Option<i64>,
    /// The chat message this delivery sends, for a conversation's answer.
    pub message_id: Option<i64>,
    /// 0 (Actual and Immediate) first.
    pub priority: i64,
}

/// What an attempt came to, as the channel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Delivered to a service that named the message (WhatsApp's `wamid`), so that a failure
    /// it reports later finds the delivery again.
    Sent {
        message_id: String,
    },
    /// May pass: tried again later, no sooner than `after` if the destination said so.
    Retry {
        error: String,
        after: Option<Duration>,
    },
    /// Refused for good; the destination stays.
    Failed {
        error: String,
    },
    /// The destination no longer exists (404, 410, or the channel's equivalent): it is removed.
    Gone {
        error: String,
    },
    /// Not to be sent (the notice expired first, the reporter's address was purged).
    Expired {
        reason: String,
    },
}

/// Deliveries of one notice (or report), per channel and state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct OutboxStatus(pub BTreeMap<String, BTreeMap<String, u64>>);

/// Queue depth and the age of the oldest waiting delivery, per channel, for `/metrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueGauge {
    pub channel: OutboundChannel,
    pub waiting: u64,
    pub oldest_age_secs: f64,
}
