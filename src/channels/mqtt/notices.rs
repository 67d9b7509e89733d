//! Notices on MQTT: one retained QoS 1 message per covered zone and notice thread,
//! `<prefix>/notices/<zone_id>/<thread_id>`, replaced by an update and cleared (an empty retained
//! message) when the notice is cancelled or expires. A tablet subscribed to
//! `<prefix>/notices/<zone_id>/+` always holds exactly the notices in force for its zone.
//!
//! The hub subscribes to `<prefix>/notices/#` itself. What the broker routes back counts as
//! delivered, and anything it holds that is no longer right (missed while the broker was away)
//! is replaced or cleared: the broker converges on the store.

use std::collections::HashSet;

use rumqttc::Publish;
use serde::Deserialize;
use std::sync::Arc;

use super::MqttLink;
use super::handled::Reply;
use crate::channels::outbound::NoticeChannel;
use crate::notices::{Destination, MsgType, Notice, NoticeEvent, NoticeEventKind, Notices};

/// What the notice sync needs.
#[derive(Clone)]
pub(super) struct NoticeSync {
    pub(super) link: MqttLink,
    pub(super) notices: Notices,
}

impl NoticeSync {
    async fn mirror(&self, event: &NoticeEvent) {
        let now: HashSet<&String> = event.zones.iter().collect();
        match event.kind {
            NoticeEventKind::Published(MsgType::Cancel) => {
                for zone in event.zones.iter().chain(&event.previous_zones) {
                    self.send(zone, &event.notice.thread_id, false, &event.frame)
                        .await;
                    self.clear(zone, &event.notice.thread_id).await;
                }
            }
            NoticeEventKind::Published(_) => {
                for zone in &event.zones {
                    self.send(zone, &event.notice.thread_id, true, &event.frame)
                        .await;
                }
                for zone in event
                    .previous_zones
                    .iter()
                    .filter(|zone| !now.contains(zone))
                {
                    self.clear(zone, &event.notice.thread_id).await;
                }
            }
            NoticeEventKind::Expired => {
                for zone in &event.zones {
                    self.clear(zone, &event.notice.thread_id).await;
                }
            }
        }
    }

    /// Puts every notice in force on its zone topics again; run on every (re)connection.
    pub(super) async fn republish_all(&self) {
        match self.notices.in_force_with_frames().await {
            Ok(active) => {
                for (notice, frame) in active {
                    for zone in &notice.covered_zones {
                        self.send(&zone.id, &notice.thread_id, true, &frame).await;
                    }
                }
            }
            Err(problem) => {
                tracing::error!(message = %problem.message, "cannot read the notices in force to republish them");
            }
        }
    }

    /// Queues a publish, waiting for room in the request queue: while the broker is away the
    /// queue fills and this task waits, and the bus tells it afterwards how much it missed.
    async fn send(&self, zone: &str, thread: &str, retain: bool, frame: &[u8]) {
        let topic = self.link.topics.notice(zone, thread);
        self.link.send(topic, retain, frame.to_vec()).await;
    }

    async fn clear(&self, zone: &str, thread: &str) {
        self.send(zone, thread, true, &[]).await;
    }

    /// A notice message the broker routed back to the hub: count it, or correct it (the
    /// correction is returned, to be published once the message is handled).
    pub(super) async fn on_echo(&self, publish: &Publish) -> Option<Reply> {
        let (zone, thread) = self.link.topics.parse_notice(&publish.topic)?;
        if publish.payload.is_empty() {
            return None;
        }
        let echoed = EchoedNotice::read(&publish.payload)?;
        let current = match self.notices.in_force_in_thread(thread).await {
            Ok(current) => current,
            Err(problem) => {
                tracing::warn!(message = %problem.message, "cannot check an echoed notice");
                return None;
            }
        };
        let in_force = current.as_ref().filter(|(notice, _)| covers(notice, zone));
        let correction = |payload: &[u8]| Reply {
            topic: self.link.topics.notice(zone, thread),
            retain: true,
            payload: payload.to_vec(),
        };
        match in_force {
            Some((notice, _)) if notice.id == echoed.id => self.count(&echoed.id, &publish.topic),
            _ if echoed.msg_type == MsgType::Cancel => self.count(&echoed.id, &publish.topic),
            Some((_, frame)) => return Some(correction(frame)),
            None => return Some(correction(&[])),
        }
        None
    }

    fn count(&self, notice_id: &str, topic: &str) {
        self.notices
            .deliveries()
            .counter(notice_id, None)
            .add_distinct(Destination::MQTT_TOPICS, topic);
    }
}

fn covers(notice: &Notice, zone: &str) -> bool {
    notice
        .covered_zones
        .iter()
        .any(|covered| covered.id == zone)
}

/// The little a frame must say for the sync to place it.
struct EchoedNotice {
    id: String,
    msg_type: MsgType,
}

impl EchoedNotice {
    fn read(payload: &[u8]) -> Option<EchoedNotice> {
        #[derive(Deserialize)]
        struct Frame {
            notice: Inner,
        }
        #[derive(Deserialize)]
        struct Inner {
            id: String,
            msg_type: MsgType,
        }
        let frame: Frame = serde_json::from_slice(payload).ok()?;
        Some(EchoedNotice {
            id: frame.notice.id,
            msg_type: frame.notice.msg_type,
        })
    }
}

/// The MQTT channel on the notice seam: each event mirrored onto the zones' retained topics.
impl NoticeChannel for NoticeSync {
    async fn deliver(&self, event: Arc<NoticeEvent>) {
        self.mirror(&event).await;
    }

    async fn catch_up(&self, missed: u64) {
        tracing::warn!(
            missed,
            "MQTT notice sync fell behind; republishing every notice in force"
        );
        self.republish_all().await;
    }
}
