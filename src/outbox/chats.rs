//! Chats subscribing to a place's notices: active at once (the chat itself asked, from its own
//! account), and one per chat and place, so pressing "Iscriviti" twice sends nothing twice; and
//! the channels and groups the office's configuration names.

use super::{NewSubscription, Outbox, SubscriptionView};
use crate::config::TelegramChannel;
use crate::model::{OutboundChannel, Subscription, SubscriptionState, Target};
use crate::problem::{ErrorCode, Problem};
use crate::store::{StoreError, subscriptions};

impl Outbox {
    /// Subscribes a chat to the notices of a place; a second call for the same place moves it.
    pub async fn subscribe_chat(
        &self,
        channel: OutboundChannel,
        new: NewSubscription,
    ) -> Result<SubscriptionView, Problem> {
        let Some(chat_id) = new.target.chat_id() else {
            return Err(Problem::new(
                ErrorCode::InvalidField,
                "a chat subscription needs a chat",
            ));
        };
        let subscription = self.new_subscription(channel, SubscriptionState::Active, &new)?;
        let (stored, chat_id) = (subscription.clone(), chat_id.to_owned());
        self.inner
            .store
            .write(move |ctx| -> Result<(), StoreError> {
                let conn = ctx.conn();
                subscriptions::delete_chat_place(conn, channel, &chat_id, &stored.zones)?;
                subscriptions::insert(conn, &stored)
            })
            .await?;
        self.wake();
        Ok(SubscriptionView::of(&subscription))
    }
}

/// Who a subscription from the configuration was made by: it is replaced at each start.
const FROM_CONFIGURATION: &str = "configuration";

impl Outbox {
    /// Makes the configured Telegram channels and groups the subscriptions of record, replacing
    /// those of the previous start. Unknown zone ids are refused, naming them.
    pub async fn configure_telegram_channels(
        &self,
        channels: &[TelegramChannel],
    ) -> Result<usize, Problem> {
        let zones = self.inner.zones.snapshot();
        let unknown: Vec<&str> = channels
            .iter()
            .flat_map(|channel| &channel.zones)
            .filter(|zone| zones.get(zone).is_none())
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(Problem::with_field(
                ErrorCode::InvalidField,
                "telegram.channels",
                format!(
                    "no zone has the id {}; see GET /api/v1/zones",
                    unknown.join(", ")
                ),
            ));
        }
        let now = self.now();
        let language = self.settings().default_language.clone();
        let subscriptions: Vec<Subscription> = channels
            .iter()
            .map(|channel| Subscription {
                id: uuid::Uuid::now_v7().to_string(),
                channel: OutboundChannel::Telegram,
                state: SubscriptionState::Active,
                target: Target::Telegram {
                    chat_id: channel.chat_id.clone(),
                },
                zones: channel.zones.clone(),
                point: None,
                severities: channel.severities.clone(),
                events: None,
                language: language.clone(),
                allow_private: false,
                label: channel.label.clone(),
                created_by: Some(FROM_CONFIGURATION.into()),
                created_at: now,
                disabled_reason: None,
            })
            .collect();
        let count = subscriptions.len();
        self.inner
            .store
            .write(move |ctx| -> Result<(), StoreError> {
                let conn = ctx.conn();
                subscriptions::delete_made_by(conn, OutboundChannel::Telegram, FROM_CONFIGURATION)?;
                subscriptions
                    .iter()
                    .try_for_each(|s| subscriptions::insert(conn, s))
            })
            .await?;
        Ok(count)
    }
}
