//! How staff see a report (`schemas/report.schema.json`): everything but the idempotency key;
//! contact details and the device id only for the roles that handle reports.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::model::{Contact, DeviceId, Report, ReportStatus, Source};
use crate::zones::{Location, ZoneRef};

#[derive(Serialize)]
pub struct ReportView<'a> {
    pub id: &'a str,
    pub source: Source,
    pub category: &'a str,
    pub status: ReportStatus,
    pub location: Location,
    pub text: &'a str,
    pub zones: &'a [ZoneRef],
    pub in_area: bool,
    pub has_photo: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_url: Option<&'a str>,
    pub version: i64,
    pub received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<&'a str>,
    pub acknowledge_due_at: Option<DateTime<Utc>>,
    pub resolve_due_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Late for its next step at the time of this view.
    pub overdue: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<&'a str>,
    /// The last note the reporter was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_note: Option<&'a str>,
    /// Until when the report's text is published in Open311.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_until: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Option<&'a Contact>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<Option<&'a DeviceId>>,
}

impl<'a> ReportView<'a> {
    /// `sees_reporters`: the viewer handles reports and may see how to reach their senders.
    pub fn of(report: &'a Report, sees_reporters: bool, now: DateTime<Utc>) -> ReportView<'a> {
        let triage = &report.triage;
        ReportView {
            id: &report.id,
            source: report.source,
            category: &report.category,
            status: report.status,
            location: report.location,
            text: &report.text,
            zones: &report.zones,
            in_area: report.in_area,
            has_photo: report.has_photo,
            // A link to the reporter's photo: for those who may see photos.
            media_url: report.media_url.as_deref().filter(|_| sees_reporters),
            version: report.version,
            received_at: report.received_at,
            updated_at: report.updated_at,
            incident_id: triage.incident_id.as_deref(),
            acknowledge_due_at: triage.acknowledge_due_at,
            resolve_due_at: triage.resolve_due_at,
            acknowledged_at: triage.acknowledged_at,
            closed_at: triage.closed_at,
            overdue: triage.is_overdue(report.status, now),
            rejection_reason: triage.rejection_reason.as_deref(),
            public_note: triage.public_note.as_deref(),
            public_until: triage.public_until,
            contact: sees_reporters.then_some(report.contact.as_ref()),
            device_id: sees_reporters.then_some(report.device_id.as_ref()),
        }
    }
}
