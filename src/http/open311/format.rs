//! Open311 documents: services, submitted requests, request status and errors, as JSON or XML.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::SecondsFormat;
use serde::Serialize;

use crate::hub::Hub;
use crate::problem::Problem;
use crate::reports::{Category, Receipt, Report};
use crate::triage::round_coordinate as round;

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Json,
    Xml,
}

/// One entry of `services`.
#[derive(Serialize)]
pub(super) struct ServiceView {
    service_code: String,
    service_name: String,
    description: String,
    metadata: bool,
    #[serde(rename = "type")]
    kind: &'static str,
    keywords: String,
    group: String,
}

impl ServiceView {
    pub(super) fn of(category: &Category, language: &str) -> ServiceView {
        ServiceView {
            service_code: category.code.clone(),
            service_name: category.name_in(language).to_owned(),
            description: category.description_in(language).to_owned(),
            metadata: false,
            kind: "realtime",
            keywords: String::new(),
            group: String::new(),
        }
    }
}

/// The answer to `POST requests`.
#[derive(Serialize)]
pub(super) struct SubmittedView {
    service_request_id: String,
    service_notice: String,
    account_id: Option<String>,
    /// Our extension: the reporter's secret for the report's updates.
    follow_token: String,
}

impl SubmittedView {
    pub(super) fn of(receipt: &Receipt) -> SubmittedView {
        SubmittedView {
            service_request_id: receipt.id.clone(),
            service_notice:
                "Received. Operators will review it; check back with this id for status.".into(),
            account_id: None,
            follow_token: receipt.follow_token.clone(),
        }
    }
}

/// Who reads a service request, and so what it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Audience {
    /// Anyone: the text only of published reports, a rounded position, no media.
    Public,
    /// Anyone, with `open311.publish_all`: everything but contact details.
    PublicFull,
    /// Staff who read reports; `sees_media`: they handle reports (photos, media links).
    Staff { sees_media: bool },
}

impl Audience {
    /// Full publishing, too, ends `privacy.public_report_days` after a report arrived: from
    /// then on the public reads it as any other.
    fn for_report(self, report: &Report, hub: &Hub) -> Audience {
        let days = chrono::Duration::days(hub.config.privacy.public_report_days.into());
        match self {
            Audience::PublicFull if report.received_at + days <= hub.clock.now() => {
                Audience::Public
            }
            audience => audience,
        }
    }
}

/// One service request as `GET requests` shows it.
#[derive(Serialize)]
pub(super) struct RequestView {
    service_request_id: String,
    status: &'static str,
    status_notes: Option<String>,
    service_name: String,
    service_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    agency_responsible: String,
    service_notice: Option<String>,
    requested_datetime: String,
    updated_datetime: String,
    expected_datetime: Option<String>,
    address: Option<String>,
    lat: f64,
    long: f64,
    media_url: Option<String>,
}

impl RequestView {
    pub(super) fn of(report: &Report, hub: &Hub, audience: Audience) -> RequestView {
        let audience = audience.for_report(report, hub);
        let language = &hub.config.default_language;
        let catalog = &hub.intake.rules().catalog;
        let service_name = catalog
            .get(&report.category)
            .map_or(report.category.clone(), |category| {
                category.name_in(language).to_owned()
            });
        RequestView {
            service_request_id: report.id.clone(),
            status: if report.status.is_closed() {
                "closed"
            } else {
                "open"
            },
            status_notes: status_notes(report),
            service_name,
            service_code: report.category.clone(),
            description: shows_text(report, hub, audience).then(|| report.text.clone()),
            agency_responsible: hub.config.cap_sender_name(),
            service_notice: None,
            requested_datetime: iso8601(report.received_at),
            updated_datetime: iso8601(report.updated_at),
            // Where lives may be at stake, no resolution time: the same promise every channel keeps.
            expected_datetime: (!report.status.is_closed()
                && !catalog.is_life_safety(&report.category))
            .then_some(report.triage.resolve_due_at)
            .flatten()
            .map(iso8601),
            address: None,
            lat: position(report.location.lat, hub, audience),
            long: position(report.location.lon, hub, audience),
            media_url: match audience {
                Audience::PublicFull | Audience::Staff { sees_media: true } => {
                    report.media_url.clone()
                }
                Audience::Public | Audience::Staff { sees_media: false } => None,
            },
        }
    }
}

