//! The delivery ledger: what each notice reached, per channel and kind of destination
//! (WebSocket sessions, MQTT zone topics, and whatever a new channel counts).
//!
//! Counts live in memory, where channels add to them as they deliver, and are written to the
//! store's one `deliveries` table every few seconds and at shutdown. A new channel names its
//! [`Destination`] and needs no new column.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde::Serialize;

/// Where a notice went: a channel, and what it counts there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Destination {
    pub channel: &'static str,
    pub kind: &'static str,
}

impl Destination {
    /// WebSocket sessions the notice frame was written to.
    pub const WS_SESSIONS: Destination = Destination {
        channel: "websocket",
        kind: "sessions",
    };
    /// MQTT zone topics the broker routed the notice on, each once.
    pub const MQTT_TOPICS: Destination = Destination {
        channel: "mqtt",
        kind: "topics",
    };
}

/// What one notice reached: channel → destination kind → count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DeliveryTotals(BTreeMap<String, BTreeMap<String, u64>>);

impl DeliveryTotals {
    pub fn get(&self, destination: Destination) -> u64 {
        self.0
            .get(destination.channel)
            .and_then(|kinds| kinds.get(destination.kind))
            .copied()
            .unwrap_or(0)
    }

    /// Keeps the larger of what is there and `count`.
    pub fn raise(&mut self, channel: &str, kind: &str, count: u64) {
        let entry = self
            .0
            .entry(channel.to_owned())
            .or_default()
            .entry(kind.to_owned())
            .or_default();
        *entry = (*entry).max(count);
    }

    /// Each count the larger of the two.
    pub fn raise_all(&mut self, other: &DeliveryTotals) {
        for (channel, kind, count) in other.entries() {
            self.raise(channel, kind, count);
        }
    }

    /// (channel, destination kind, count), in order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str, u64)> {
        self.0.iter().flat_map(|(channel, kinds)| {
            kinds
                .iter()
                .map(move |(kind, count)| (channel.as_str(), kind.as_str(), *count))
        })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What one notice reached since this hub started, above what the store already had.
#[derive(Debug, Default)]
pub struct DeliveryCount {
    /// Std mutex: held only to add to a number or a set, never across an `.await`.
    tally: Mutex<Tally>,
}

#[derive(Debug, Default)]
struct Tally {
    counts: HashMap<Destination, u64>,
    /// Destinations counted once however often they are reached (MQTT topics), by name.
    distinct: HashMap<Destination, HashSet<String>>,
    /// What the store had when the counter was made: totals never go below it.
    stored: DeliveryTotals,
}

impl DeliveryCount {
    /// Counts `count` more deliveries to `destination`.
    pub fn add(&self, destination: Destination, count: u64) {
        *self.lock().counts.entry(destination).or_default() += count;
    }

    /// Counts the destination named `name` once, however often it is reached.
    pub fn add_distinct(&self, destination: Destination, name: &str) {
        let mut tally = self.lock();
        let names = tally.distinct.entry(destination).or_default();
        if !names.contains(name) {
            names.insert(name.to_owned());
        }
    }

    pub fn totals(&self) -> DeliveryTotals {
        let tally = self.lock();
        let mut totals = tally.stored.clone();
        for (destination, count) in &tally.counts {
            totals.raise(destination.channel, destination.kind, *count);
        }
        for (destination, names) in &tally.distinct {
            totals.raise(destination.channel, destination.kind, names.len() as u64);
        }
        totals
    }

    fn restore(&self, stored: &DeliveryTotals) {
        self.lock().stored.raise_all(stored);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally.lock().expect("delivery lock")
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
    pub fn counter(&self, notice_id: &str, stored: Option<&DeliveryTotals>) -> Arc<DeliveryCount> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_counts_by_its_own_destination_and_never_below_what_was_stored() {
        let deliveries = Deliveries::default();
        let mut stored = DeliveryTotals::default();
        stored.raise("websocket", "sessions", 5);
        let count = deliveries.counter("n-1", Some(&stored));

        count.add(Destination::WS_SESSIONS, 2);
        count.add_distinct(Destination::MQTT_TOPICS, "zones/a");
        count.add_distinct(Destination::MQTT_TOPICS, "zones/a");
        count.add(
            Destination {
                channel: "email",
                kind: "addresses",
            },
            3,
        );
        let totals = count.totals();

        assert_eq!(
            totals.get(Destination::WS_SESSIONS),
            5,
            "the stored count is a floor"
        );
        assert_eq!(
            totals.get(Destination::MQTT_TOPICS),
            1,
            "a topic counts once"
        );
        assert_eq!(
            serde_json::to_value(&totals).unwrap(),
            serde_json::json!({ "email": { "addresses": 3 }, "mqtt": { "topics": 1 }, "websocket": { "sessions": 5 } })
        );
    }
}
