//! Failed logins, counted per address and per account name from that address.
//!
//! Only failures count, and a name is always counted together with the address it was tried
//! from: someone guessing at `olga` from one address cannot lock `olga` out from her own desk.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::sync::futures::OwnedNotified;
use tokio::time::Instant;

use crate::addr::limit_key;

/// Counting stops growing past this many keys (a flood of addresses): failures are then not
/// recorded until old ones expire. Guessing stays bounded by the password work limit.
const MAX_KEYS: usize = 65_536;
const WINDOW: Duration = Duration::from_secs(60);
/// Longest an attempt waits for the checks under way from its address. A check ends within the
/// password work's own bounds, so this is reached only when the machine is overwhelmed.
const MAX_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Address(Option<IpAddr>),
    Account(String, Option<IpAddr>),
}

#[derive(Debug)]
struct Window {
    started: Instant,
    failures: u32,
    /// Attempts being checked: each may yet be a failure.
    checking: u32,
    /// Woken when one of them ends; an address's waiters wait on their address's window.
    settled: Arc<Notify>,
}

impl Window {
    fn new(now: Instant) -> Window {
        Window {
            started: now,
            failures: 0,
            checking: 0,
            settled: Arc::new(Notify::new()),
        }
    }

    fn ended(&self, now: Instant) -> bool {
        now >= self.started + WINDOW
    }

    /// Failures that still count: none once the window has ended.
    fn failures_at(&self, now: Instant) -> u32 {
        if self.ended(now) { 0 } else { self.failures }
    }
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

/// Why an attempt is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Throttled {
    Address {
        retry_after: Duration,
    },
    Account {
        retry_after: Duration,
    },
    /// It waited `MAX_WAIT` for the checks under way from its address: the hub is overwhelmed.
    StillChecking,
}

/// What the counts allow an attempt now.
enum Verdict {
    Go,
    Refused(Throttled),
    /// Failures and checks under way together reach a limit: the checks decide. Made while
    /// the counts were read, so no check that ends after the read goes unnoticed.
    WaitForChecks(OwnedNotified),
}

/// A login attempt being checked, counted as a possible failure until it ends.
pub(super) struct Attempt<'a> {
    logins: &'a FailedLogins,
    ip: Option<IpAddr>,
    name: String,
    failed: bool,
}

