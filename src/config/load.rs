//! Layering the configuration sources, and warning about `VEDETTA_*` variables that match nothing.

use std::net::SocketAddr;
use std::path::PathBuf;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde_json::Value;

use super::Config;

/// Variables read by the command line itself (see `vedetta serve --help`), not by the layering.
const CLI_VARIABLES: &[&str] = &["config", "data_dir", "listen", "mqtt_url", "no_mqtt", "log"];

/// What the command line (flags, or their `VEDETTA_*` twins) says; it wins over everything.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub mqtt_url: Option<String>,
    pub no_mqtt: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Source(String),
    #[error("invalid configuration: `{key}` {message}")]
    Invalid { key: String, message: String },
}

/// Builds the configuration from every source, validates it, and warns about stray variables.
pub fn load(overrides: &Overrides) -> Result<Config, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    if let Some(path) = &overrides.config_file {
        if !path.is_file() {
            return Err(ConfigError::MissingFile(path.clone()));
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    // Only variables that name a real key reach the layering; the others get a warning below.
    let known = std::sync::Arc::new(key_tree());
    figment = figment.merge(
        Env::prefixed("VEDETTA_")
            .ignore(CLI_VARIABLES)
            .split("__")
            .filter(move |key| has_path(&known, key.as_str().to_ascii_lowercase().split('.'))),
    );
    let mut config: Config = figment
        .extract()
        .map_err(|err| ConfigError::Source(describe(err)))?;
    apply(&mut config, overrides);
    config.validate()?;
    for name in unknown_variables(std::env::vars().map(|(name, _)| name)) {
        tracing::warn!(variable = %name, "ignoring {name}: it matches no configuration key (mistyped?)");
    }
    Ok(config)
}

fn apply(config: &mut Config, overrides: &Overrides) {
    if let Some(dir) = &overrides.data_dir {
        config.data_dir = dir.clone();
    }
    if let Some(listen) = overrides.listen {
        config.listen = listen;
    }
    if let Some(url) = &overrides.mqtt_url {
        config.mqtt.url = url.clone();
        config.mqtt.enabled = true;
    }
    if overrides.no_mqtt {
        config.mqtt.enabled = false;
    }
}

/// Figment's error names the key and the source (file or variable) it came from.
fn describe(err: figment::Error) -> String {
    err.into_iter()
        .map(|err| err.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every configuration key, as a JSON tree of the defaults.
fn key_tree() -> Value {
    serde_json::to_value(Config::default()).unwrap_or(Value::Null)
}

/// `VEDETTA_*` variable names that neither the command line nor any configuration key reads.
pub(crate) fn unknown_variables(names: impl Iterator<Item = String>) -> Vec<String> {
    let tree = key_tree();
    names
        .filter(|name| {
            let Some(rest) = name.strip_prefix("VEDETTA_") else {
                return false;
            };
            let key = rest.to_ascii_lowercase();
            !CLI_VARIABLES.contains(&key.as_str()) && !has_path(&tree, key.split("__"))
        })
        .collect()
}

fn has_path<'a>(tree: &Value, mut path: impl Iterator<Item = &'a str>) -> bool {
    match path.next() {
        None => true,
        Some(part) => match tree {
            Value::Object(map) => map.get(part).is_some_and(|child| has_path(child, path)),
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_that_match_no_key_are_reported_and_real_ones_are_not() {
        let names = [
            "VEDETTA_LISEN",
            "VEDETTA_LISTEN",
            "VEDETTA_INTAKE__MAX_TEXT_CHARS",
            "VEDETTA_INTAKE__MAX_TXT",
            "VEDETTA_MQTT__PREFIX",
            "VEDETTA_LOG",
            "HOME",
        ];

        let unknown = unknown_variables(names.iter().map(ToString::to_string));

        assert_eq!(unknown, ["VEDETTA_LISEN", "VEDETTA_INTAKE__MAX_TXT"]);
    }
}
