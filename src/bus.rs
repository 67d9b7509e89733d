//! Broadcast of committed events to the channels (WebSocket sessions, MQTT, feeds, outbox).
//!
//! The store's writer is the only publisher, and it publishes only after COMMIT, so a subscriber
//! never sees something that could still be rolled back.

use std::sync::Arc;

use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;

use crate::model::NoticeEvent;
use crate::model::Report;
use crate::model::{Device, Task};
use crate::model::{Incident, Overdue, ReportChange};

/// Events a subscriber may fall behind by before it is told it lagged. A channel that lags
/// re-reads what it needs from the store (or drops the consumer it serves, and says why).
const CAPACITY: usize = 4096;
/// Notice events a WebSocket session may fall behind by. One that falls further is closed and
/// told to reconnect with its cursor: the store still has every event.
const NOTICE_CAPACITY: usize = 1024;

/// Something that happened and is durably stored.
#[derive(Debug, Clone)]
pub enum Event {
    ReportReceived(Arc<Report>),
    /// A status change, a note, a move between incidents, a dispatch.
    ReportChanged(Arc<ReportChange>),
    /// A report just missed a response-time target.
    Overdue(Arc<Overdue>),
    Incident(Arc<Incident>),
    /// A task was dispatched or answered.
    Task(Arc<Task>),
    /// A field device changed state or moved.
    Device(Arc<Device>),
    Notice(Arc<NoticeEvent>),
}

/// Cheap-to-clone handle on the broadcast channel.
#[derive(Clone)]
pub struct Bus {
    tx: broadcast::Sender<Event>,
    /// Notice events only, for the many citizen sessions that want nothing else.
    notices_tx: broadcast::Sender<Arc<NoticeEvent>>,
    /// Report changes that tell the reporter something, for the followers and the outbox:
    /// every report taken in would otherwise wake them for nothing.
    updates_tx: broadcast::Sender<Arc<ReportChange>>,
}

impl Bus {
    pub fn new() -> Bus {
        let (tx, _) = broadcast::channel(CAPACITY);
        let (notices_tx, _) = broadcast::channel(NOTICE_CAPACITY);
        let (updates_tx, _) = broadcast::channel(CAPACITY);
        Bus {
            tx,
            notices_tx,
            updates_tx,
        }
    }

    pub fn subscribe_notices(&self) -> broadcast::Receiver<Arc<NoticeEvent>> {
        self.notices_tx.subscribe()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    pub fn subscribe_reporter_updates(&self) -> broadcast::Receiver<Arc<ReportChange>> {
        self.updates_tx.subscribe()
    }

    /// Publishes committed events in commit order (a batch's incident states after its other
    /// events). Having no subscriber is not an error.
    pub fn publish_all(&self, events: Vec<Event>) {
        for event in events {
            match &event {
                Event::Notice(notice) => {
                    let _ = self.notices_tx.send(notice.clone());
                }
                Event::ReportChanged(change) if change.update.is_some() => {
                    let _ = self.updates_tx.send(change.clone());
                }
                _ => {}
            }
            let _ = self.tx.send(event);
        }
    }
}

impl Bus {
    /// The listening side, for the channels and background tasks: they hear, never publish.
    pub fn events(&self) -> Events {
        Events { bus: self.clone() }
    }
}

/// What the channels and background tasks get of the bus: subscriptions only. Only the
/// store's writer publishes, after COMMIT.
#[derive(Clone)]
pub struct Events {
    bus: Bus,
}

impl Events {
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.bus.subscribe()
    }

    pub fn subscribe_notices(&self) -> broadcast::Receiver<Arc<NoticeEvent>> {
        self.bus.subscribe_notices()
    }

    /// Only the report changes that carry an update for the reporter.
    pub fn subscribe_reporter_updates(&self) -> broadcast::Receiver<Arc<ReportChange>> {
        self.bus.subscribe_reporter_updates()
    }
}

/// What a follower of the bus hears next.
pub enum Heard<T> {
    Event(T),
    /// The follower fell behind and this many events are gone: it must catch up from the store.
    Missed(u64),
}

/// The next thing `events` hears; `None` once `shutdown` is cancelled or the bus is gone. The
/// one loop every follower of the bus runs: `while let Some(heard) = next(..).await`.
pub async fn next<T: Clone>(
    events: &mut broadcast::Receiver<T>,
    shutdown: &CancellationToken,
) -> Option<Heard<T>> {
    tokio::select! {
        _ = shutdown.cancelled() => None,
        received = events.recv() => match received {
            Ok(event) => Some(Heard::Event(event)),
            Err(RecvError::Lagged(missed)) => Some(Heard::Missed(missed)),
            Err(RecvError::Closed) => None,
        },
    }
}

impl Default for Bus {
    fn default() -> Self {
        Bus::new()
    }
}