impl Attempt<'_> {
    /// The password was checked and was wrong: the attempt is counted as failed.
    pub(super) fn failed(mut self) {
        self.failed = true;
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        self.logins.settle(self.ip, &self.name, self.failed);
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

    /// Refuses an attempt from an address, or for a name from an address, over its limit of
    /// failures. Attempts still being checked count as possible failures: while they and the
    /// failures reach a limit, a new attempt waits for them, so attempts sent together cannot
    /// all pass while none has failed yet, and right logins sent together from one address (a
    /// whole shift behind one NAT) wait a moment instead of being refused. The [`Attempt`]
    /// counts as failed only when [`Attempt::failed`] is called before it is dropped.
    pub(super) async fn attempt(
        &self,
        ip: Option<IpAddr>,
        name: &str,
    ) -> Result<Attempt<'_>, Throttled> {
        let (address, account) = Self::keys(ip, name);
        let deadline = Instant::now() + MAX_WAIT;
        loop {
            match self.verdict(&address, &account) {
                Verdict::Go => {
                    return Ok(Attempt {
                        logins: self,
                        ip,
                        name: name.to_owned(),
                        failed: false,
                    });
                }
                Verdict::Refused(throttled) => return Err(throttled),
                Verdict::WaitForChecks(settled) => {
                    if tokio::time::timeout_at(deadline, settled).await.is_err() {
                        return Err(Throttled::StillChecking);
                    }
                }
            }
        }
    }

    /// Refused over a limit of failures; else waits while checks under way could reach one;
    /// else counts the attempt as being checked.
    fn verdict(&self, address: &Key, account: &Key) -> Verdict {
        let now = Instant::now();
        let mut windows = self.windows.lock().expect("login throttle lock");
        let limits = [
            (address, self.limits.per_address),
            (account, self.limits.per_account_and_address),
        ];
        for (key, limit) in limits {
            let Some(window) = windows.get(key) else {
                continue;
            };
            if window.failures_at(now) >= limit {
                let retry_after = (window.started + WINDOW).saturating_duration_since(now);
                return Verdict::Refused(match key {
                    Key::Address(_) => Throttled::Address { retry_after },
                    Key::Account(..) => Throttled::Account { retry_after },
                });
            }
        }
        let saturated = limits.iter().any(|(key, limit)| {
            windows
                .get(*key)
                .is_some_and(|window| window.failures_at(now) + window.checking >= *limit)
        });
        if saturated && let Some(window) = windows.get(address) {
            return Verdict::WaitForChecks(window.settled.clone().notified_owned());
        }
        for (key, _) in limits {
            if windows.len() >= MAX_KEYS && !windows.contains_key(key) {
                continue;
            }
            let window = windows
                .entry(key.clone())
                .or_insert_with(|| Window::new(now));
            if window.ended(now) {
                window.started = now;
                window.failures = 0;
            }
            window.checking += 1;
        }
        Verdict::Go
    }

    /// Ends an attempt's check, counting it as failed if it was, and wakes the attempts from
    /// its address that wait for it.
    fn settle(&self, ip: Option<IpAddr>, name: &str, failed: bool) {
        let (address, account) = Self::keys(ip, name);
        let mut windows = self.windows.lock().expect("login throttle lock");
        for key in [&account, &address] {
            if let Some(window) = windows.get_mut(key) {
                window.checking = window.checking.saturating_sub(1);
                window.failures += u32::from(failed);
            }
        }
        let settled = windows.get(&address).map(|window| window.settled.clone());
        drop(windows);
        if let Some(settled) = settled {
            settled.notify_waiters();
        }
    }

    /// Forgets windows that have ended, but not while an attempt in them is being checked.
    pub(super) fn prune(&self) {
        let now = Instant::now();
        self.windows
            .lock()
            .expect("login throttle lock")
            .retain(|_, window| !window.ended(now) || window.checking > 0);
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    const LIMITS: ThrottleLimits = ThrottleLimits {
        per_address: 30,
        per_account_and_address: 10,
    };

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    /// `times` wrong passwords for `name` from 203.0.113.9.
    async fn fail(throttle: &FailedLogins, name: &str, times: usize) {
        for _ in 0..times {
            let attempt = throttle.attempt(ip("203.0.113.9"), name).await;
            attempt.unwrap().failed();
        }
    }

    #[tokio::test(start_paused = true)]
    async fn failures_for_a_name_from_one_address_do_not_lock_it_out_elsewhere() {
        let throttle = FailedLogins::new(LIMITS);
        fail(&throttle, "olga", 10).await;

        assert!(matches!(
            throttle.attempt(ip("203.0.113.9"), "olga").await,
            Err(Throttled::Account { .. })
        ));
        assert!(throttle.attempt(ip("198.51.100.4"), "olga").await.is_ok());
        assert!(throttle.attempt(ip("203.0.113.9"), "aldo").await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn an_address_guessing_many_names_is_stopped_and_forgiven_after_a_minute() {
        let throttle = FailedLogins::new(LIMITS);
        for n in 0..30 {
            throttle
                .attempt(ip("203.0.113.9"), &format!("name{n}"))
                .await
                .unwrap()
                .failed();
        }

        assert!(matches!(
            throttle.attempt(ip("203.0.113.9"), "olga").await,
            Err(Throttled::Address { .. })
        ));
        tokio::time::advance(WINDOW).await;
        throttle.prune();
        assert!(throttle.windows.lock().unwrap().is_empty());
        assert!(throttle.attempt(ip("203.0.113.9"), "olga").await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_beyond_the_limit_wait_for_those_being_checked_and_are_refused_if_they_fail() {
        let throttle = FailedLogins::new(LIMITS);
        let mut checking = Vec::new();
        for _ in 0..10 {
            checking.push(throttle.attempt(ip("203.0.113.9"), "aldo").await.unwrap());
        }
        let mut eleventh = Box::pin(throttle.attempt(ip("203.0.113.9"), "aldo"));

        assert!((&mut eleventh).now_or_never().is_none(), "it waits");
        checking.into_iter().for_each(Attempt::failed);
        assert!(matches!(eleventh.await, Err(Throttled::Account { .. })));
    }

    #[tokio::test(start_paused = true)]
    async fn right_logins_sent_together_from_one_address_wait_their_turn_and_none_is_refused() {
        let throttle = FailedLogins::new(LIMITS);
        let mut checking = Vec::new();
        for n in 0..30 {
            let name = format!("staff{n}");
            checking.push(throttle.attempt(ip("203.0.113.9"), &name).await.unwrap());
        }
        let mut thirty_first = Box::pin(throttle.attempt(ip("203.0.113.9"), "olga"));

        assert!((&mut thirty_first).now_or_never().is_none(), "it waits");
        drop(checking.pop());
        assert!(thirty_first.await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn an_attempt_kept_waiting_by_checks_that_never_end_is_refused_in_the_end() {
        let throttle = FailedLogins::new(LIMITS);
        let mut checking = Vec::new();
        for _ in 0..10 {
            checking.push(throttle.attempt(ip("203.0.113.9"), "aldo").await.unwrap());
        }

        let waited = throttle.attempt(ip("203.0.113.9"), "aldo").await;

        assert_eq!(waited.err(), Some(Throttled::StillChecking));
        drop(checking);
    }

    #[tokio::test(start_paused = true)]
    async fn an_attempt_that_did_not_fail_is_taken_back_when_it_ends() {
        let throttle = FailedLogins::new(LIMITS);
        fail(&throttle, "olga", 9).await;
        // A right password, a busy check, an error or a client gone: none of them failed.
        for _ in 0..5 {
            drop(throttle.attempt(ip("203.0.113.9"), "olga").await.unwrap());
        }

        fail(&throttle, "olga", 1).await;
        assert!(throttle.attempt(ip("203.0.113.9"), "olga").await.is_err());
    }
}
