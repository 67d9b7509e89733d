//! A budget for device ids the hub has not seen before, on MQTT, where nothing but the topic
//! names the sender. Without it, a client inventing a new id for every message would escape
//! the per-device quota; with it, known devices report as before and only so many new ones
//! are admitted each minute.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

/// A device unheard of for this long counts as new again.
const REMEMBER: Duration = Duration::from_secs(30 * 24 * 3600);
/// Devices remembered at most; beyond it the oldest are forgotten first.
const MAX_REMEMBERED: usize = 100_000;

pub struct DeviceBudget {
    /// New devices admitted per minute; `None`: no budget.
    new_devices: Option<DefaultDirectRateLimiter>,
    /// Std mutex: held for a lookup or an insert, never across an `.await`.
    known: Mutex<HashMap<String, Instant>>,
}

impl DeviceBudget {
    /// `per_minute` new devices a minute (0: no budget); `known`: devices already on record.
    pub fn new(per_minute: u32, known: impl IntoIterator<Item = String>) -> DeviceBudget {
        let now = Instant::now();
        DeviceBudget {
            new_devices: NonZeroU32::new(per_minute)
                .map(|rate| RateLimiter::direct(Quota::per_minute(rate))),
            known: Mutex::new(known.into_iter().map(|id| (id, now)).collect()),
        }
    }

    /// Whether a report from `device` may go on: a known device always, a new one if the
    /// minute's budget allows.
    pub fn admit(&self, device: &str) -> bool {
        let Some(new_devices) = &self.new_devices else {
            return true;
        };
        let now = Instant::now();
        let mut known = self.known.lock().expect("device budget lock");
        if let Some(seen) = known.get_mut(device) {
            *seen = now;
            return true;
        }
        if new_devices.check().is_err() {
            return false;
        }
        if known.len() >= MAX_REMEMBERED {
            forget_oldest(&mut known, now);
        }
        known.insert(device.to_owned(), now);
        true
    }
}

/// Forgets devices unheard of for `REMEMBER`, or, if none is that old, the oldest tenth.
fn forget_oldest(known: &mut HashMap<String, Instant>, now: Instant) {
    let before = known.len();
    known.retain(|_, seen| now.saturating_duration_since(*seen) < REMEMBER);
    if known.len() < before {
        return;
    }
    let mut ages: Vec<Instant> = known.values().copied().collect();
    ages.sort_unstable();
    let cutoff = ages[ages.len() / 10];
    known.retain(|_, seen| *seen > cutoff);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_devices_always_report_and_new_ones_only_within_the_budget() {
        let budget = DeviceBudget::new(3, ["tablet-1".to_owned()]);

        let invented: Vec<bool> = (0..10)
            .map(|n| budget.admit(&format!("fake-{n}")))
            .collect();

        assert_eq!(invented.iter().filter(|admitted| **admitted).count(), 3);
        assert!(
            budget.admit("tablet-1"),
            "a device on record is never refused"
        );
        assert!(
            budget.admit("fake-0"),
            "an admitted device is known from then on"
        );
    }
}
