//! Routes each reporter update to the sessions that follow its report (opened by its follow
//! token), so a report event wakes only those sessions and not every connected citizen.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::bus::{self, Events, Heard};
use crate::triage::ReportChange;

/// Updates waiting for one session. A session this far behind is dropped from the registry;
/// it is then closed and resumes with its cursor, so nothing is lost.
const SESSION_QUEUE: usize = 64;

/// What a session follows: one report, by its sequence number.
type FollowKey = i64;

/// The registry of following sessions, shared by the sessions and the routing task.
#[derive(Clone, Default)]
pub struct Followers {
    /// Held only for map updates, never across an `.await`.
    registry: Arc<Mutex<Registry>>,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    /// The only sender of each session's queue: removing it ends that queue.
    queues: HashMap<u64, mpsc::Sender<Arc<ReportChange>>>,
    by_key: HashMap<FollowKey, Vec<u64>>,
}

/// One session's subscription; dropping it leaves the registry.
pub struct Following {
    id: u64,
    keys: HashSet<FollowKey>,
    updates_rx: mpsc::Receiver<Arc<ReportChange>>,
    followers: Followers,
}

impl Followers {
    pub fn join(&self) -> Following {
        let (updates_tx, updates_rx) = mpsc::channel(SESSION_QUEUE);
        let mut registry = self.registry.lock().expect("followers lock");
        registry.next_id += 1;
        let id = registry.next_id;
        registry.queues.insert(id, updates_tx);
        Following {
            id,
            keys: HashSet::new(),
            updates_rx,
            followers: self.clone(),
        }
    }

    /// Routes reporter updates from the bus until shutdown.
    pub async fn run(self, bus: Events, shutdown: CancellationToken) {
        let mut updates = bus.subscribe_reporter_updates();
        while let Some(heard) = bus::next(&mut updates, &shutdown).await {
            match heard {
                Heard::Event(change) => self.route(change),
                // Nobody knows whose updates were missed: every follower resumes from its cursor.
                Heard::Missed(_) => self.drop_everyone(),
            }
        }
    }

    fn route(&self, change: Arc<ReportChange>) {
        let key = change.report.seq;
        let mut registry = self.registry.lock().expect("followers lock");
        let ids = registry.by_key.get(&key).cloned().unwrap_or_default();
        for id in ids {
            let full = registry
                .queues
                .get(&id)
                .is_some_and(|queue| queue.try_send(change.clone()).is_err());
            if full {
                registry.queues.remove(&id);
            }
        }
    }

    fn drop_everyone(&self) {
        self.registry.lock().expect("followers lock").queues.clear();
    }
}

impl Following {
    /// Also routes the updates on report `key` to this session.
    pub fn report(&mut self, key: FollowKey) {
        if !self.keys.insert(key) {
            return;
        }
        let mut registry = self.followers.registry.lock().expect("followers lock");
        registry.by_key.entry(key).or_default().push(self.id);
    }

    /// The next update for a followed report; `None` once the session fell behind.
    pub async fn next(&mut self) -> Option<Arc<ReportChange>> {
        self.updates_rx.recv().await
    }
}

impl Drop for Following {
    fn drop(&mut self) {
        let mut registry = self.followers.registry.lock().expect("followers lock");
        registry.queues.remove(&self.id);
        for key in &self.keys {
            if let Some(ids) = registry.by_key.get_mut(key) {
                ids.retain(|id| *id != self.id);
                if ids.is_empty() {
                    registry.by_key.remove(key);
                }
            }
        }
    }
}
