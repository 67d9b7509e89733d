//! Deadlines of a lane's sends: each send in flight holds a slot with its start and an abort
//! handle, and a watchdog gives up, once a second, those past the courier's deadline. One
//! timer per lane instead of one per request, which at tens of thousands of sends a second is
//! measurable.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::{AbortHandle, AbortRegistration};
use tokio::time::Instant;

/// How often a lane looks for sends past their deadline; a send may run this much over.
pub(super) const TICK: Duration = Duration::from_secs(1);

pub(super) struct Deadlines {
    deadline: Duration,
    /// One per send in flight at most; `None` is free.
    slots: Vec<Option<(Instant, AbortHandle)>>,
    free: Vec<usize>,
}

impl Deadlines {
    pub(super) fn new(deadline: Duration, concurrency: usize) -> Deadlines {
        Deadlines {
            deadline,
            slots: Vec::with_capacity(concurrency),
            free: Vec::new(),
        }
    }

    /// A slot for a send starting now, and the registration its `Abortable` takes.
    pub(super) fn start(&mut self) -> (usize, AbortRegistration) {
        let (handle, registration) = AbortHandle::new_pair();
        let entry = Some((Instant::now(), handle));
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot] = entry;
                slot
            }
            None => {
                self.slots.push(entry);
                self.slots.len() - 1
            }
        };
        (slot, registration)
    }

    /// The send in `slot` ended, one way or the other.
    pub(super) fn end(&mut self, slot: usize) {
        if let Some(entry) = self.slots.get_mut(slot)
            && entry.take().is_some()
        {
            self.free.push(slot);
        }
    }

    /// Gives up every send that started more than the deadline ago.
    pub(super) fn abort_overdue(&mut self) {
        let now = Instant::now();
        for (started, handle) in self.slots.iter().flatten() {
            if now.duration_since(*started) > self.deadline {
                handle.abort();
            }
        }
    }
}

/// Gives up overdue sends once a `TICK`, until the lane aborts it.
pub(super) async fn watch(deadlines: Arc<Mutex<Deadlines>>) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        deadlines.lock().expect("deadlines lock").abort_overdue();
    }
}

#[cfg(test)]
mod tests {
    use super::Deadlines;
    use futures_util::future::Abortable;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn a_send_past_its_deadline_is_aborted_and_a_finished_one_frees_its_slot() {
        let mut deadlines = Deadlines::new(Duration::from_secs(15), 2);
        let (slow, slow_registration) = deadlines.start();
        let (quick, _) = deadlines.start();
        let send = Abortable::new(std::future::pending::<()>(), slow_registration);

        deadlines.end(quick);
        tokio::time::advance(Duration::from_secs(16)).await;
        deadlines.abort_overdue();

        assert!(send.await.is_err(), "the slow send was given up");
        assert_eq!(
            deadlines.start().0,
            quick,
            "the finished send's slot is taken again"
        );
        assert_ne!(slow, quick);
    }
}
