//! Settings of report handling: response-time targets, incident grouping, open data, retention.

use serde::{Deserialize, Serialize};

use super::Config;
use super::load::ConfigError;
use chrono::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TriageConfig {
    /// Default time to acknowledge a report (`15m`, `1h`); a category may set its own.
    pub acknowledge_within: String,
    /// Default time to resolve a report (`24h`, `3d`); a category may set its own.
    pub resolve_within: String,
    /// Longest public or internal note, in characters.
    pub max_note_chars: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IncidentsConfig {
    /// Reports of one category closer than this to an open incident join it.
    pub radius_m: f64,
    /// ...if the incident had a report within this many minutes.
    pub window_minutes: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpenDataConfig {
    /// Decimal places kept of published coordinates: 3 is about 100 m, 2 about 1 km.
    pub precision_decimals: u32,
    /// Serve `/api/v1/reports/export.*` without a login, for publication as open data.
    pub public: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Contact details and photos of a report are deleted this many days after it arrived.
    pub personal_data_days: u32,
    /// How often the purge runs while the hub serves, in hours.
    pub purge_every_hours: u32,
}

/// How long what an operator made public may stay public.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// A report's text published in Open311 (and the other public surfaces) stops being public
    /// at most this many days after it was published; the operator may choose fewer.
    pub public_report_days: u32,
    /// The public statistics show a count under this as "< N", and the times of fewer
    /// reports not at all, so no single report can be picked out.
    pub public_stats_min_count: u32,
    /// The zone level the public statistics break down by.
    pub public_stats_level: String,
}

impl Default for PrivacyConfig {
    fn default() -> PrivacyConfig {
        PrivacyConfig {
            public_report_days: 90,
            public_stats_min_count: 5,
            public_stats_level: "municipality".into(),
        }
    }
}

impl Default for TriageConfig {
    fn default() -> TriageConfig {
        TriageConfig {
            acknowledge_within: "15m".into(),
            resolve_within: "24h".into(),
            max_note_chars: 1000,
        }
    }
}

impl Default for IncidentsConfig {
    fn default() -> IncidentsConfig {
        IncidentsConfig {
            radius_m: 500.0,
            window_minutes: 120,
        }
    }
}

impl Default for OpenDataConfig {
    fn default() -> OpenDataConfig {
        OpenDataConfig {
            precision_decimals: 3,
            public: false,
        }
    }
}

impl Default for RetentionConfig {
    fn default() -> RetentionConfig {
        RetentionConfig {
            personal_data_days: 30,
            purge_every_hours: 24,
        }
    }
}

fn invalid(key: &str, message: &str) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        message: message.to_owned(),
    }
}

impl Config {
    pub(super) fn check_triage(&self) -> Result<(), ConfigError> {
        self.targets()?;
        if !(1..=10_000).contains(&self.triage.max_note_chars) {
            return Err(invalid(
                "triage.max_note_chars",
                "must be between 1 and 10000",
            ));
        }
        let radius = self.incidents.radius_m;
        if !(radius.is_finite() && (0.0..=50_000.0).contains(&radius)) {
            return Err(invalid(
                "incidents.radius_m",
                "must be between 0 (no grouping) and 50000 metres",
            ));
        }
        if self.incidents.window_minutes > 7 * 24 * 60 {
            return Err(invalid(
                "incidents.window_minutes",
                "must be at most 10080 (a week)",
            ));
        }
        if !(1..=6).contains(&self.open_data.precision_decimals) {
            return Err(invalid(
                "open_data.precision_decimals",
                "must be between 1 (about 10 km) and 6 (about 10 cm)",
            ));
        }
        if self.retention.personal_data_days == 0 {
            return Err(invalid(
                "retention.personal_data_days",
                "must be at least 1: reporters need to be reachable while their report is handled",
            ));
        }
        if !(1..=365).contains(&self.privacy.public_report_days) {
            return Err(invalid(
                "privacy.public_report_days",
                "must be between 1 and 365",
            ));
        }
        if !(3..=100).contains(&self.privacy.public_stats_min_count) {
            return Err(invalid(
                "privacy.public_stats_min_count",
                "must be between 3 and 100: below 3, a count could point at one person",
            ));
        }
        if self.privacy.public_stats_level.is_empty() {
            return Err(invalid(
                "privacy.public_stats_level",
                "must name a zone level, such as municipality",
            ));
        }
        if !(1..=24 * 7).contains(&self.retention.purge_every_hours) {
            return Err(invalid(
                "retention.purge_every_hours",
                "must be between 1 and 168",
            ));
        }
        Ok(())
    }
}

/// How soon a report must be acknowledged and resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub acknowledge_within: Duration,
    pub resolve_within: Duration,
}

/// Parses `15m`, `2h`, `1d 12h` into a duration, naming the key at fault.
pub fn parse_within(key: &str, value: &str) -> Result<Duration, ConfigError> {
    let parsed = humantime::parse_duration(value).map_err(|err| ConfigError::Invalid {
        key: key.to_owned(),
        message: format!("`{value}` is not a duration such as 15m, 2h or 1d ({err})"),
    })?;
    let within = Duration::from_std(parsed)
        .ok()
        .filter(|within| *within > Duration::zero());
    within.ok_or_else(|| ConfigError::Invalid {
        key: key.to_owned(),
        message: "must be more than zero".into(),
    })
}

impl Config {
    /// The office's default response target and each category's, read and checked.
    pub fn targets(&self) -> Result<(Target, Vec<(String, Target)>), ConfigError> {
        let config = self;
        let default = Target {
            acknowledge_within: parse_within(
                "triage.acknowledge_within",
                &config.triage.acknowledge_within,
            )?,
            resolve_within: parse_within("triage.resolve_within", &config.triage.resolve_within)?,
        };
        let mut by_category = Vec::new();
        for category in &config.categories {
            let key = |field: &str| format!("categories.{}.{field}", category.code);
            let target = Target {
                acknowledge_within: category
                    .acknowledge_within
                    .as_deref()
                    .map(|v| parse_within(&key("acknowledge_within"), v))
                    .transpose()?
                    .unwrap_or(default.acknowledge_within),
                resolve_within: category
                    .resolve_within
                    .as_deref()
                    .map(|v| parse_within(&key("resolve_within"), v))
                    .transpose()?
                    .unwrap_or(default.resolve_within),
            };
            if target.acknowledge_within > target.resolve_within {
                return Err(ConfigError::Invalid {
                    key: key("acknowledge_within"),
                    message: "is longer than the time to resolve".into(),
                });
            }
            by_category.push((category.code.clone(), target));
        }
        Ok((default, by_category))
    }
}
