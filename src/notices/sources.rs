//! The upstream CAP sources' state as the console shows it: when each was last polled and
//! answered, what it brought, and why it fails if it does. Pollers (`channels::cap_sources`)
//! report here; staff who read notices see it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::service::Notices;
use crate::auth::{Action, Staff};
use crate::clock::SharedClock;
use crate::config::CapSource;
use crate::problem::Problem;

/// What one poll did.
#[derive(Debug, Default)]
pub struct PollReport {
    pub taken: u64,
    pub already_held: u64,
    /// Documents the import refused (each named in `error`); not fetched again.
    pub refused: u64,
    /// Why the poll, or part of it, failed.
    pub error: Option<String>,
    /// The source, or one of its entries, could not be fetched: it is tried again later.
    pub failed: bool,
}

impl Notices {
    /// Every configured source's state, for staff who read notices.
    pub fn source_states(&self, staff: &Staff) -> Result<Vec<SourceStatus>, Problem> {
        staff.require(Action::Read)?;
        Ok(self.inner.sources.list())
    }

    /// A poller's report of one poll, and when it polls next.
    pub fn record_poll(&self, source: &str, report: &PollReport, wait: Duration) {
        self.inner.sources.record(source, report, wait);
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    pub name: String,
    /// Scheme, host and path: a query may hold a key.
    pub url: String,
    /// `waiting` (not polled yet), `ok`, or `retrying` after a failure.
    pub state: &'static str,
    pub last_polled_at: Option<DateTime<Utc>>,
    pub last_ok_at: Option<DateTime<Utc>>,
    pub next_poll_at: Option<DateTime<Utc>>,
    /// Polls in a row that failed.
    pub failures: u32,
    pub last_error: Option<String>,
    /// Alerts stored as drafts since the hub started.
    pub taken: u64,
    /// Alerts the hub already held.
    pub already_held: u64,
    /// Documents the import refused.
    pub refused: u64,
}

/// Every configured source's state.
#[derive(Clone)]
pub(super) struct SourceBoard {
    states: Arc<Mutex<BTreeMap<String, SourceStatus>>>,
    clock: SharedClock,
}

impl SourceBoard {
    pub(super) fn new(sources: &[CapSource], clock: SharedClock) -> SourceBoard {
        let states = sources
            .iter()
            .map(|source| (source.name.clone(), waiting(source)))
            .collect();
        SourceBoard {
            states: Arc::new(Mutex::new(states)),
            clock,
        }
    }

    fn list(&self) -> Vec<SourceStatus> {
        self.lock().values().cloned().collect()
    }

    fn record(&self, name: &str, report: &PollReport, wait: Duration) {
        let now = self.clock.now();
        let mut states = self.lock();
        let Some(status) = states.get_mut(name) else {
            return;
        };
        status.last_polled_at = Some(now);
        status.next_poll_at = chrono::Duration::from_std(wait).ok().map(|wait| now + wait);
        status.taken += report.taken;
        status.already_held += report.already_held;
        status.refused += report.refused;
        // A poll that went through cleanly clears the last error: it is no longer the state.
        if report.error.is_some() || !report.failed {
            status.last_error.clone_from(&report.error);
        }
        if report.failed {
            status.state = "retrying";
            status.failures += 1;
        } else {
            status.state = "ok";
            status.failures = 0;
            status.last_ok_at = Some(now);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, SourceStatus>> {
        self.states
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The URL without what may be a secret (user, password, query, fragment), its port kept: an
/// upstream on `:8443` is another server than on `:443`.
fn shown_url(mut url: url::Url) -> String {
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

fn waiting(source: &CapSource) -> SourceStatus {
    let url = url::Url::parse(&source.url).map_or_else(|_| source.url.clone(), shown_url);
    SourceStatus {
        name: source.name.clone(),
        url,
        state: "waiting",
        last_polled_at: None,
        last_ok_at: None,
        next_poll_at: None,
        failures: 0,
        last_error: None,
        taken: 0,
        already_held: 0,
        refused: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_is_shown_with_its_port_but_without_credentials_or_query() {
        let url =
            url::Url::parse("https://feed:s3cret@allerte.example:8443/cap/feed.xml?key=abc#x")
                .unwrap();

        assert_eq!(shown_url(url), "https://allerte.example:8443/cap/feed.xml");
    }
}
