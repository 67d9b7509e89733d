//! Configuration: defaults, then a TOML file, then `VEDETTA_*` variables, then command-line flags.

mod cap_sources;
mod categories;
mod chat;
mod load;
mod outbox;
mod triage;
mod ui;
mod validate;
mod whatsapp;

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use cap_sources::{CapSource, FastReview};
pub use categories::{Category, CategoryCatalog, LocalizedText, default_categories};
pub use chat::{TelegramChannel, TelegramConfig, TelegramMode};
pub use load::{ConfigError, Overrides, load};
pub use outbox::{EmailConfig, OutboxConfig, PushConfig, SmtpSecurity, WebhooksConfig};
pub use triage::{
    IncidentsConfig, OpenDataConfig, PrivacyConfig, RetentionConfig, Target, TriageConfig,
    parse_within,
};
pub use ui::UiConfig;
pub use whatsapp::WhatsAppConfig;

/// Everything the hub can be told. Each field has a default so an empty file is a valid config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Short name of this office (`demo`, `bologna`): MQTT prefix and client id derive from it.
    pub office: String,
    /// Where the SQLite database (and, later, keys and backups) live.
    pub data_dir: PathBuf,
    /// HTTP and WebSocket listener; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Language of names and messages when the client does not ask for one.
    pub default_language: String,
    /// The address people and aggregators reach this hub at, for links in feeds and CAP
    /// documents (e.g. `https://allerta.comune.example`). Default: `http://<listen>`.
    pub public_url: Option<String>,
    pub http: HttpConfig,
    pub mqtt: MqttConfig,
    pub intake: IntakeConfig,
    pub limits: LimitsConfig,
    pub zones: ZonesConfig,
    pub auth: AuthConfig,
    pub notices: NoticesConfig,
    pub ws: WsConfig,
    pub triage: TriageConfig,
    pub incidents: IncidentsConfig,
    pub open_data: OpenDataConfig,
    pub open311: Open311Config,
    pub metrics: MetricsConfig,
    pub retention: RetentionConfig,
    pub privacy: PrivacyConfig,
    pub ui: UiConfig,
    pub outbox: OutboxConfig,
    pub telegram: TelegramConfig,
    pub whatsapp: WhatsAppConfig,
    /// Other authorities' CAP feeds polled for alerts to relay.
    pub cap_sources: Vec<CapSource>,
    /// Report categories, in display order.
    pub categories: Vec<Category>,
}

/// Bounds on HTTP connections and requests (WebSocket sessions count as connections).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// A connection must complete each request head within this time (idle keep-alive
    /// connections too); otherwise it is closed, with a 408 if a request had begun.
    pub header_read_timeout_secs: u64,
    /// Reading a request's body and answering it must take at most this long; then 408.
    pub request_timeout_secs: u64,
    /// Largest request head (request line and headers); beyond it, 431.
    pub max_header_bytes: usize,
    /// Longest path and query; beyond it, 414.
    pub max_uri_bytes: usize,
    /// Open connections in total; 0 for no limit. Beyond it a connection gets 503 and is closed.
    pub max_connections: usize,
    /// Open connections from one address (an IPv6 /64 counts as one); 0 for no limit.
    /// Beyond it a connection gets 429 and is closed.
    pub max_connections_per_ip: usize,
}

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig {
            header_read_timeout_secs: 30,
            request_timeout_secs: 30,
            max_header_bytes: 16 * 1024,
            max_uri_bytes: 8 * 1024,
            max_connections: 16_384,
            max_connections_per_ip: 256,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    pub enabled: bool,
    /// `mqtt://host:port`, optionally with `user:password@`.
    pub url: String,
    /// Topic prefix; defaults to `vedetta/<office>`.
    pub prefix: Option<String>,
    /// The hub's MQTT client id; defaults to `vedetta-<office>`. Must be stable: the broker keeps
    /// the hub's persistent session (and reports queued while it was away) under this id.
    pub client_id: Option<String>,
    /// `/readyz` turns unready when messages from the broker have waited this long for their
    /// acknowledgement with none leaving: intake is stuck.
    pub stall_after_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntakeConfig {
    pub max_text_chars: usize,
    pub max_photo_bytes: usize,
    /// Largest HTTP body, WebSocket message or MQTT payload accepted.
    pub max_body_bytes: usize,
    /// Refuse reports outside every zone, instead of accepting and flagging them.
    pub reject_outside_zones: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Reports per minute from one IP address, over every channel; 0 disables.
    pub reports_per_minute_per_ip: u32,
    /// Reports per minute from one device id; 0 disables.
    pub reports_per_minute_per_device: u32,
    /// Any HTTP request per second from one IP address (burst of twice this); 0 disables.
    pub http_requests_per_second_per_ip: u32,
    /// Device ids the hub has never seen that may start reporting over MQTT each minute
    /// (devices on record always may); 0 disables. Over MQTT only the topic names a sender.
    pub new_mqtt_devices_per_minute: u32,
}

/// Where Prometheus reads the hub's metrics.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// A listener of its own serving `GET /metrics` without a login (e.g. `127.0.0.1:9464`).
    /// Bind it to loopback or a monitoring network. Without it, `/metrics` on the main listener
    /// needs a staff login.
    pub listen: Option<SocketAddr>,
}

