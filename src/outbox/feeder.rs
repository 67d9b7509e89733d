//! A worker's feeder: reads due deliveries in batches, most urgent then oldest first, opens
//! them, and hands them to the send lanes through bounded queues, reading ahead so the senders
//! never wait for the database.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast::error::TryRecvError;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use super::in_flight::{Held, InFlight};
use super::{Outbox, Parcel};
use crate::bus::Events;
use crate::model::{Delivery, NoticeEvent, OutboundChannel, Outcome, ReportChange};
use crate::store::StoreError;
use crate::store::outbox as outbox_rows;

/// Longest wait between looks at the queue when nothing wakes the feeder: retries fall due
/// on their own.
const IDLE_LOOK: Duration = Duration::from_secs(30);

/// What the feeder shares with the senders and the settler.
pub(super) struct Feed {
    pub(super) outbox: Outbox,
    pub(super) channel: OutboundChannel,
    pub(super) in_flight: Arc<Mutex<InFlight>>,
    /// Outcomes of deliveries that cannot be made, settled without a send.
    pub(super) done: mpsc::Sender<(Delivery, Outcome)>,
    /// Told when settled outcomes free a destination's thread.
    pub(super) freed: Arc<Notify>,
}

impl Feed {
    /// Fills the lanes' queues, in turn, until shutdown. A scan goes on from where the last one stopped while
    /// the queue holds more; news of new deliveries (a notice, a retry) restarts it from the
    /// most urgent, so an Actual and Immediate alert never waits behind a long queue.
    pub(super) async fn run(
        self,
        lanes: Vec<mpsc::Sender<Parcel>>,
        events: &Events,
        shutdown: CancellationToken,
    ) {
        let room: usize = lanes.iter().map(mpsc::Sender::max_capacity).sum();
        let batch = (room / 2).max(1);
        let mut next_lane = (0..lanes.len()).cycle();
        let mut wake = WakeUp::new(events, &self.outbox);
        let mut after = None;
        loop {
            if wake.has_news() {
                after = None;
            }
            let (taken, last, full) = self.take_due(after, batch).await;
            after = if full { last } else { None };
            if taken.is_empty() && !full {
                // Whatever is due now is in flight, or waits behind what is: a settled outcome
                // wakes the feeder for it. Only later retries need a timer.
                let (channel, now_ms) = (self.channel, self.outbox.now().timestamp_millis());
                let next_due = self
                    .outbox
                    .inner
                    .store
                    .read(move |conn| outbox_rows::next_due(conn, channel, now_ms))
                    .await
                    .ok()
                    .flatten();
                if !wake
                    .wait(&self.outbox, next_due, &self.freed, &shutdown)
                    .await
                {
                    return;
                }
                continue;
            }
            for parcel in taken {
                let lane = &lanes[next_lane.next().unwrap_or_default()];
                tokio::select! {
                    sent = lane.send(parcel) => if sent.is_err() { return },
                    () = shutdown.cancelled() => return,
                }
            }
        }
    }

    /// Takes up to `limit` due deliveries not already in flight, after `after` when given, and
    /// opens them, all in one read; those that can no longer be made are settled at once. Also
    /// returns the (priority, id) of the last row read, and whether the read was full (more
    /// may follow).
    async fn take_due(
        &self,
        after: Option<(i64, i64)>,
        limit: usize,
    ) -> (Vec<Parcel>, Option<(i64, i64)>, bool) {
        let (channel, now_ms) = (self.channel, self.outbox.now().timestamp_millis());
        // From the start, rows still in flight come first again and are skipped.
        let skip = {
            let mut in_flight = self.in_flight.lock().expect("in-flight lock");
            in_flight.reading();
            if after.is_some() { 0 } else { in_flight.len() }
        };
        let asked = limit + skip;
        let (outbox, in_flight) = (self.outbox.clone(), self.in_flight.clone());
        let read = self.outbox.inner.store.read(move |conn| {
            let due = outbox_rows::due(conn, channel, now_ms, after, asked)?;
            let (full, last) = (
                due.len() == asked,
                due.last().map(|(d, _)| (d.priority, d.id)),
            );
            let taken = in_flight.lock().expect("in-flight lock").take_found(due);
            let mut held = Held::new(&in_flight, &taken);
            let opened = outbox.open_on(conn, taken);
            if opened.is_ok() {
                held.hand_on();
            }
            Ok::<_, StoreError>((opened, last, full))
        });
        match read.await {
            Ok((Ok(opened), last, full)) => (self.settle_undeliverable(opened).await, last, full),
            // The scan goes on past a batch that cannot be opened now; it is read again later.
            Ok((Err(err), last, full)) => {
                tracing::error!(channel = channel.as_str(), %err, "cannot read what deliveries carry");
                (Vec::new(), last, full)
            }
            Err(err) => {
                tracing::error!(channel = channel.as_str(), %err, "cannot read the outbox");
                (Vec::new(), None, false)
            }
        }
    }

    /// The parcels of what was opened; what cannot be delivered goes to the settler.
    async fn settle_undeliverable(
        &self,
        opened: Vec<Result<Parcel, (Delivery, Outcome)>>,
    ) -> Vec<Parcel> {
        let mut parcels = Vec::with_capacity(opened.len());
        for opened in opened {
            match opened {
                Ok(parcel) => parcels.push(parcel),
                Err(settled) => {
                    let _ = self.done.send(settled).await;
                }
            }
        }
        parcels
    }
}

/// What wakes an idle feeder: a committed event that may have queued deliveries, an
/// operator's retry or a new subscription, a freed thread, or the next retry falling due.
struct WakeUp {
    notices: tokio::sync::broadcast::Receiver<Arc<NoticeEvent>>,
    reporter_updates: tokio::sync::broadcast::Receiver<Arc<ReportChange>>,
    woken: tokio::sync::watch::Receiver<u64>,
}

impl WakeUp {
    fn new(events: &Events, outbox: &Outbox) -> WakeUp {
        WakeUp {
            notices: events.subscribe_notices(),
            reporter_updates: events.subscribe_reporter_updates(),
            woken: outbox.inner.wake.subscribe(),
        }
    }

    /// Whether deliveries may have been queued since the last look (and marks it seen).
    fn has_news(&mut self) -> bool {
        let mut news = self.woken.has_changed().unwrap_or(false);
        self.woken.borrow_and_update();
        while let Ok(_) | Err(TryRecvError::Lagged(_)) = self.notices.try_recv() {
            news = true;
        }
        while let Ok(_) | Err(TryRecvError::Lagged(_)) = self.reporter_updates.try_recv() {
            news = true;
        }
        news
    }

    /// False once the hub shuts down.
    async fn wait(
        &mut self,
        outbox: &Outbox,
        next_due_ms: Option<i64>,
        freed: &Notify,
        shutdown: &CancellationToken,
    ) -> bool {
        let now_ms = outbox.now().timestamp_millis();
        let until_due = next_due_ms
            .map(|due| Duration::from_millis(u64::try_from(due - now_ms).unwrap_or(0)))
            .unwrap_or(IDLE_LOOK)
            .min(IDLE_LOOK);
        let reporter_news = async {
            loop {
                match self.reporter_updates.recv().await {
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        std::future::pending::<()>().await;
                    }
                }
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => false,
            _ = self.notices.recv() => true,
            () = reporter_news => true,
            _ = self.woken.changed() => true,
            () = freed.notified() => true,
            () = tokio::time::sleep(until_due) => true,
        }
    }
}
