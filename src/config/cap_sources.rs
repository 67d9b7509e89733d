//! Upstream CAP sources the hub polls: another authority's Atom or RSS CAP feed, or a single
//! CAP document, each with its own polling period.

use serde::{Deserialize, Serialize};

/// One source, `[[cap_sources]]` in the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapSource {
    /// Short name (`dpc`, `meteoalarm-it`): the importer the audit log and the console show.
    pub name: String,
    /// An Atom or RSS feed of CAP alerts, or one CAP document, over http or https.
    pub url: String,
    /// Seconds between polls while the source answers; on failures the wait doubles up to an hour.
    #[serde(default = "default_poll_secs")]
    pub poll_secs: u64,
    /// Let this source's host be on loopback or a private network, e.g. a neighbouring office's
    /// hub on the regional network. Redirects and links to other hosts are still held to the
    /// public internet (or `outbox.allow_private_networks`). Off: such addresses are refused.
    #[serde(default)]
    pub allow_private: bool,
    /// Which of its alerts an approver should look at first; none: no alert is marked.
    #[serde(default)]
    pub fast_review: Option<FastReview>,
}

/// A source's rule for marking alerts for fast review (and raising the console's alarm). Each
/// list given must hold the alert's value; all given conditions must hold.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FastReview {
    /// CAP severities, e.g. `["Extreme", "Severe"]`.
    #[serde(default)]
    pub severities: Vec<String>,
    /// CAP urgencies, e.g. `["Immediate"]`.
    #[serde(default)]
    pub urgencies: Vec<String>,
    /// Only alerts whose area covers a zone of this office.
    #[serde(default)]
    pub in_office_zones: bool,
}

impl FastReview {
    /// Whether an alert of this severity and urgency, covering `covers_office` zones, is marked.
    pub fn marks(&self, severity: &str, urgency: &str, covers_office: bool) -> bool {
        let listed =
            |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
        listed(&self.severities, severity)
            && listed(&self.urgencies, urgency)
            && (covers_office || !self.in_office_zones)
    }
}

const SEVERITIES: [&str; 5] = ["Extreme", "Severe", "Moderate", "Minor", "Unknown"];
const URGENCIES: [&str; 5] = ["Immediate", "Expected", "Future", "Past", "Unknown"];

fn check_fast_review(source: &CapSource) -> Result<(), (&'static str, String)> {
    let Some(rule) = &source.fast_review else {
        return Ok(());
    };
    let wrong = |list: &[String], known: &[&str]| {
        list.iter().find(|v| !known.contains(&v.as_str())).cloned()
    };
    if let Some(value) = wrong(&rule.severities, &SEVERITIES) {
        return Err((
            "cap_sources.fast_review.severities",
            format!(
                "source `{}`: `{value}` is not a CAP severity ({})",
                source.name,
                SEVERITIES.join(", ")
            ),
        ));
    }
    if let Some(value) = wrong(&rule.urgencies, &URGENCIES) {
        return Err((
            "cap_sources.fast_review.urgencies",
            format!(
                "source `{}`: `{value}` is not a CAP urgency ({})",
                source.name,
                URGENCIES.join(", ")
            ),
        ));
    }
    Ok(())
}

fn default_poll_secs() -> u64 {
    120
}

/// Checks every source: a usable name, once; an http(s) URL; a period from 1 s to a day.
pub(super) fn check(sources: &[CapSource]) -> Result<(), (&'static str, String)> {
    for (n, source) in sources.iter().enumerate() {
        let named = source.name.len() <= 32
            && !source.name.is_empty()
            && source
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !named {
            return Err((
                "cap_sources.name",
                format!("source {n}: a name is 1 to 32 lowercase letters, digits or '-'"),
            ));
        }
        if sources[..n].iter().any(|other| other.name == source.name) {
            return Err((
                "cap_sources.name",
                format!("two sources are named `{}`", source.name),
            ));
        }
        let web = url::Url::parse(&source.url)
            .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.has_host());
        if !web {
            return Err((
                "cap_sources.url",
                format!("source `{}`: the url must be http or https", source.name),
            ));
        }
        check_fast_review(source)?;
        if !(1..=86_400).contains(&source.poll_secs) {
            return Err((
                "cap_sources.poll_secs",
                format!("source `{}`: poll every 1 to 86400 seconds", source.name),
            ));
        }
    }
    Ok(())
}
