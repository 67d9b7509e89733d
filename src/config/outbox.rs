//! Settings of the outbox and its channels: retries, outbound address rules, Web Push and
//! the SMTP server e-mail goes through.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// A delivery still failing this long after it was queued is dead (operators may retry it).
    pub retry_horizon_hours: u32,
    /// Networks outbound requests may reach besides the public internet (`10.0.0.0/8`,
    /// `127.0.0.1`). Webhooks can also be allowed one by one by an admin.
    pub allow_private_networks: Vec<String>,
    /// E-mail subscriptions not confirmed within this time are removed.
    pub confirm_within_hours: u32,
    /// How long the record of settled deliveries (the counts on a notice) is kept.
    pub keep_days: u32,
    pub webhooks: WebhooksConfig,
    pub push: PushConfig,
    pub email: EmailConfig,
}

impl Default for OutboxConfig {
    fn default() -> OutboxConfig {
        OutboxConfig {
            retry_horizon_hours: 48,
            allow_private_networks: Vec::new(),
            confirm_within_hours: 48,
            keep_days: 90,
            webhooks: WebhooksConfig::default(),
            push: PushConfig::default(),
            email: EmailConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// Requests in flight at once.
    pub concurrency: usize,
}

impl Default for WebhooksConfig {
    fn default() -> WebhooksConfig {
        WebhooksConfig { concurrency: 64 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PushConfig {
    /// Offer and send Web Push notifications.
    pub enabled: bool,
    /// VAPID contact, so a push service can reach the office: `mailto:` or `https:`.
    /// Default: `mailto:` the CAP sender.
    pub contact: Option<String>,
    pub concurrency: usize,
}

impl Default for PushConfig {
    fn default() -> PushConfig {
        PushConfig {
            enabled: true,
            contact: None,
            concurrency: 64,
        }
    }
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain SMTP: only for a relay on the same machine or a trusted network.
    None,
    /// STARTTLS, required (the connection fails rather than send in clear).
    Starttls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    /// Send e-mail (subscriptions and reporters' updates). Off until an SMTP server is set.
    pub enabled: bool,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    /// Better given as `VEDETTA_OUTBOX__EMAIL__PASSWORD` than in the file.
    pub password: Option<String>,
    /// `From:`, e.g. `Protezione civile di Esempio <avvisi@comune.example>`.
    pub from: String,
    /// SMTP connections in use at once.
    pub concurrency: usize,
}

impl Default for EmailConfig {
    fn default() -> EmailConfig {
        EmailConfig {
            enabled: false,
            smtp_host: "localhost".into(),
            smtp_port: 25,
            security: SmtpSecurity::Starttls,
            username: None,
            password: None,
            from: "Vedetta <vedetta@localhost>".into(),
            concurrency: 4,
        }
    }
}
