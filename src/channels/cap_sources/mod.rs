//! Polling other authorities' CAP sources: each feed or document on its own period, only what
//! is new fetched, every new alert handed to `Notices::receive_from_source` once, failures
//! retried with a growing wait, and each source's state kept for the console.

mod feed;
mod fetch;

use std::collections::HashSet;
use std::time::Duration;

use reqwest::Url;
use sha2::digest::Output;
use sha2::{Digest as _, Sha256};
use tokio_util::sync::CancellationToken;

use feed::{Document, Entry};
use fetch::{Fetched, Validators, fetch};

use crate::channels::http_client::OutboundHttp;
use crate::config::CapSource;
use crate::notices::{Notices, PollReport, Received};
use crate::problem::ErrorCode;

/// Largest feed document; a CAP document's own limit is `notices.max_import_bytes`.
pub const MAX_FEED_BYTES: usize = 4 * 1024 * 1024;
/// The longest wait between polls of a failing source.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// Entries' keys remembered per source, so a long-lived feed cannot grow the set without end.
const MAX_REMEMBERED: usize = 10_000;

type BodyDigest = Output<Sha256>;

/// One source's poller.
pub struct SourcePoller {
    source: CapSource,
    url: Url,
    notices: Notices,
    http: OutboundHttp,
    validators: Validators,
    /// The source's host, when the admin allowed it on a private network.
    private_host: Option<String>,
    /// Entries taken or refused for good.
    seen: HashSet<String>,
    /// The digest of the last body every part of which was taken or refused for good: a source
    /// that sends no validators sends it again, and it is neither read nor counted twice.
    last_complete: Option<BodyDigest>,
    /// What that poll found wrong (a refused alert): it stands while the source is unchanged.
    last_complete_error: Option<String>,
    max_cap_bytes: usize,
}

impl SourcePoller {
    pub fn new(source: CapSource, notices: Notices, http: OutboundHttp) -> SourcePoller {
        let url = Url::parse(&source.url).expect("the configuration checked the url");
        let max_cap_bytes = notices.settings().max_import_bytes;
        let private_host = source
            .allow_private
            .then(|| url.host_str().map(str::to_owned))
            .flatten();
        SourcePoller {
            source,
            url,
            notices,
            http,
            validators: Validators::default(),
            private_host,
            seen: HashSet::new(),
            last_complete: None,
            last_complete_error: None,
            max_cap_bytes,
        }
    }

    /// Polls until shutdown, reporting each poll to the notices.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let period = Duration::from_secs(self.source.poll_secs);
        let mut failures = 0u32;
        loop {
            let Some(report) = shutdown.run_until_cancelled(self.poll()).await else {
                return;
            };
            failures = if report.failed { failures + 1 } else { 0 };
            let wait = backoff(period, failures);
            self.notices.record_poll(&self.source.name, &report, wait);
            if report.failed {
                tracing::warn!(source = %self.source.name, error = ?report.error, "a CAP source could not be polled");
            }
            if shutdown
                .run_until_cancelled(tokio::time::sleep(wait))
                .await
                .is_none()
            {
                return;
            }
        }
    }

    /// Fetches the source once and takes what is new.
    pub async fn poll(&mut self) -> PollReport {
        let mut report = PollReport::default();
        let fetched = fetch(
            &self.http,
            &self.url,
            self.private_host.as_deref(),
            &self.validators,
            MAX_FEED_BYTES,
        )
        .await;
        let (bytes, at, validators) = match fetched {
            Ok(Fetched::NotModified) => return self.unchanged(report),
            Ok(Fetched::Body {
                bytes,
                at,
                validators,
            }) => (bytes, at, validators),
            Err(error) => return failed(report, error.message),
        };
        let digest = Sha256::digest(&bytes);
        if self.last_complete == Some(digest) {
            // A source that starts sending validators is asked with them from now on.
            self.validators = validators;
            return self.unchanged(report);
        }
        // Reading a feed is CPU work on up to 4 MiB: off the async threads.
        let base = at.clone();
        let (bytes, read) = tokio::task::spawn_blocking(move || {
            let read = feed::read(&bytes, &base);
            (bytes, read)
        })
        .await
        .unwrap_or_else(|_| (Vec::new(), Err("the feed reader failed".into())));
        let complete = match read {
            Ok(Document::Alert) => self.take(bytes, &mut report).await,
            Ok(Document::Entries(entries)) => self.take_entries(entries, &mut report).await,
            Err(error) => return failed(report, error),
        };
        // Only a poll that took everything may skip the same document next time.
        if complete && !report.failed {
            self.validators = validators;
            self.last_complete = Some(digest);
            self.last_complete_error.clone_from(&report.error);
        }
        report
    }

    /// The source sent what the last complete poll took: that poll's findings stand, and a
    /// failure since then is over.
    fn unchanged(&self, mut report: PollReport) -> PollReport {
        report.error.clone_from(&self.last_complete_error);
        report
    }

    /// Oldest first, so an alert is held before its update arrives; whether every entry is
    /// done with. An entry that could not be fetched this time is asked for at the next poll,
    /// without holding the source back.
    async fn take_entries(&mut self, entries: Vec<Entry>, report: &mut PollReport) -> bool {
        let mut complete = true;
        for entry in entries.into_iter().rev() {
            if self.seen.contains(&entry.key) {
                continue;
            }
            let fetched = fetch(
                &self.http,
                &entry.cap_url,
                self.private_host.as_deref(),
                &Validators::default(),
                self.max_cap_bytes,
            )
            .await;
            match fetched {
                Ok(Fetched::Body { bytes, .. }) => {
                    if self.take(bytes, report).await {
                        self.remember(entry.key);
                    } else {
                        complete = false;
                    }
                }
                Ok(Fetched::NotModified) => self.remember(entry.key),
                Err(error) if error.lasting => {
                    report.refused += 1;
                    report.error = Some(format!("an entry's CAP document: {}", error.message));
                    self.remember(entry.key);
                }
                Err(error) => {
                    complete = false;
                    report.error = Some(format!(
                        "an entry's CAP document, asked again at the next poll: {}",
                        error.message
                    ));
                }
            }
        }
        complete
    }

    /// Hands one CAP document to the notices; whether it is done with (taken or refused).
    async fn take(&mut self, xml: Vec<u8>, report: &mut PollReport) -> bool {
        match self.notices.receive_from_source(&self.source, xml).await {
            Ok(Received::Taken(_)) => report.taken += 1,
            Ok(Received::AlreadyHeld { .. }) => report.already_held += 1,
            Err(problem)
                if matches!(problem.code, ErrorCode::Internal | ErrorCode::Unavailable) =>
            {
                report.failed = true;
                report.error = Some("the hub could not store an alert".into());
                return false;
            }
            Err(problem) => {
                report.refused += 1;
                report.error = Some(format!("an alert was refused: {}", problem.message));
            }
        }
        true
    }

    fn remember(&mut self, key: String) {
        if self.seen.len() >= MAX_REMEMBERED {
            self.seen.clear();
        }
        self.seen.insert(key);
    }
}

fn failed(mut report: PollReport, error: String) -> PollReport {
    report.failed = true;
    report.error = Some(error);
    report
}

/// The period while the source answers; after failures, doubling up to an hour, with jitter
/// so offices polling one source do not return in step.
fn backoff(period: Duration, failures: u32) -> Duration {
    if failures == 0 {
        return period;
    }
    let doubled = period.saturating_mul(1 << failures.min(12));
    doubled
        .mul_f64(0.8 + 0.4 * crate::outbox::schedule::unit_random())
        .min(MAX_BACKOFF)
}
