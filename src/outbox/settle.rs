//! Writing what attempts came to: delivered, retried on the schedule, superseded by a newer
//! state of the thread, dead past the horizon, or failed with the destination removed.

use chrono::{DateTime, Utc};

use super::Outbox;
use super::schedule::{unit_random, wait_after};
use crate::model::{
    Delivery, DeliveryKind, DeliveryState, OutboundChannel, Outcome, SubscriptionState,
};
use crate::problem::Problem;
use crate::store::outbox as outbox_rows;
use crate::store::outbox_late as late_rows;
use crate::store::{StoreError, WriteCtx, subscriptions};

impl Outbox {
    /// Records a batch of outcomes in one write.
    pub(super) async fn settle(&self, outcomes: Vec<(Delivery, Outcome)>) -> Result<(), Problem> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let (now, horizon) = (self.now(), self.inner.settings.retry_horizon);
        self.inner
            .store
            .write(move |ctx| -> Result<(), StoreError> {
                // Most outcomes are deliveries: those take one statement together.
                let delivered: Vec<i64> = outcomes
                    .iter()
                    .filter(|(_, outcome)| *outcome == Outcome::Delivered)
                    .map(|(delivery, _)| delivery.id)
                    .collect();
                outbox_rows::settle_delivered(ctx.conn(), &delivered, now.timestamp_millis())?;
                for (delivery, outcome) in outcomes
                    .iter()
                    .filter(|(_, outcome)| *outcome != Outcome::Delivered)
                {
                    settle_one(ctx, delivery, outcome, now, horizon)?;
                }
                Ok(())
            })
            .await?;
        Ok(())
    }
}

/// A message the service accepted, then said it could not deliver for a reason the next
/// attempt can avoid (a closed reply window): its delivery is due again now. If its outcome is
/// not recorded yet, the refusal waits for it (a day at most). False if nothing is due again
/// now: the outcome is still to come, the message was tried again already (a notification
/// posted twice), or it was a notice's older state that a newer one has followed.
pub(crate) fn retry_refused_later(
    ctx: &WriteCtx<'_>,
    channel: OutboundChannel,
    message_id: &str,
    error: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let now_ms = now.timestamp_millis();
    if late_rows::retry_sent(ctx.conn(), channel, message_id, error, now_ms)? {
        return Ok(true);
    }
    let forget_before = now_ms - LATE_REFUSAL_KEPT.as_millis() as i64;
    late_rows::keep_late_refusal(
        ctx.conn(),
        channel,
        message_id,
        error,
        (now_ms, forget_before),
    )?;
    Ok(false)
}

/// How long a refusal notified before its message's outcome waits for it.
const LATE_REFUSAL_KEPT: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

fn settle_one(
    ctx: &WriteCtx<'_>,
    delivery: &Delivery,
    outcome: &Outcome,
    now: DateTime<Utc>,
    horizon: std::time::Duration,
) -> Result<(), StoreError> {
    let conn = ctx.conn();
    let now_ms = now.timestamp_millis();
    let settle = |state: DeliveryState, next_ms: i64, error: Option<&str>| {
        outbox_rows::settle(conn, delivery.id, state, next_ms, error, now_ms)
    };
    match outcome {
        Outcome::Delivered => settle(DeliveryState::Delivered, now_ms, None),
        Outcome::Sent { message_id } => {
            match late_rows::take_late_refusal(conn, delivery.channel, message_id)? {
                Some(error) => settle(DeliveryState::Retrying, now_ms, Some(&error)),
                None => late_rows::settle_sent(conn, delivery.id, message_id, now_ms),
            }
        }
        Outcome::Expired { reason } => settle(DeliveryState::Expired, now_ms, Some(reason)),
        Outcome::Failed { error } => settle(DeliveryState::Failed, now_ms, Some(error)),
        Outcome::Gone { error } => {
            settle(DeliveryState::Failed, now_ms, Some(error))?;
            remove_destination(ctx, delivery, error, now_ms)
        }
        Outcome::Retry { error, after } => {
            // Only a notice's newer state replaces an older one; a chat's answers and a
            // reporter's news are each their own message, sent in order.
            let replaceable = DeliveryKind::NOTICE_KINDS.contains(&delivery.kind);
            if replaceable && outbox_rows::has_newer(conn, delivery)? {
                return settle(DeliveryState::Superseded, now_ms, Some(error));
            }
            let wait = wait_after(delivery.attempts + 1, *after, unit_random());
            let next = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
            let horizon = chrono::Duration::from_std(horizon).unwrap_or(chrono::Duration::MAX);
            let state = if next - delivery.created_at > horizon {
                DeliveryState::Dead
            } else {
                DeliveryState::Retrying
            };
            settle(state, next.timestamp_millis(), Some(error))
        }
    }
}

/// A destination that is gone: a citizen's subscription is deleted (their data with it); an
/// admin's webhook is switched off, with the reason, for the admin to see and fix.
fn remove_destination(
    ctx: &WriteCtx<'_>,
    delivery: &Delivery,
    error: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    let conn = ctx.conn();
    if delivery.destination.starts_with("report:") {
        return Ok(());
    }
    outbox_rows::fail_destination(conn, &delivery.destination, error)?;
    if let Some(chat) = delivery.destination.strip_prefix("chat:") {
        // A chat that blocked the bot: what waits for it fails, and its subscriptions go.
        let chat_id = chat.split_once(':').map_or(chat, |(_, id)| id);
        subscriptions::delete_of_chat(conn, delivery.channel, chat_id)?;
        return Ok(());
    }
    if delivery.channel == OutboundChannel::Webhook {
        subscriptions::set_state(
            conn,
            &delivery.destination,
            SubscriptionState::Disabled,
            Some(error),
            now_ms,
        )?;
    } else {
        subscriptions::delete(conn, &delivery.destination)?;
    }
    Ok(())
}
