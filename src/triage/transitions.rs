//! Which status may follow which, and an operator's change request checked against it.

use serde::Deserialize;
use serde_json::Value;

use super::model::{ChangeKind, RejectionReason};
use crate::model::{ReportStatus, bounded_text};
use crate::problem::{ErrorCode, Problem};

/// The statuses a report may move to from `from`. Nothing goes back to `received`: a closed
/// report is reopened as `in_progress` (or `acknowledged`, after a wrong rejection).
pub fn allowed_after(from: ReportStatus) -> &'static [ReportStatus] {
    use ReportStatus::*;
    match from {
        Received => &[Acknowledged, InProgress, Resolved, Rejected],
        Acknowledged => &[InProgress, Resolved, Rejected],
        InProgress => &[Resolved, Rejected],
        Resolved => &[InProgress],
        Rejected => &[Acknowledged, InProgress],
    }
}

/// Refuses a move the workflow does not allow, saying which moves are possible.
pub(super) fn check(from: ReportStatus, to: ReportStatus) -> Result<(), Problem> {
    let allowed = allowed_after(from);
    if allowed.contains(&to) {
        return Ok(());
    }
    let options: Vec<&str> = allowed.iter().map(|status| status.as_str()).collect();
    Err(Problem::with_field(
        ErrorCode::InvalidTransition,
        "status",
        format!(
            "a report that is {} cannot become {}; from {} it can become: {}",
            from.as_str(),
            to.as_str(),
            from.as_str(),
            options.join(", ")
        ),
    ))
}

/// A change to make to one report, from an operator, a device or the hub itself.
#[derive(Debug, Clone)]
pub struct Change {
    pub kind: ChangeKind,
    /// `None`, or the current status, records notes without moving the report.
    pub status: Option<ReportStatus>,
    pub public_note: Option<String>,
    pub internal_note: Option<String>,
    pub reason: Option<RejectionReason>,
    pub detail: Value,
}

impl Change {
    pub fn new(kind: ChangeKind) -> Change {
        Change {
            kind,
            status: None,
            public_note: None,
            internal_note: None,
            reason: None,
            detail: Value::Null,
        }
    }

    pub fn to(mut self, status: ReportStatus) -> Change {
        self.status = Some(status);
        self
    }

    pub fn with_detail(mut self, detail: Value) -> Change {
        self.detail = detail;
        self
    }
}

/// `POST /api/v1/reports/{id}/status` as sent (`schemas/report-status-change.schema.json`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChange {
    pub status: Option<String>,
    pub version: Option<i64>,
    pub public_note: Option<String>,
    pub internal_note: Option<String>,
    pub reason: Option<String>,
}

/// An operator's change, checked on its own; the transition is checked against the stored report.
#[derive(Debug, Clone)]
pub(super) struct ChangeRequest {
    /// The version the operator saw: a report changed since then is not touched (409).
    pub version: i64,
    pub change: Change,
}

impl ChangeRequest {
    pub(super) fn parse(raw: RawChange, max_note_chars: usize) -> Result<ChangeRequest, Problem> {
        let version = raw.version.ok_or_else(|| {
            Problem::with_field(
                ErrorCode::MissingField,
                "version",
                "`version` is required: send the version of the report you looked at",
            )
        })?;
        let status = raw.status.as_deref().map(parse_status).transpose()?;
        let reason = raw
            .reason
            .as_deref()
            .map(|reason| RejectionReason::parse(reason, "reason"))
            .transpose()?;
        check_reason(status, reason.is_some())?;
        let public_note = bounded_text(raw.public_note, "public_note", max_note_chars)?;
        let internal_note = bounded_text(raw.internal_note, "internal_note", max_note_chars)?;
        if status.is_none() && public_note.is_none() && internal_note.is_none() {
            return Err(Problem::with_field(
                ErrorCode::MissingField,
                "status",
                "send a `status`, a `public_note` or an `internal_note`",
            ));
        }
        Ok(ChangeRequest {
            version,
            change: Change {
                kind: ChangeKind::Triage,
                status,
                public_note,
                internal_note,
                reason,
                detail: Value::Null,
            },
        })
    }
}

pub fn parse_status(value: &str) -> Result<ReportStatus, Problem> {
    ReportStatus::parse(value).ok_or_else(|| {
        let known: Vec<&str> = ReportStatus::ALL.iter().map(|s| s.as_str()).collect();
        Problem::with_field(
            ErrorCode::InvalidField,
            "status",
            format!("`status` must be one of: {}", known.join(", ")),
        )
    })
}

/// A rejection needs a reason, and only a rejection may have one.
fn check_reason(status: Option<ReportStatus>, has_reason: bool) -> Result<(), Problem> {
    let rejecting = status == Some(ReportStatus::Rejected);
    if rejecting && !has_reason {
        return Err(Problem::with_field(
            ErrorCode::MissingField,
            "reason",
            "`reason` is required to reject a report: duplicate, not_actionable, spam or out_of_area",
        ));
    }
    if !rejecting && has_reason {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            "reason",
            "`reason` is only for `\"status\": \"rejected\"`",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_goes_back_to_received() {
        for from in ReportStatus::ALL {
            assert!(check(from, ReportStatus::Received).is_err(), "{from:?}");
        }
    }

    #[test]
    fn a_resolved_report_can_only_be_reopened() {
        let refused = check(ReportStatus::Resolved, ReportStatus::Received).unwrap_err();

        assert_eq!(refused.code, ErrorCode::InvalidTransition);
        assert!(
            refused.message.contains("in_progress"),
            "{}",
            refused.message
        );
        assert!(check(ReportStatus::Resolved, ReportStatus::InProgress).is_ok());
    }

    #[test]
    fn a_rejection_without_a_reason_is_refused() {
        let raw = RawChange {
            status: Some("rejected".into()),
            version: Some(1),
            ..RawChange::default()
        };

        let refused = ChangeRequest::parse(raw, 100).unwrap_err();

        assert_eq!(refused.field.as_deref(), Some("reason"));
    }
}
