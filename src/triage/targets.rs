//! Response-time targets: how soon each category must be acknowledged and resolved.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use crate::config::{Config, ConfigError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub acknowledge_within: Duration,
    pub resolve_within: Duration,
}

/// Targets by category code, with the office-wide default for the rest.
#[derive(Debug, Clone)]
pub struct Targets {
    default: Target,
    by_category: HashMap<String, Target>,
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

impl Targets {
    pub fn from_config(config: &Config) -> Result<Targets, ConfigError> {
        let default = Target {
            acknowledge_within: parse_within(
                "triage.acknowledge_within",
                &config.triage.acknowledge_within,
            )?,
            resolve_within: parse_within("triage.resolve_within", &config.triage.resolve_within)?,
        };
        let mut by_category = HashMap::new();
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
            by_category.insert(category.code.clone(), target);
        }
        Ok(Targets {
            default,
            by_category,
        })
    }

    pub fn of(&self, category: &str) -> Target {
        self.by_category
            .get(category)
            .copied()
            .unwrap_or(self.default)
    }

    /// When a report received at `received_at` must be acknowledged and resolved.
    pub fn due(
        &self,
        category: &str,
        received_at: DateTime<Utc>,
    ) -> (DateTime<Utc>, DateTime<Utc>) {
        let target = self.of(category);
        (
            received_at + target.acknowledge_within,
            received_at + target.resolve_within,
        )
    }
}
