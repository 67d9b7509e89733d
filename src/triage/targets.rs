//! Response-time targets: how soon each category must be acknowledged and resolved.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::config::{Config, ConfigError};
pub use crate::config::{Target, parse_within};

/// Targets by category code, with the office-wide default for the rest.
#[derive(Debug, Clone)]
pub struct Targets {
    default: Target,
    by_category: HashMap<String, Target>,
}

impl Targets {
    pub fn from_config(config: &Config) -> Result<Targets, ConfigError> {
        let (default, by_category) = config.targets()?;
        Ok(Targets {
            default,
            by_category: by_category.into_iter().collect(),
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
