//! The hub's notion of "now": the system clock in production, a hand-driven one in tests;
//! and the one loop for work done every so often until shutdown.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// A future the clock resolves when its time has come.
pub type Alarm = Pin<Box<dyn Future<Output = ()> + Send>>;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;

    /// Resolves once `now() >= at`.
    fn sleep_until(&self, at: DateTime<Utc>) -> Alarm;
}

/// Shared handle every service holds.
pub type SharedClock = Arc<dyn Clock>;

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Alarm {
        let wait = (at - Utc::now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
}

pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

/// A clock that only moves when told to, so tests of deadlines and expiry need no sleeps.
pub struct ManualClock {
    /// Std mutex: held only to read or bump a value, never across an `.await`.
    now: Mutex<DateTime<Utc>>,
    /// Wakes sleepers when the time moves.
    moved_tx: watch::Sender<DateTime<Utc>>,
}

impl ManualClock {
    pub fn starting_at(now: DateTime<Utc>) -> Arc<ManualClock> {
        Arc::new(ManualClock {
            now: Mutex::new(now),
            moved_tx: watch::channel(now).0,
        })
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().expect("clock lock");
        *now += by;
        self.moved_tx.send_replace(*now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().expect("clock lock")
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Alarm {
        let mut moved = self.moved_tx.subscribe();
        Box::pin(async move {
            let _ = moved.wait_for(|now| *now >= at).await;
        })
    }
}

/// Runs `work` at once and then every `period` until `shutdown` is cancelled (real time: the
/// housekeeping it drives does not follow a test's hand-driven clock).
pub async fn every<F, Fut>(period: std::time::Duration, shutdown: &CancellationToken, mut work: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut ticks = tokio::time::interval(period);
    while shutdown.run_until_cancelled(ticks.tick()).await.is_some() {
        work().await;
    }
}