/// What Open311's public reads show.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Open311Config {
    /// Show everyone every request's text, exact position and media_url, as FixMyStreet-style
    /// sites do. Off: the text only of reports an operator published, positions rounded as
    /// in the open-data export, no media_url. Contact details are never shown either way.
    pub publish_all: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ZonesConfig {
    /// Load the demo district from `maps/demo` when the database has no zones yet.
    pub load_demo: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// How long a login lasts; a shift plus margin.
    pub session_hours: u32,
    /// Failed logins per minute for one account name from one address; then that pair waits.
    pub failed_logins_per_minute: u32,
    /// Failed logins per minute from one address, whatever the names; then it waits.
    pub failed_logins_per_minute_per_address: u32,
    /// Password checks (19 MiB of argon2id memory each) running at once.
    pub max_concurrent_password_checks: usize,
    /// How long a login waits for a free password check before the hub answers 503.
    pub password_check_wait_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoticesConfig {
    /// CAP `sender`, unique to this office (an e-mail address). Default `<office>@vedetta.local`.
    pub sender: Option<String>,
    /// CAP `senderName`, the office as people know it.
    pub sender_name: Option<String>,
    /// Largest CAP document accepted for import.
    pub max_import_bytes: usize,
    /// An imported alert with no `<expires>` is taken as valid this long after its `sent`
    /// (and the import says so).
    pub import_default_validity_hours: u32,
    /// An area covering more of the finest zones than this (or reaching into more than one
    /// top-level zone) is approved only with `confirm_wide_area`.
    pub wide_area_zones: usize,
    /// A directory of PEM certificates whose XML signatures on imported CAP are trusted; each
    /// file's name (without extension) names the signer.
    pub trusted_cap_certificates: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WsConfig {
    /// A session whose socket takes longer than this to accept one frame is dropped: it is not
    /// reading, and it must not hold anything up.
    pub write_timeout_secs: u64,
    /// Kernel send buffer of each connection. Bounded so that a client which stops reading
    /// holds little memory and is found out within `write_timeout_secs`; the operating
    /// system's autotuning would let it hold megabytes.
    pub send_buffer_bytes: usize,
    /// Frames a session may send per second (bursts of twice that); 0 for no limit.
    pub frames_per_second: u32,
    /// Frames that read the database (auth, subscribe, follow, watch) per minute and session,
    /// in bursts of at most 10; 0 for no limit.
    pub queries_per_minute: u32,
    /// A session is pinged this often, and closed if nothing came back by the next ping;
    /// 0 for no pings.
    pub ping_interval_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> AuthConfig {
        AuthConfig {
            session_hours: 12,
            failed_logins_per_minute: 10,
            failed_logins_per_minute_per_address: 30,
            max_concurrent_password_checks: 2,
            password_check_wait_secs: 2,
        }
    }
}

impl Default for NoticesConfig {
    fn default() -> NoticesConfig {
        NoticesConfig {
            sender: None,
            sender_name: None,
            max_import_bytes: 1024 * 1024,
            import_default_validity_hours: 24,
            wide_area_zones: 30,
            trusted_cap_certificates: None,
        }
    }
}

impl Default for WsConfig {
    fn default() -> WsConfig {
        WsConfig {
            write_timeout_secs: 10,
            send_buffer_bytes: 64 * 1024,
            frames_per_second: 20,
            queries_per_minute: 30,
            ping_interval_secs: 30,
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            office: "demo".into(),
            data_dir: PathBuf::from("./vedetta-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            default_language: "it".into(),
            public_url: None,
            http: HttpConfig::default(),
            mqtt: MqttConfig::default(),
            intake: IntakeConfig::default(),
            limits: LimitsConfig::default(),
            zones: ZonesConfig::default(),
            auth: AuthConfig::default(),
            notices: NoticesConfig::default(),
            ws: WsConfig::default(),
            triage: TriageConfig::default(),
            incidents: IncidentsConfig::default(),
            open_data: OpenDataConfig::default(),
            open311: Open311Config::default(),
            metrics: MetricsConfig::default(),
            retention: RetentionConfig::default(),
            privacy: PrivacyConfig::default(),
            ui: UiConfig::default(),
            outbox: OutboxConfig::default(),
            telegram: TelegramConfig::default(),
            whatsapp: WhatsAppConfig::default(),
            cap_sources: Vec::new(),
            categories: default_categories(),
        }
    }
}

impl Default for MqttConfig {
    fn default() -> MqttConfig {
        MqttConfig {
            enabled: true,
            url: "mqtt://127.0.0.1:1883".into(),
            prefix: None,
            client_id: None,
            stall_after_secs: 60,
        }
    }
}

impl Default for IntakeConfig {
    fn default() -> IntakeConfig {
        IntakeConfig {
            max_text_chars: 2000,
            max_photo_bytes: 2 * 1024 * 1024,
            max_body_bytes: 3 * 1024 * 1024,
            reject_outside_zones: false,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> LimitsConfig {
        LimitsConfig {
            reports_per_minute_per_ip: 60,
            reports_per_minute_per_device: 20,
            http_requests_per_second_per_ip: 50,
            new_mqtt_devices_per_minute: 60,
        }
    }
}

impl Default for ZonesConfig {
    fn default() -> ZonesConfig {
        ZonesConfig { load_demo: true }
    }
}

impl Config {
    /// A hub for tests and benchmarks: `data_dir`, a free loopback port, no MQTT, no quotas.
    pub fn ephemeral(data_dir: &std::path::Path) -> Config {
        let mut config = Config {
            data_dir: data_dir.to_owned(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..Config::default()
        };
        config.mqtt.enabled = false;
        config.http.max_connections_per_ip = 0;
        config.ws.frames_per_second = 0;
        config.ws.queries_per_minute = 0;
        config.limits = LimitsConfig {
            reports_per_minute_per_ip: 0,
            reports_per_minute_per_device: 0,
            http_requests_per_second_per_ip: 0,
            new_mqtt_devices_per_minute: 0,
        };
        config
    }

    /// CAP `sender` in effect.
    pub fn cap_sender(&self) -> String {
        self.notices
            .sender
            .clone()
            .unwrap_or_else(|| format!("{}@vedetta.local", self.office))
    }

    /// CAP `senderName` in effect.
    pub fn cap_sender_name(&self) -> String {
        self.notices
            .sender_name
            .clone()
            .unwrap_or_else(|| format!("Protezione civile - {}", self.office))
    }

    /// The MQTT topic prefix in effect.
    pub fn mqtt_prefix(&self) -> String {
        self.mqtt
            .prefix
            .clone()
            .unwrap_or_else(|| format!("vedetta/{}", self.office))
    }

    /// The hub's MQTT client id in effect.
    pub fn mqtt_client_id(&self) -> String {
        self.mqtt
            .client_id
            .clone()
            .unwrap_or_else(|| format!("vedetta-{}", self.office))
    }
}
