//! What triage records: rejection reasons, history entries, reporter updates, incidents.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::report::{DeviceId, Report};
use crate::problem::{ErrorCode, Problem};
use crate::zones::Location;

/// Why a report was rejected; the reporter is told which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionReason {
    Duplicate,
    NotActionable,
    Spam,
    OutOfArea,
}

impl RejectionReason {
    pub const ALL: [RejectionReason; 4] = [
        RejectionReason::Duplicate,
        RejectionReason::NotActionable,
        RejectionReason::Spam,
        RejectionReason::OutOfArea,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RejectionReason::Duplicate => "duplicate",
            RejectionReason::NotActionable => "not_actionable",
            RejectionReason::Spam => "spam",
            RejectionReason::OutOfArea => "out_of_area",
        }
    }

    pub fn parse(value: &str, field: &str) -> Result<RejectionReason, Problem> {
        Self::ALL
            .into_iter()
            .find(|reason| reason.as_str() == value)
            .ok_or_else(|| {
                Problem::with_field(
                    ErrorCode::InvalidField,
                    field,
                    format!(
                        "`{field}` must be one of: duplicate, not_actionable, spam, out_of_area"
                    ),
                )
            })
    }
}

/// What kind of thing happened to a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A status change or a note by an operator.
    Triage,
    /// Sent to a field team.
    Dispatch,
    /// A field device answered its task.
    Task,
    /// Moved between incidents, or resolved with its incident.
    Incident,
    /// A notice draft was opened from it.
    Escalate,
    /// Contact details and photo deleted after the retention period.
    Purge,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Triage => "triage",
            ChangeKind::Dispatch => "dispatch",
            ChangeKind::Task => "task",
            ChangeKind::Incident => "incident",
            ChangeKind::Escalate => "escalate",
            ChangeKind::Purge => "purge",
        }
    }
}

/// One line of a report's history. `internal_note` never leaves the staff side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// An account name, `device:<id>`, or `system`.
    pub actor: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_note: Option<String>,
    #[serde(skip_serializing_if = "Value::is_null")]
    pub detail: Value,
}

/// A `report_update` frame owed to a reporter, stored so a reporter that was away gets it later.
#[derive(Debug, Clone, PartialEq)]
pub struct ReporterUpdate {
    /// The cursor a reporter resumes after.
    pub seq: i64,
    pub report_seq: i64,
    pub device_id: Option<DeviceId>,
    /// The frame, serialized once: the same bytes on every channel and every replay.
    pub frame: String,
}

/// A committed change to a report, as the bus carries it to staff and reporters.
#[derive(Debug, Clone)]
pub struct ReportChange {
    pub report: Report,
    pub entry: HistoryEntry,
    /// What the reporter is told; `None` for changes that are staff business only.
    pub update: Option<ReporterUpdate>,
}

/// Which step of a report is late.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OverdueStep {
    Acknowledge,
    Resolve,
}

impl OverdueStep {
    /// The bit of `reports.overdue_raised` that records the alert.
    pub fn bit(self) -> i64 {
        match self {
            OverdueStep::Acknowledge => 1,
            OverdueStep::Resolve => 2,
        }
    }
}

/// A report that just became late, raised once per step.
#[derive(Debug, Clone)]
pub struct Overdue {
    pub report: Report,
    pub step: OverdueStep,
    pub due_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// At least one of its reports is still open.
    Open,
    Resolved,
    /// Its reports now belong to `merged_into`.
    Merged,
}

impl IncidentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Open => "open",
            IncidentStatus::Resolved => "resolved",
            IncidentStatus::Merged => "merged",
        }
    }

    pub fn parse(value: &str) -> Option<IncidentStatus> {
        [
            IncidentStatus::Open,
            IncidentStatus::Resolved,
            IncidentStatus::Merged,
        ]
        .into_iter()
        .find(|status| status.as_str() == value)
    }
}

/// Reports of one category close in space and time, handled as one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    #[serde(skip)]
    pub seq: i64,
    pub id: String,
    pub category: String,
    pub status: IncidentStatus,
    /// The centre of its reports.
    pub location: Location,
    pub report_count: i64,
    pub open_count: i64,
    pub last_report_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which incidents a listing wants, newest first.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub status: Option<IncidentStatus>,
    pub category: Option<String>,
    pub before_seq: Option<i64>,
    pub limit: usize,
}

/// The reports a reporter session follows, opened by their follow tokens.
#[derive(Debug, Clone, Default)]
pub struct Followed {
    pub report_seqs: Vec<i64>,
}
