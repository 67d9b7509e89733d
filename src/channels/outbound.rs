//! The seam every outbound notice channel plugs into: it hears each committed notice event in
//! commit order, builds and sends its own envelope, and is told when it fell behind so that it
//! can catch up from the store. A new channel is one module implementing [`NoticeChannel`] and
//! one `serve` line in `app/background.rs` (or where its connection starts).

use std::future::Future;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::bus::{self, Events, Heard};
use crate::notices::NoticeEvent;

/// An outbound channel for notices.
pub trait NoticeChannel: Send + Sync + 'static {
    /// Delivers one committed event; events come in commit order.
    fn deliver(&self, event: Arc<NoticeEvent>) -> impl Future<Output = ()> + Send;

    /// `missed` events are gone from the bus: bring every destination back to what the store
    /// holds (or tell each to resume from its cursor).
    fn catch_up(&self, missed: u64) -> impl Future<Output = ()> + Send;
}

/// Runs `channel` on the committed notice events until shutdown.
pub async fn serve(channel: impl NoticeChannel, events: Events, shutdown: CancellationToken) {
    let mut notices = events.subscribe_notices();
    while let Some(heard) = bus::next(&mut notices, &shutdown).await {
        match heard {
            Heard::Event(event) => channel.deliver(event).await,
            Heard::Missed(missed) => channel.catch_up(missed).await,
        }
    }
}
