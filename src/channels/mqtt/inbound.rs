//! Handling one message from the broker: a report, a device's own news, or the hub's notices
//! routed back; then, whatever happened, its PUBACK.

use std::sync::Arc;
use std::time::Duration;

use rumqttc::Publish;
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio_util::sync::CancellationToken;

use super::ack_order::{AckOrder, AckTicket, Place};
use super::field::FieldSync;
use super::handled::{Handled, Reply};
use super::intake::Ack;
use super::notices::NoticeSync;
use super::progress::IntakeProgress;
use super::{MqttLink, reports};
use crate::reports::Intake;

/// The first wait before handling a message again after an internal failure; it doubles up
/// to `MAX_RETRY_WAIT`. The message keeps its place in the broker's window meanwhile, which
/// `/readyz` reports as a stall if it lasts.
const FIRST_RETRY_WAIT: Duration = Duration::from_millis(100);
const MAX_RETRY_WAIT: Duration = Duration::from_secs(5);

/// Everything a message handler needs; cheap to clone.
#[derive(Clone)]
pub(super) struct Inbound {
    /// The publisher connection, for replies.
    pub(super) link: MqttLink,
    /// The intake connection's queue of acknowledgements: unbounded, as it never holds more
    /// than the messages the hub took and did not acknowledge (`intake::MAX_UNACKED` a
    /// connection).
    pub(super) acks: mpsc::UnboundedSender<Ack>,
    pub(super) intake: Intake,
    pub(super) notice_sync: NoticeSync,
    pub(super) field_sync: FieldSync,
    pub(super) max_payload: usize,
    pub(super) progress: Arc<IntakeProgress>,
    /// PUBACKs leave in the order their messages arrived.
    pub(super) order: Arc<AckOrder>,
    pub(super) shutdown: CancellationToken,
}

impl Inbound {
    /// Handles `publish` until it is settled, then acknowledges it in its turn. The handling
    /// permit bounds how many messages are stored at once; it is given back before waiting for
    /// room to reply.
    pub(super) async fn handle(
        self,
        publish: Publish,
        place: Option<Place>,
        handling: OwnedSemaphorePermit,
    ) {
        let ticket = AckTicket::of(&publish);
        self.progress.handling(true);
        let settled = self.handle_until_settled(publish).await;
        self.progress.handling(false);
        drop(handling);
        let Some(reply) = settled else {
            return;
        };
        if let Some(reply) = reply {
            self.link
                .send(reply.topic, reply.retain, reply.payload)
                .await;
        }
        if let Some(place) = place {
            self.order.finished(place, ticket, &self.acks);
        }
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
}
