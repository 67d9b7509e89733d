//! Report types that can only hold valid values: built at the edge, trusted inside.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::problem::{ErrorCode, Problem};
use crate::zones::{Location, ZoneRef};

/// The channel a report arrived on. Feedback goes back the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Http,
    Open311,
    Ws,
    Mqtt,
    Telegram,
    #[serde(rename = "whatsapp")]
    WhatsApp,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Http => "http",
            Source::Open311 => "open311",
            Source::Ws => "ws",
            Source::Mqtt => "mqtt",
            Source::Telegram => "telegram",
            Source::WhatsApp => "whatsapp",
        }
    }

    pub fn parse(value: &str) -> Option<Source> {
        [
            Source::Http,
            Source::Open311,
            Source::Ws,
            Source::Mqtt,
            Source::Telegram,
            Source::WhatsApp,
        ]
        .into_iter()
        .find(|source| source.as_str() == value)
    }
}

/// Where a report stands in triage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    Received,
    Acknowledged,
    InProgress,
    Resolved,
    Rejected,
}

impl ReportStatus {
    pub const ALL: [ReportStatus; 5] = [
        ReportStatus::Received,
        ReportStatus::Acknowledged,
        ReportStatus::InProgress,
        ReportStatus::Resolved,
        ReportStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Received => "received",
            ReportStatus::Acknowledged => "acknowledged",
            ReportStatus::InProgress => "in_progress",
            ReportStatus::Resolved => "resolved",
            ReportStatus::Rejected => "rejected",
        }
    }

    pub fn parse(value: &str) -> Option<ReportStatus> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
    }

    /// Open311 knows only two states.
    pub fn is_closed(self) -> bool {
        matches!(self, ReportStatus::Resolved | ReportStatus::Rejected)
    }
}

/// Checks an identifier chosen by a client: 1 to 64 characters from `[A-Za-z0-9._:-]`.
/// These identifiers end up in MQTT topics and log lines, so nothing else is allowed.
fn parse_identifier(value: &str, field: &str) -> Result<String, Problem> {
    let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':');
    if value.is_empty() || value.len() > 64 || !value.chars().all(valid_char) {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            field,
            format!(
                "`{field}` must be 1 to 64 characters of letters, digits, '.', '_', '-' or ':'"
            ),
        ));
    }
    Ok(value.to_owned())
}

/// The client's own reference for a report, unique per source and device; retries reuse it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ClientRef(String);

impl ClientRef {
    pub fn parse(value: &str, field: &str) -> Result<ClientRef, Problem> {
        parse_identifier(value, field).map(ClientRef)
    }

    /// For senders that cannot give one (a plain Open311 client): never matches a retry.
    pub fn generated() -> ClientRef {
        ClientRef(format!("gen:{}", uuid::Uuid::now_v7()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A device (phone app, tablet, browser) as it names itself; it is also its MQTT client id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct DeviceId(String);

impl DeviceId {
    pub fn parse(value: &str, field: &str) -> Result<DeviceId, Problem> {
        parse_identifier(value, field).map(DeviceId)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How to reach the reporter. Personal data: never logged, never on a public view.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Contact {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A photo whose bytes match its declared type.
#[derive(Debug, Clone, PartialEq)]
pub struct Photo {
    pub content_type: &'static str,
    pub data: Vec<u8>,
}

impl Photo {
    /// The bytes as a photo, if they really are a JPEG, PNG or WebP image.
    pub fn sniffed(data: Vec<u8>) -> Option<Photo> {
        let content_type = if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
            "image/jpeg"
        } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
            "image/png"
        } else if data.len() > 12 && data.starts_with(b"RIFF") && &data[8..12] == b"WEBP" {
            "image/webp"
        } else {
            return None;
        };
        Some(Photo { content_type, data })
    }
}

/// A stored report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub seq: i64,
    pub id: String,
    pub source: Source,
    pub device_id: Option<DeviceId>,
    pub client_ref: ClientRef,
    pub category: String,
    pub location: Location,
    pub text: String,
    pub contact: Option<Contact>,
    pub media_url: Option<String>,
    pub has_photo: bool,
    pub zones: Vec<ZoneRef>,
    pub in_area: bool,
    pub status: ReportStatus,
    pub version: i64,
    pub received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub triage: TriageState,
}

/// Where a report stands in triage beyond its status: due times, closure, notes, incident.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TriageState {
    pub incident_id: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Resolved or rejected.
    pub closed_at: Option<DateTime<Utc>>,
    pub acknowledge_due_at: Option<DateTime<Utc>>,
    pub resolve_due_at: Option<DateTime<Utc>>,
    pub rejection_reason: Option<String>,
    /// The last note the reporter was given.
    pub public_note: Option<String>,
    /// Overdue alerts already raised: 1 = acknowledgement, 2 = resolution.
    pub overdue_raised: i64,
    /// Until when an operator made the report's text public (Open311); `None`: never.
    pub public_until: Option<DateTime<Utc>>,
}

impl TriageState {
    /// Whether an operator's publication of the report is in force at `now`.
    pub fn is_public(&self, now: DateTime<Utc>) -> bool {
        self.public_until.is_some_and(|until| now < until)
    }

    /// Late for acknowledgement (still `received`) or for resolution (still open) at `now`.
    pub fn is_overdue(&self, status: ReportStatus, now: DateTime<Utc>) -> bool {
        let late = |due: Option<DateTime<Utc>>| due.is_some_and(|due| now >= due);
        (status == ReportStatus::Received && late(self.acknowledge_due_at))
            || (!status.is_closed() && late(self.resolve_due_at))
    }
}

/// What a sender gets back once its report is on disk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Receipt {
    pub id: String,
    pub client_ref: ClientRef,
    pub status: ReportStatus,
    pub zones: Vec<ZoneRef>,
    pub in_area: bool,
    pub received_at: DateTime<Utc>,
    /// True when this answers a retry of a report stored earlier.
    pub duplicate: bool,
    /// The reporter's secret for following this report; every answer, a retry's too, carries
    /// a fresh one.
    pub follow_token: String,
    /// Where the report sits in the store, for a channel that follows it for its sender.
    #[serde(skip)]
    pub report_seq: i64,
}

impl Receipt {
    pub fn of(report: &Report, duplicate: bool, follow_token: String) -> Receipt {
        Receipt {
            id: report.id.clone(),
            client_ref: report.client_ref.clone(),
            status: report.status,
            zones: report.zones.clone(),
            in_area: report.in_area,
            received_at: report.received_at,
            duplicate,
            follow_token,
            report_seq: report.seq,
        }
    }
}
