//! Delivery accounting: how many WebSocket sessions and MQTT zone topics each notice reached.
//!
//! Counters live in memory, where sessions bump them without a lock, and are written to the
//! store every few seconds and at shutdown.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

/// What one notice reached.
#[derive(Debug, Default)]
pub struct DeliveryCount {
    ws_sessions: AtomicU64,
    /// Std mutex: held only to insert a topic name, never across an `.await`.
    mqtt_topics: Mutex<HashSet<String>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryTotals {
    pub ws_sessions: u64,
    pub mqtt_topics: u64,
}

impl DeliveryCount {
    pub fn add_ws_session(&self) {
        self.add_ws_sessions(1);
    }

    pub fn add_ws_sessions(&self, sessions: u64) {
        self.ws_sessions.fetch_add(sessions, Ordering::Relaxed);
    }

    /// Counts a topic once however often the broker routes the notice on it.
    pub fn add_mqtt_topic(&self, topic: &str) {
        let mut topics = self.mqtt_topics.lock().expect("delivery lock");
        if !topics.contains(topic) {
            topics.insert(topic.to_owned());
        }
    }

    pub fn totals(&self) -> DeliveryTotals {
        DeliveryTotals {
            ws_sessions: self.ws_sessions.load(Ordering::Relaxed),
            mqtt_topics: self.mqtt_topics.lock().expect("delivery lock").len() as u64,
        }
    }

    fn restore(&self, stored: DeliveryTotals) {
        self.ws_sessions
            .fetch_max(stored.ws_sessions, Ordering::Relaxed);
    }
}

/// Counters of every notice sent since start.
#[derive(Clone, Default)]
pub struct Deliveries {
    /// Std mutex: held only to find or add a counter.
    counters: Arc<Mutex<HashMap<String, Arc<DeliveryCount>>>>,
}

impl Deliveries {
    /// The counter of a notice, created on first use, starting from what the store had.
    pub fn counter(&self, notice_id: &str, stored: Option<DeliveryTotals>) -> Arc<DeliveryCount> {
        let mut counters = self.counters.lock().expect("deliveries lock");
        let counter = counters.entry(notice_id.to_owned()).or_default().clone();
        if let Some(stored) = stored {
            counter.restore(stored);
        }
        counter
    }

    /// The counter if this hub has one (it sent the notice since it started).
    pub fn existing(&self, notice_id: &str) -> Option<Arc<DeliveryCount>> {
        self.counters
            .lock()
            .expect("deliveries lock")
            .get(notice_id)
            .cloned()
    }

    /// Every counter, for writing to the store.
    pub fn snapshot(&self) -> Vec<(String, DeliveryTotals)> {
        let counters = self.counters.lock().expect("deliveries lock");
        counters
            .iter()
            .map(|(id, counter)| (id.clone(), counter.totals()))
            .collect()
    }
}