fn shows_text(report: &Report, hub: &Hub, audience: Audience) -> bool {
    match audience {
        Audience::Public => report.triage.is_public(hub.clock.now()),
        Audience::PublicFull | Audience::Staff { .. } => true,
    }
}

/// Exact for staff and full publishing; otherwise as coarse as the open-data export.
fn position(coordinate: f64, hub: &Hub, audience: Audience) -> f64 {
    match audience {
        Audience::Public => round(coordinate, hub.config.open_data.precision_decimals),
        Audience::PublicFull | Audience::Staff { .. } => coordinate,
    }
}

/// The last note the reporter was given; for a rejection, the reason first.
fn status_notes(report: &Report) -> Option<String> {
    let triage = &report.triage;
    let reason = triage
        .rejection_reason
        .as_deref()
        .map(|reason| format!("rejected: {reason}"));
    match (reason, triage.public_note.as_deref()) {
        (Some(reason), Some(note)) => Some(format!("{reason}. {note}")),
        (Some(reason), None) => Some(reason),
        (None, note) => note.map(str::to_owned),
    }
}

fn iso8601(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// An Open311 error: the HTTP status, repeated in the body as the spec wants.
#[derive(Serialize)]
pub(super) struct Open311Error {
    code: u16,
    description: String,
}

impl Open311Error {
    pub(super) fn not_found(description: &str) -> Open311Error {
        Open311Error {
            code: 404,
            description: description.to_owned(),
        }
    }
}

impl From<Problem> for Open311Error {
    fn from(problem: Problem) -> Open311Error {
        // Our messages already name the field they are about.
        Open311Error {
            code: problem.code.http_status(),
            description: problem.message,
        }
    }
}

#[derive(Serialize)]
struct XmlList<'a, T: Serialize> {
    #[serde(rename = "$value")]
    items: Vec<XmlItem<'a, T>>,
}

#[derive(Serialize)]
enum XmlItem<'a, T: Serialize> {
    #[serde(rename = "service")]
    Service(&'a T),
    #[serde(rename = "request")]
    Request(&'a T),
    #[serde(rename = "error")]
    Error(&'a T),
}

impl Format {
    /// `1234.json` → (`1234`, Json).
    pub(super) fn split_extension(file: &str) -> Option<(&str, Format)> {
        let (stem, extension) = file.rsplit_once('.')?;
        let format = match extension {
            "json" => Format::Json,
            "xml" => Format::Xml,
            _ => return None,
        };
        (!stem.is_empty()).then_some((stem, format))
    }

    pub(super) fn services(self, services: &[ServiceView]) -> Response {
        self.render(StatusCode::OK, "services", services, XmlItem::Service)
    }

    pub(super) fn submitted(self, status: StatusCode, submitted: &SubmittedView) -> Response {
        self.render(
            status,
            "service_requests",
            std::slice::from_ref(submitted),
            XmlItem::Request,
        )
    }

    pub(super) fn requests(self, hub: &Hub, reports: &[Report], audience: Audience) -> Response {
        let views: Vec<RequestView> = reports
            .iter()
            .map(|report| RequestView::of(report, hub, audience))
            .collect();
        self.render(StatusCode::OK, "service_requests", &views, XmlItem::Request)
    }

    pub(super) fn error(self, error: &Open311Error) -> Response {
        let status = StatusCode::from_u16(error.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        self.render(
            status,
            "errors",
            std::slice::from_ref(error),
            XmlItem::Error,
        )
    }

    fn render<'a, T: Serialize>(
        self,
        status: StatusCode,
        root: &str,
        items: &'a [T],
        wrap: fn(&'a T) -> XmlItem<'a, T>,
    ) -> Response {
        match self {
            Format::Json => (status, Json(items)).into_response(),
            Format::Xml => {
                let list = XmlList {
                    items: items.iter().map(wrap).collect(),
                };
                match quick_xml::se::to_string_with_root(root, &list) {
                    Ok(xml) => (
                        status,
                        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
                        format!("{XML_DECLARATION}{xml}"),
                    )
                        .into_response(),
                    Err(err) => {
                        super::super::error::ApiError(Problem::internal(&err)).into_response()
                    }
                }
            }
        }
    }
}
