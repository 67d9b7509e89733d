//! Checks that turn a bad configuration into a clear error at start, naming the key at fault.

use std::collections::HashSet;

use super::Config;
use super::load::ConfigError;

const MAX_BODY_CEILING: usize = 64 * 1024 * 1024;

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        message: message.into(),
    }
}

impl Config {
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_slug("office", &self.office, 32)?;
        if self.default_language.len() != 2
            || !self
                .default_language
                .chars()
                .all(|c| c.is_ascii_lowercase())
        {
            return Err(invalid(
                "default_language",
                "must be a two-letter ISO 639-1 code such as \"it\"",
            ));
        }
        self.check_mqtt()?;
        self.check_intake()?;
        self.check_notices()?;
        self.check_categories()?;
        self.check_triage()?;
        self.telegram
            .check()
            .map_err(|(key, message)| invalid(key, message))?;
        self.whatsapp
            .check()
            .map_err(|(key, message)| invalid(key, message))?;
        super::cap_sources::check(&self.cap_sources)
            .map_err(|(key, message)| invalid(key, message))?;
        self.check_ui()
    }

    fn check_ui(&self) -> Result<(), ConfigError> {
        // As `schemas/ui-config.schema.json` says: an optional `+`, then 1 to 15 digits.
        let number = &self.ui.emergency_number;
        let digits = number.strip_prefix('+').unwrap_or(number);
        let dialable =
            (1..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit());
        if !dialable {
            return Err(invalid(
                "ui.emergency_number",
                "must be a number a phone can dial, such as 112",
            ));
        }
        let Some(template) = self.ui.tile_url.as_deref() else {
            return Ok(());
        };
        let usable = url::Url::parse(template)
            .is_ok_and(|url| matches!(url.scheme(), "http" | "https"))
            && ["{z}", "{x}", "{y}"]
                .iter()
                .all(|part| template.contains(part));
        if usable {
            return Ok(());
        }
        Err(invalid(
            "ui.tile_url",
            "must be an http(s) URL template with {z}, {x} and {y}, such as https://tiles.example/{z}/{x}/{y}.png",
        ))
    }

    /// Host and port of the broker, from `mqtt.url`.
    pub fn mqtt_broker(&self) -> Result<(String, u16), ConfigError> {
        let url = url::Url::parse(&self.mqtt.url).map_err(|err| {
            invalid(
                "mqtt.url",
                format!("is not a URL ({err}); write it as mqtt://host:1883"),
            )
        })?;
        if !matches!(url.scheme(), "mqtt" | "tcp") {
            return Err(invalid(
                "mqtt.url",
                "must start with mqtt:// (TLS to the broker is not supported; run the hub beside it)",
            ));
        }
        let host = url
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| invalid("mqtt.url", "has no host; write it as mqtt://host:1883"))?;
        Ok((host.to_owned(), url.port().unwrap_or(1883)))
    }

    /// Username and password embedded in `mqtt.url`, if any.
    pub fn mqtt_credentials(&self) -> Option<(String, String)> {
        let url = url::Url::parse(&self.mqtt.url).ok()?;
        if url.username().is_empty() {
            return None;
        }
        // The URL keeps them percent-encoded; the broker wants them as written.
        let decoded = |part: &str| {
            percent_encoding::percent_decode_str(part)
                .decode_utf8_lossy()
                .into_owned()
        };
        Some((
            decoded(url.username()),
            decoded(url.password().unwrap_or_default()),
        ))
    }

    fn check_mqtt(&self) -> Result<(), ConfigError> {
        if !self.mqtt.enabled {
            return Ok(());
        }
        self.mqtt_broker()?;
        let prefix = self.mqtt_prefix();
        let bad_prefix = prefix.is_empty()
            || prefix.starts_with('/')
            || prefix.ends_with('/')
            || prefix.contains(['+', '#'])
            || prefix.split('/').any(str::is_empty);
        if bad_prefix {
            return Err(invalid(
                "mqtt.prefix",
                "must be topic levels separated by '/', without wildcards or empty levels",
            ));
        }
        check_slug("mqtt.client_id", &self.mqtt_client_id(), 64)
    }

    fn check_intake(&self) -> Result<(), ConfigError> {
        let intake = &self.intake;
        if !(1..=100_000).contains(&intake.max_text_chars) {
            return Err(invalid(
                "intake.max_text_chars",
                "must be between 1 and 100000",
            ));
        }
        if !(1024..=MAX_BODY_CEILING).contains(&intake.max_body_bytes) {
            return Err(invalid(
                "intake.max_body_bytes",
                format!("must be between 1024 and {MAX_BODY_CEILING}"),
            ));
        }
        // Base64 makes a photo 4/3 larger inside a message.
        if intake.max_photo_bytes / 3 * 4 >= intake.max_body_bytes {
            return Err(invalid(
                "intake.max_photo_bytes",
                "must fit in intake.max_body_bytes once base64-encoded (4/3 larger); raise max_body_bytes or lower this",
            ));
        }
        Ok(())
    }

    fn check_notices(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.public_url {
            let parsed = url::Url::parse(url)
                .map_err(|err| invalid("public_url", format!("is not a URL ({err})")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(invalid("public_url", "must be an http or https URL"));
            }
        }
        let sender = self.cap_sender();
        if sender.is_empty() || sender.contains([' ', ',', '<', '&']) {
            return Err(invalid(
                "notices.sender",
                "must be non-empty without spaces, commas, '<' or '&' (CAP 1.2), e.g. protezionecivile@comune.example",
            ));
        }
        if !(1..=24 * 30).contains(&self.notices.import_default_validity_hours) {
            return Err(invalid(
                "notices.import_default_validity_hours",
                "must be between 1 and 720",
            ));
        }
        if self.auth.session_hours == 0 || self.auth.session_hours > 24 * 7 {
            return Err(invalid("auth.session_hours", "must be between 1 and 168"));
        }
        if !(4096..=16 * 1024 * 1024).contains(&self.ws.send_buffer_bytes) {
            return Err(invalid(
                "ws.send_buffer_bytes",
                "must be between 4096 and 16777216",
            ));
        }
        if self.ws.write_timeout_secs == 0 {
            return Err(invalid("ws.write_timeout_secs", "must be at least 1"));
        }
        Ok(())
    }

    fn check_categories(&self) -> Result<(), ConfigError> {
        if self.categories.is_empty() {
            return Err(invalid("categories", "must list at least one category"));
        }
        let mut seen = HashSet::new();
        for category in &self.categories {
            check_slug("categories.code", &category.code, 40)?;
            if !seen.insert(category.code.as_str()) {
                return Err(invalid(
                    "categories",
                    format!("lists `{}` twice", category.code),
                ));
            }
            if let Some(cap) = &category.cap_category {
                crate::cap::CapCategory::parse(cap, "cap_category").map_err(|problem| {
                    invalid(
                        "categories.cap_category",
                        format!("of `{}`: {}", category.code, problem.message),
                    )
                })?;
            }
            if category.name.values().all(|name| name.trim().is_empty()) {
                return Err(invalid(
                    "categories.name",
                    format!(
                        "of `{}` needs a name in at least one language",
                        category.code
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn check_slug(key: &str, value: &str, max: usize) -> Result<(), ConfigError> {
    let valid = !value.is_empty()
        && value.len() <= max
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(invalid(
            key,
            format!(
                "`{value}` must be 1 to {max} characters of lowercase letters, digits, '_' or '-'"
            ),
        ))
    }
}
