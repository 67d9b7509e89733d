//! Deliveries in flight: taken by a read of the queue and not yet settled, so no later read
//! takes them twice and no second state of a thread overtakes the first.

use std::hash::BuildHasher;
use std::sync::{Mutex, PoisonError};

use foldhash::{HashMap, HashSet};

use crate::model::Delivery;
use crate::store::outbox::Due;

/// The set itself, shared by the feeder that takes and the settler that frees.
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
    pub(super) fn reading(&mut self) {
        self.settled_during_read = Some(HashSet::default());
    }

    /// Takes what a read found, except what is in flight or was settled during the read.
    pub(super) fn take_found(&mut self, found: Vec<Due>) -> Vec<Due> {
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

    pub(super) fn len(&self) -> usize {
        self.taken.len()
    }
}

/// Deliveries a read took into flight: freed again when dropped (the opening failed or
/// panicked) unless handed on to the senders.
pub(super) struct Held<'a> {
    in_flight: &'a Mutex<InFlight>,
    ids: Vec<i64>,
}

impl<'a> Held<'a> {
    pub(super) fn new(in_flight: &'a Mutex<InFlight>, taken: &[Due]) -> Held<'a> {
        let ids = taken.iter().map(|(delivery, _)| delivery.id).collect();
        Held { in_flight, ids }
    }

    pub(super) fn hand_on(&mut self) {
        self.ids.clear();
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if self.ids.is_empty() {
            return;
        }
        // Never a second panic while unwinding: a poisoned set is still the set.
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.ids.drain(..).for_each(|id| in_flight.release(id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DeliveryKind, OutboundChannel};

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

    #[test]
    fn what_a_read_took_is_free_again_unless_it_was_handed_on_to_the_senders() {
        let in_flight = Mutex::new(InFlight::default());
        let found = vec![(delivery(1, "a"), None), (delivery(2, "b"), None)];
        let taken = in_flight.lock().unwrap().take_found(found);
        drop(Held::new(&in_flight, &taken));
        assert_eq!(
            in_flight.lock().unwrap().len(),
            0,
            "an opening that failed frees them"
        );

        let taken = in_flight.lock().unwrap().take_found(taken);
        assert_eq!(taken.len(), 2, "the next read takes them again");
        Held::new(&in_flight, &taken).hand_on();
        assert_eq!(
            in_flight.lock().unwrap().len(),
            2,
            "handed on, they stay in flight"
        );
    }
}
