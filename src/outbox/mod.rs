//! The durable outbox: deliveries written with the events they carry, taken by one worker per
//! channel, retried on a schedule, superseded by newer states of their thread, and shown to
//! operators per notice.
//!
//! The channels (`channels::webhook`, `channels::webpush`, `channels::email`) implement
//! [`Courier`]; this module decides what is sent, to whom, when, and what an answer means.

mod chats;
mod deadlines;
mod enqueue;
mod feeder;
mod in_flight;
mod links;
mod parcel;
pub mod schedule;
mod settle;
pub mod subscribe;
pub mod targets;
mod webhooks;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use tokio::sync::watch;

pub use enqueue::{
    NoticeDispatch, enqueue_chat_message, enqueue_notice, enqueue_report_update,
    reporter_destination,
};
pub use links::LinkKey;
pub use parcel::{Content, Links, Parcel, ReportNews};
pub(crate) use settle::retry_refused_later;
pub use subscribe::{NewSubscription, Place, SubscriptionView};
pub use targets::AddressPolicy;
pub use webhooks::{NewWebhook, WebhookView};
pub use worker::{Courier, run};

use crate::auth::{Action, Staff};
use crate::clock::SharedClock;
use crate::model::{OutboundChannel, OutboxStatus, QueueGauge};
use crate::problem::Problem;
use crate::store::outbox as outbox_rows;
use crate::store::{Store, audit};
use crate::zones::ZoneDirectory;

/// Sign-ups (push or e-mail) one address may make per hour: each stores a destination the hub
/// sends to, and an e-mail one sends a confirmation message.
const SIGNUPS_PER_HOUR: std::num::NonZeroU32 = std::num::NonZeroU32::new(30).expect("not zero");

/// Settled deliveries deleted per write when pruning.
const PRUNE_BATCH: usize = 5_000;

/// What the outbox is told at start.
#[derive(Debug, Clone)]
pub struct OutboxSettings {
    /// Base of every link sent out (notice page, CAP document, unsubscribe).
    pub public_url: String,
    pub default_language: String,
    /// A delivery still failing this long after it was queued is dead.
    pub retry_horizon: Duration,
    /// E-mail subscriptions not confirmed within this time are removed.
    pub confirm_within: Duration,
    /// How long the record of settled deliveries is kept.
    pub keep_days: u32,
    /// Where outbound requests may go.
    pub addresses: AddressPolicy,
}

#[derive(Clone)]
pub struct Outbox {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: SharedClock,
    settings: OutboxSettings,
    links: LinkKey,
    zones: ZoneDirectory,
    /// E-mail sign-ups per address, so the hub cannot be used to flood someone's mailbox.
    signups: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
    /// Bumped when deliveries may have become due outside the bus (an operator's retry, a
    /// new subscription, settled outcomes freeing a thread).
    wake: watch::Sender<u64>,
}

impl Outbox {
    pub fn new(
        store: Store,
        zones: ZoneDirectory,
        clock: SharedClock,
        settings: OutboxSettings,
        links: LinkKey,
    ) -> Outbox {
        Outbox {
            inner: Arc::new(Inner {
                store,
                clock,
                settings,
                links,
                zones,
                signups: governor::RateLimiter::keyed(governor::Quota::per_hour(SIGNUPS_PER_HOUR)),
                wake: watch::Sender::new(0),
            }),
        }
    }

    pub fn settings(&self) -> &OutboxSettings {
        &self.inner.settings
    }

    /// Tells the workers to look at the queue again.
    pub fn wake(&self) {
        self.inner.wake.send_modify(|generation| *generation += 1);
    }

    fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// Deliveries of a notice per channel and state, for the staff who read notices.
    pub async fn status_of_notice(
        &self,
        staff: &Staff,
        notice_id: &str,
    ) -> Result<OutboxStatus, Problem> {
        staff.require(Action::Read)?;
        let id = notice_id.to_owned();
        Ok(self
            .inner
            .store
            .read(move |conn| outbox_rows::status_of_notice(conn, &id))
            .await?)
    }

    /// Puts a notice's failed and dead deliveries back in the queue (operators; audited).
    pub async fn retry_failed(&self, staff: &Staff, notice_id: &str) -> Result<usize, Problem> {
        staff.require(Action::RetryDeliveries)?;
        let (id, actor, now) = (notice_id.to_owned(), staff.name.clone(), self.now());
        let requeued = self
            .inner
            .store
            .write(move |ctx| -> Result<usize, Problem> {
                let requeued =
                    outbox_rows::requeue_failed(ctx.conn(), &id, now.timestamp_millis())?;
                audit::append(
                    ctx.conn(),
                    now.timestamp_millis(),
                    &actor,
                    "outbox.retry",
                    Some(&id),
                    &json!({ "requeued": requeued }),
                )?;
                Ok(requeued)
            })
            .await?;
        self.wake();
        Ok(requeued)
    }

    /// Deletes the record of deliveries settled more than `outbox.keep_days` ago, a batch at a
    /// time so the writer is never held long; returns how many.
    pub async fn prune_settled(&self) -> Result<usize, Problem> {
        let keep = chrono::Duration::days(i64::from(self.inner.settings.keep_days));
        let before = (self.now() - keep).timestamp_millis();
        let mut pruned = 0;
        loop {
            let batch = self
                .inner
                .store
                .write(move |ctx| outbox_rows::prune_settled(ctx.conn(), before, PRUNE_BATCH))
                .await?;
            pruned += batch;
            if batch < PRUNE_BATCH {
                return Ok(pruned);
            }
        }
    }

    /// Per channel: deliveries waiting and the age of the oldest, for `/metrics`.
    pub async fn gauges(&self) -> Result<Vec<QueueGauge>, Problem> {
        let depths = self.inner.store.read(outbox_rows::queue_depths).await?;
        let now_ms = self.now().timestamp_millis();
        Ok(OutboundChannel::ALL
            .into_iter()
            .map(|channel| {
                let found = depths.iter().find(|(name, _, _)| name == channel.as_str());
                let (waiting, oldest) =
                    found.map_or((0, None), |(_, waiting, oldest)| (*waiting, *oldest));
                QueueGauge {
                    channel,
                    waiting,
                    oldest_age_secs: oldest
                        .map_or(0.0, |oldest| (now_ms - oldest).max(0) as f64 / 1000.0),
                }
            })
            .collect())
    }
}
