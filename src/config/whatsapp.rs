//! Settings of WhatsApp (the Business Cloud API): the business number, the secrets of its
//! webhook, Meta's sending limits, and the templates for writing outside the 24-hour window.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WhatsAppConfig {
    /// Hold conversations and send notices on WhatsApp. Off until the number is set up.
    pub enabled: bool,
    /// A system user's access token; better given as `VEDETTA_WHATSAPP__ACCESS_TOKEN`.
    pub access_token: Option<String>,
    /// The business phone number's id (not the number itself), from the app's WhatsApp setup.
    pub phone_number_id: String,
    /// The Graph API: Meta's, or a proxy the office runs.
    pub api_url: String,
    /// The Graph API version in every path (`v21.0`).
    pub api_version: String,
    /// The app secret, which signs every notification in `X-Hub-Signature-256`; better given as
    /// `VEDETTA_WHATSAPP__APP_SECRET`.
    pub app_secret: Option<String>,
    /// The token the office typed into the app's webhook settings, echoed by Meta's handshake.
    pub verify_token: Option<String>,
    /// Messages per second from the number to everyone together (Cloud API: 80).
    pub messages_per_second: u32,
    /// Messages to one person per 6 seconds (Cloud API: 1, error 131056 beyond).
    pub per_user_per_6s: u32,
    /// The approved template for a notice to someone who has not written for 24 hours. Its body
    /// takes two parameters: the notice's title line and the link to its page.
    pub notice_template: Option<String>,
    /// The approved template for news of a report after 24 hours of silence. Its body takes two
    /// parameters: the title line and the news.
    pub report_template: Option<String>,
}

impl Default for WhatsAppConfig {
    fn default() -> WhatsAppConfig {
        WhatsAppConfig {
            enabled: false,
            access_token: None,
            phone_number_id: String::new(),
            api_url: "https://graph.facebook.com".into(),
            api_version: "v21.0".into(),
            app_secret: None,
            verify_token: None,
            messages_per_second: 80,
            per_user_per_6s: 1,
            notice_template: None,
            report_template: None,
        }
    }
}

impl WhatsAppConfig {
    /// A number that is on has its id, a token, the webhook's secrets, a usable API address and
    /// version, and limits.
    pub(super) fn check(&self) -> Result<(), (&'static str, &'static str)> {
        if !self.enabled {
            return Ok(());
        }
        let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
        if !digits(&self.phone_number_id) {
            return Err((
                "whatsapp.phone_number_id",
                "must be the business number's id, digits only, from the app's WhatsApp setup",
            ));
        }
        let printable = |secret: &Option<String>| {
            secret
                .as_deref()
                .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic()))
        };
        if !printable(&self.access_token) {
            return Err((
                "whatsapp.access_token",
                "must be a system user's access token (set VEDETTA_WHATSAPP__ACCESS_TOKEN)",
            ));
        }
        if !printable(&self.app_secret) {
            return Err((
                "whatsapp.app_secret",
                "must be the app secret that signs Meta's notifications",
            ));
        }
        if !printable(&self.verify_token) {
            return Err((
                "whatsapp.verify_token",
                "must be the verify token typed into the app's webhook settings",
            ));
        }
        let api_ok = url::Url::parse(&self.api_url)
            .is_ok_and(|url| matches!(url.scheme(), "http" | "https"));
        if !api_ok {
            return Err((
                "whatsapp.api_url",
                "must be an http(s) URL such as https://graph.facebook.com",
            ));
        }
        let version_ok = self
            .api_version
            .strip_prefix('v')
            .and_then(|v| v.split_once('.'))
            .is_some_and(|(major, minor)| digits(major) && digits(minor));
        if !version_ok {
            return Err((
                "whatsapp.api_version",
                "must be a Graph API version such as v21.0",
            ));
        }
        if self.messages_per_second == 0 || self.per_user_per_6s == 0 {
            return Err((
                "whatsapp.messages_per_second",
                "the sending limits must be at least 1",
            ));
        }
        let template_ok = |name: &Option<String>| {
            name.as_deref().is_none_or(|name| {
                (1..=512).contains(&name.len())
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            })
        };
        if !template_ok(&self.notice_template) || !template_ok(&self.report_template) {
            return Err((
                "whatsapp.notice_template",
                "a template's name is lowercase letters, digits and '_', as Meta approved it",
            ));
        }
        Ok(())
    }
}
