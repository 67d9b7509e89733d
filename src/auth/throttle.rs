//! Failed logins, counted per address and per account name from that address.
//!
//! Only failures count, and a name is always counted together with the address it was tried
//! from: someone guessing at `olga` from one address cannot lock `olga` out from her own desk.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::addr::limit_key;

/// Counting stops growing past this many keys (a flood of addresses): failures are then not
/// recorded until old ones expire. Guessing stays bounded by the password work limit.
const MAX_KEYS: usize = 65_536;
const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Address(Option<IpAddr>),
    Account(String, Option<IpAddr>),
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

/// How many failures a minute each key may have before further attempts are refused.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimits {
    pub per_address: u32,
    pub per_account_and_address: u32,
}

pub(super) struct FailedLogins {
    limits: ThrottleLimits,
    /// Std mutex: held for a lookup or an increment, never across an `.await`.
    windows: Mutex<HashMap<Key, Window>>,
}

/// Which limit an attempt is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Throttled {
    Address { retry_after: Duration },
    Account { retry_after: Duration },
}

/// A login attempt, counted as failed until it is known not to be.
pub(super) struct Attempt<'a> {
    logins: &'a FailedLogins,
    ip: Option<IpAddr>,
    name: String,
    failed: bool,
}

impl Attempt<'_> {
    /// The password was checked and was wrong: the attempt stays counted.
    pub(super) fn failed(mut self) {
        self.failed = true;
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.failed {
            self.logins.take_back(self.ip, &self.name);
        }
    }
}

impl FailedLogins {
    pub(super) fn new(limits: ThrottleLimits) -> FailedLogins {
        FailedLogins {
            limits,
            windows: Mutex::new(HashMap::new()),
        }
    }

    fn keys(ip: Option<IpAddr>, name: &str) -> (Key, Key) {
        let ip = ip.map(limit_key);
        (Key::Address(ip), Key::Account(name.to_owned(), ip))
    }

    /// Refuses an attempt from an address, or for a name from an address, over its limit;
    /// otherwise counts it as failed at once, so that attempts sent together cannot all pass
    /// while none has failed yet. The count is taken back when the [`Attempt`] is dropped
    /// without [`Attempt::failed`]: a right password, a busy check, an error, a client gone.
    pub(super) fn attempt(&self, ip: Option<IpAddr>, name: &str) -> Result<Attempt<'_>, Throttled> {
        let (address, account) = Self::keys(ip, name);
        let now = Instant::now();
        let mut windows = self.windows.lock().expect("login throttle lock");
        let over = |key: &Key, limit: u32| {
            windows
                .get(key)
                .filter(|window| now < window.started + WINDOW && window.failures >= limit)
                .map(|window| (window.started + WINDOW).saturating_duration_since(now))
        };
        if let Some(retry_after) = over(&address, self.limits.per_address) {
            return Err(Throttled::Address { retry_after });
        }
        if let Some(retry_after) = over(&account, self.limits.per_account_and_address) {
            return Err(Throttled::Account { retry_after });
        }
        for key in [address, account] {
            if windows.len() >= MAX_KEYS && !windows.contains_key(&key) {
                continue;
            }
            let window = windows.entry(key).or_insert(Window {
                started: now,
                failures: 0,
            });
            if now >= window.started + WINDOW {
                *window = Window {
                    started: now,
                    failures: 0,
                };
            }
            window.failures += 1;
        }
        Ok(Attempt {
            logins: self,
            ip,
            name: name.to_owned(),
            failed: false,
        })
    }

    /// Takes back an attempt that did not fail: the password was right, or was never checked.
    fn take_back(&self, ip: Option<IpAddr>, name: &str) {
        let (address, account) = Self::keys(ip, name);
        let mut windows = self.windows.lock().expect("login throttle lock");
        for key in [address, account] {
            if let Some(window) = windows.get_mut(&key) {
                window.failures = window.failures.saturating_sub(1);
            }
        }
    }

    /// Forgets windows that have ended.
    pub(super) fn prune(&self) {
        let now = Instant::now();
        self.windows
            .lock()
            .expect("login throttle lock")
            .retain(|_, window| now < window.started + WINDOW);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ThrottleLimits = ThrottleLimits {
        per_address: 30,
        per_account_and_address: 10,
    };

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[tokio::test(start_paused = true)]
    async fn failures_for_a_name_from_one_address_do_not_lock_it_out_elsewhere() {
        let throttle = FailedLogins::new(LIMITS);
        for _ in 0..10 {
            throttle
                .attempt(ip("203.0.113.9"), "olga")
                .unwrap()
                .failed();
        }

        assert!(matches!(
            throttle.attempt(ip("203.0.113.9"), "olga"),
            Err(Throttled::Account { .. })
        ));
        assert!(throttle.attempt(ip("198.51.100.4"), "olga").is_ok());
        assert!(throttle.attempt(ip("203.0.113.9"), "aldo").is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn an_address_guessing_many_names_is_stopped_and_forgiven_after_a_minute() {
        let throttle = FailedLogins::new(LIMITS);
        for n in 0..30 {
            throttle
                .attempt(ip("203.0.113.9"), &format!("name{n}"))
                .unwrap()
                .failed();
        }

        assert!(matches!(
            throttle.attempt(ip("203.0.113.9"), "olga"),
            Err(Throttled::Address { .. })
        ));
        tokio::time::advance(WINDOW).await;
        throttle.prune();
        assert!(throttle.windows.lock().unwrap().is_empty());
        assert!(throttle.attempt(ip("203.0.113.9"), "olga").is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_in_flight_together_count_before_any_has_failed() {
        let throttle = FailedLogins::new(LIMITS);
        let in_flight: Vec<Attempt<'_>> = (0..60)
            .filter_map(|_| throttle.attempt(ip("203.0.113.9"), "aldo").ok())
            .collect();

        assert_eq!(in_flight.len(), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn an_attempt_that_did_not_fail_is_taken_back_when_it_ends() {
        let throttle = FailedLogins::new(LIMITS);
        for _ in 0..9 {
            throttle
                .attempt(ip("203.0.113.9"), "olga")
                .unwrap()
                .failed();
        }
        // A right password, a busy check, an error or a client gone: none of them failed.
        for _ in 0..5 {
            drop(throttle.attempt(ip("203.0.113.9"), "olga").unwrap());
        }

        throttle
            .attempt(ip("203.0.113.9"), "olga")
            .unwrap()
            .failed();
        assert!(throttle.attempt(ip("203.0.113.9"), "olga").is_err());
    }
}
