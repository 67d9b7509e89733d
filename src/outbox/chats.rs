//! Chats subscribing to a place's notices: active at once (the chat itself asked, from its own
//! account), and one per chat and place, so pressing "Iscriviti" twice sends nothing twice.

use super::{NewSubscription, Outbox, SubscriptionView};
use crate::model::{OutboundChannel, SubscriptionState, Target};
use crate::problem::{ErrorCode, Problem};
use crate::store::{StoreError, subscriptions};

impl Outbox {
    /// Subscribes a chat to the notices of a place; a second call for the same place moves it.
    pub async fn subscribe_chat(
        &self,
        channel: OutboundChannel,
        new: NewSubscription,
    ) -> Result<SubscriptionView, Problem> {
        let Target::Telegram { chat_id } = &new.target else {
            return Err(Problem::new(
                ErrorCode::InvalidField,
                "a chat subscription needs a chat",
            ));
        };
        let subscription = self.new_subscription(channel, SubscriptionState::Active, &new)?;
        let (stored, chat_id) = (subscription.clone(), chat_id.clone());
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
