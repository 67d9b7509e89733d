//! A worker's feeder: reads due deliveries in batches, most urgent then oldest first, opens
//! them, and hands them to the send lanes through bounded queues, reading ahead so the senders
//! never wait for the database.

use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use foldhash::{HashMap, HashSet};
use tokio::sync::broadcast::error::TryRecvError;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use super::{Outbox, Parcel};
use crate::bus::Events;
use crate::model::{Delivery, NoticeEvent, OutboundChannel, Outcome, ReportChange};
use crate::store::outbox::{self as outbox_rows, Due};

/// Longest wait between looks at the queue when nothing wakes the feeder: retries fall due
/// on their own.
const IDLE_LOOK: Duration = Duration::from_secs(30);

/// Deliveries taken but not yet settled, so no look at the queue takes them twice and no
/// second state of a thread overtakes the first.
#[derive(Default)]
pub(super) struct InFlight {
    /// Each delivery taken, with the key of its destination and thread.
    taken: HashMap<i64, ThreadKey>,
    threads: HashSet<ThreadKey>,
    /// Settled while the feeder was reading: that read may still show them waiting.
    settled_during_read: Option<HashSet<i64>>,
    keys: foldhash::quality::RandomState,
}

/// A destination and a thread, hashed: deliveries in one go out in order. Two pairs that share
/// a key (one chance in 2^64, with a seed of this worker's own) only wait for each other.
type ThreadKey = u64;

impl InFlight {
    /// Called before reading the queue: what is released from now on may be read stale.
    fn reading(&mut self) {
        self.settled_during_read = Some(HashSet::default());
    }

    /// Takes what a read found, except what is in flight or was settled during the read.
    fn take_found(&mut self, found: Vec<Due>) -> Vec<Due> {
        let settled = self.settled_during_read.take().unwrap_or_default();
        found
            .into_iter()
            .filter(|(delivery, _)| !settled.contains(&delivery.id) && self.take(delivery))
            .collect()
    }

    fn take(&mut self, delivery: &Delivery) -> bool {
        if self.taken.contains_key(&delivery.id) {
            return false;
        }
        let thread = self
            .keys
            .hash_one((delivery.destination.as_str(), delivery.thread.as_str()));
        if !self.threads.insert(thread) {
            return false;
        }
        self.taken.insert(delivery.id, thread);
        true
    }

    /// Frees a delivery once its outcome is committed.
    pub(super) fn release(&mut self, id: i64) {
        if let Some(thread) = self.taken.remove(&id) {
            self.threads.remove(&thread);
        }
        if let Some(settled) = &mut self.settled_during_read {
            settled.insert(id);
        }
    }

    fn len(&self) -> usize {
        self.taken.len()
    }
}

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
            let ids: Vec<i64> = taken.iter().map(|(delivery, _)| delivery.id).collect();
            match outbox.open_on(conn, taken) {
                Ok(opened) => Ok((opened, last, full)),
                Err(err) => {
                    let mut in_flight = in_flight.lock().expect("in-flight lock");
                    ids.into_iter().for_each(|id| in_flight.release(id));
                    Err(err)
                }
            }
        });
        match read.await {
            Ok((opened, last, full)) => (self.settle_undeliverable(opened).await, last, full),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DeliveryKind;

    fn delivery(id: i64, destination: &str) -> Delivery {
        in_thread(id, destination, "thread-1")
    }

    fn in_thread(id: i64, destination: &str, thread: &str) -> Delivery {
        Delivery {
            id,
            channel: OutboundChannel::Webhook,
            destination: destination.into(),
            thread: thread.into(),
            kind: DeliveryKind::Alert,
            attempts: 0,
            created_at: chrono::Utc::now(),
            notice_id: None,
            event_seq: None,
            report_id: None,
            update_cursor: None,
            message_id: None,
            priority: 0,
        }
    }

    #[test]
    fn a_delivery_settled_while_the_queue_was_read_is_not_taken_again_from_that_read() {
        let mut in_flight = InFlight::default();
        assert_eq!(
            in_flight.take_found(vec![(delivery(1, "a"), None)]).len(),
            1
        );
        in_flight.reading();
        // The read began before the outcome was committed, so it still shows the row waiting.
        in_flight.release(1);
        let stale = vec![(delivery(1, "a"), None), (delivery(2, "b"), None)];
        let taken = in_flight.take_found(stale);
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].0.id, 2);
    }

    #[test]
    fn a_second_delivery_in_a_thread_waits_until_the_first_is_settled() {
        let mut in_flight = InFlight::default();
        assert_eq!(
            in_flight.take_found(vec![(delivery(1, "a"), None)]).len(),
            1
        );
        assert!(
            in_flight
                .take_found(vec![(delivery(3, "a"), None)])
                .is_empty()
        );
        in_flight.release(1);
        in_flight.reading();
        assert_eq!(
            in_flight.take_found(vec![(delivery(3, "a"), None)]).len(),
            1
        );
    }

    #[test]
    fn deliveries_of_other_threads_or_other_destinations_go_out_together() {
        let mut in_flight = InFlight::default();
        let found = vec![
            (in_thread(1, "a", "t1"), None),
            (in_thread(2, "a", "t2"), None),
            (in_thread(3, "b", "t1"), None),
            (in_thread(4, "ab", ""), None),
            (in_thread(5, "", "ab"), None),
        ];
        assert_eq!(in_flight.take_found(found).len(), 5);
        assert!(
            in_flight
                .take_found(vec![(in_thread(6, "b", "t1"), None)])
                .is_empty()
        );
    }
}
