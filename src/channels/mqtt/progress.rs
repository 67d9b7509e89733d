//! How MQTT intake is moving: messages taken from the broker and not yet acknowledged, and
//! when the last acknowledgement left. `/readyz` turns unready when intake stalls.
//!
//! The broker sends the hub only a small window of unacknowledged QoS 1 messages
//! (`max_inflight_messages`, 20 by default). A message that is never acknowledged keeps its
//! slot until the hub reconnects, so a few lost PUBACKs stop intake while the connection looks
//! healthy. This is what makes that visible.

use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

/// Messages taken from the broker and not yet acknowledged, as `/readyz` and `/metrics` show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IntakeSnapshot {
    /// Messages received that still wait for their PUBACK to leave.
    pub unacked: u64,
    /// Of those, how many are being handled right now (stored, answered).
    pub in_flight: u64,
    /// Messages waited for their PUBACK for longer than the stall limit with none leaving.
    pub stalled: bool,
    /// Every QoS 1 message received since start.
    #[serde(skip)]
    pub received_total: u64,
    /// Every PUBACK sent since start.
    #[serde(skip)]
    pub acked_total: u64,
}

/// Counters shared by the MQTT event loop (which sees messages arrive and PUBACKs leave) and
/// the handlers; read by `/readyz`.
#[derive(Debug)]
pub struct IntakeProgress {
    stall_after: Duration,
    /// Std mutex: held for a few counter updates, never across an `.await`.
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    unacked: u64,
    in_flight: u64,
    /// When the oldest wait began, or the last PUBACK left while others still waited.
    waiting_since: Instant,
    received_total: u64,
    acked_total: u64,
}

impl IntakeProgress {
    pub fn new(stall_after: Duration) -> IntakeProgress {
        IntakeProgress {
            stall_after,
            state: Mutex::new(State {
                unacked: 0,
                in_flight: 0,
                waiting_since: Instant::now(),
                received_total: 0,
                acked_total: 0,
            }),
        }
    }

    fn with<T>(&self, change: impl FnOnce(&mut State) -> T) -> T {
        change(&mut self.state.lock().expect("intake progress lock"))
    }

    /// A QoS 1 message arrived and now needs its PUBACK.
    pub fn received(&self) {
        self.with(|state| {
            if state.unacked == 0 {
                state.waiting_since = Instant::now();
            }
            state.unacked += 1;
            state.received_total += 1;
        });
    }

    /// A PUBACK left for the broker.
    pub fn acked(&self) {
        self.with(|state| {
            state.unacked = state.unacked.saturating_sub(1);
            state.acked_total += 1;
            state.waiting_since = Instant::now();
        });
    }

    /// A handler started or finished with a message.
    pub fn handling(&self, started: bool) {
        self.with(|state| match started {
            true => state.in_flight += 1,
            false => state.in_flight = state.in_flight.saturating_sub(1),
        });
    }

    /// The connection was lost or made again: the broker delivers every unacknowledged
    /// message anew, so nothing is owed on the old connection.
    pub fn reconnected(&self) {
        self.with(|state| {
            state.unacked = 0;
            state.waiting_since = Instant::now();
        });
    }

    pub fn snapshot(&self) -> IntakeSnapshot {
        self.snapshot_at(Instant::now())
    }

    pub fn snapshot_at(&self, now: Instant) -> IntakeSnapshot {
        self.with(|state| IntakeSnapshot {
            unacked: state.unacked,
            in_flight: state.in_flight,
            stalled: state.unacked > 0
                && now.saturating_duration_since(state.waiting_since) >= self.stall_after,
            received_total: state.received_total,
            acked_total: state.acked_total,
        })
    }
}

impl Default for IntakeProgress {
    /// For a hub without MQTT: nothing ever waits.
    fn default() -> IntakeProgress {
        IntakeProgress::new(Duration::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Duration = Duration::from_secs(30);

    #[tokio::test(start_paused = true)]
    async fn messages_waiting_with_no_puback_leaving_for_the_limit_are_a_stall() {
        let progress = IntakeProgress::new(LIMIT);
        progress.received();
        progress.received();

        tokio::time::advance(LIMIT - Duration::from_secs(1)).await;
        assert!(!progress.snapshot().stalled);
        tokio::time::advance(Duration::from_secs(1)).await;
        let stuck = progress.snapshot();

        assert!(stuck.stalled);
        assert_eq!(stuck.unacked, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_puback_leaving_shows_progress_and_an_empty_window_never_stalls() {
        let progress = IntakeProgress::new(LIMIT);
        progress.received();
        progress.received();
        tokio::time::advance(LIMIT - Duration::from_secs(1)).await;

        progress.acked();
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(!progress.snapshot().stalled, "one left recently");
        progress.acked();
        tokio::time::advance(LIMIT * 10).await;

        let idle = progress.snapshot();
        assert!(!idle.stalled, "nothing waits");
        assert_eq!((idle.received_total, idle.acked_total), (2, 2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_reconnection_forgets_what_the_old_connection_owed() {
        let progress = IntakeProgress::new(LIMIT);
        progress.received();
        tokio::time::advance(LIMIT * 2).await;
        assert!(progress.snapshot().stalled);

        progress.reconnected();

        assert!(!progress.snapshot().stalled);
        assert_eq!(progress.snapshot().unacked, 0);
    }
}
