//! Broadcast of committed events to the channels (WebSocket sessions, MQTT, feeds, outbox).
//!
//! The store's writer is the only publisher, and it publishes only after COMMIT, so a subscriber
//! never sees something that could still be rolled back.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::reports::Report;

/// Events a subscriber may fall behind by before it is told it lagged. A channel that lags
/// re-reads what it needs from the store (or drops the consumer it serves, and says why).
const CAPACITY: usize = 4096;

/// Something that happened and is durably stored.
#[derive(Debug, Clone)]
pub enum Event {
    ReportReceived(Arc<Report>),
}

/// Cheap-to-clone handle on the broadcast channel.
#[derive(Clone)]
pub struct Bus {
    tx: broadcast::Sender<Event>,
}

impl Bus {
    pub fn new() -> Bus {
        let (tx, _) = broadcast::channel(CAPACITY);
        Bus { tx }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    /// Publishes committed events in commit order. Having no subscriber is not an error.
    pub fn publish_all(&self, events: Vec<Event>) {
        for event in events {
            let _ = self.tx.send(event);
        }
    }
}

impl Default for Bus {
    fn default() -> Self {
        Bus::new()
    }
}
