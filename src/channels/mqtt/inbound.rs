//! Handling one message from the broker: a report, a device's own news, or the hub's notices
//! routed back; then, whatever happened, its PUBACK.

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{Publish, QoS};
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;

use super::field::FieldSync;
use super::handled::{Handled, Reply};
use super::notices::NoticeSync;
use super::progress::IntakeProgress;
use super::{AckTicket, MqttLink, hub_state, reports};
use crate::reports::Intake;

/// The first wait before handling a message again after an internal failure; it doubles up
/// to `MAX_RETRY_WAIT`. The message keeps its place in the broker's window meanwhile, which
/// `/readyz` reports as a stall if it lasts.
const FIRST_RETRY_WAIT: Duration = Duration::from_millis(100);
const MAX_RETRY_WAIT: Duration = Duration::from_secs(5);

/// Everything a message handler needs; cheap to clone.
#[derive(Clone)]
pub(super) struct Inbound {
    pub(super) link: MqttLink,
    pub(super) intake: Intake,
    pub(super) notice_sync: NoticeSync,
    pub(super) field_sync: FieldSync,
    pub(super) max_payload: usize,
    pub(super) progress: Arc<IntakeProgress>,
    pub(super) shutdown: CancellationToken,
}

impl Inbound {
    /// Handles `publish` until it is settled, then acknowledges it. The permit bounds how many
    /// messages are handled at once; it is given back before waiting for room to acknowledge.
    pub(super) async fn handle(self, publish: Publish, permit: OwnedSemaphorePermit) {
        let ticket = AckTicket::of(&publish);
        self.progress.handling(true);
        let settled = self.handle_until_settled(publish).await;
        self.progress.handling(false);
        drop(permit);
        let Some(reply) = settled else {
            return;
        };
        if let Some(reply) = reply {
            self.link
                .send(reply.topic, reply.retain, reply.payload)
                .await;
        }
        self.link.settle(&ticket).await;
    }

    /// `None` when the hub stopped first: the broker then delivers the message again.
    async fn handle_until_settled(&self, publish: Publish) -> Option<Option<Reply>> {
        let mut wait = FIRST_RETRY_WAIT;
        loop {
            if let Handled::Settled(reply) = self.handle_once(&publish).await {
                return Some(reply);
            }
            self.shutdown
                .run_until_cancelled(tokio::time::sleep(wait))
                .await?;
            wait = (wait * 2).min(MAX_RETRY_WAIT);
        }
    }

    /// Reports go to intake; what devices say about themselves and their tasks goes to the
    /// field sync; the hub's own notices coming back go to the notice sync.
    async fn handle_once(&self, publish: &Publish) -> Handled {
        let topics = &self.link.topics;
        if topics.parse_device(&publish.topic).is_some() {
            return self.field_sync.on_device_message(publish).await;
        }
        if topics.parse_notice(&publish.topic).is_some() {
            return Handled::Settled(self.notice_sync.on_echo(publish).await);
        }
        reports::handle(&self.link, &self.intake, publish, self.max_payload).await
    }

    /// After each connection: subscribes, says the hub is online, and puts back on the broker
    /// whatever it may have lost (notices in force, unconfirmed updates, open tasks).
    pub(super) async fn announce(&self) {
        let (client, topics) = (&self.link.client, &self.link.topics);
        let mut filters = vec![topics.reports_filter(), topics.notices_filter()];
        filters.extend(topics.device_filters());
        for filter in filters {
            if client.subscribe(filter, QoS::AtLeastOnce).await.is_err() {
                return;
            }
        }
        self.link
            .send(topics.hub_state(), true, hub_state("online"))
            .await;
        self.notice_sync.republish_all().await;
        self.field_sync.republish_all().await;
    }
}
