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
    /// Let this source (and its redirects and CAP links) be on loopback or a private network,
    /// e.g. a neighbouring office's hub on the regional network. Off: such addresses are refused.
    #[serde(default)]
    pub allow_private: bool,
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
        if !(1..=86_400).contains(&source.poll_secs) {
            return Err((
                "cap_sources.poll_secs",
                format!("source `{}`: poll every 1 to 86400 seconds", source.name),
            ));
        }
    }
    Ok(())
}
