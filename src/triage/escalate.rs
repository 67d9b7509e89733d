//! Escalation: a notice draft prefilled from a report or an incident. It is an ordinary draft,
//! so a second person still has to approve it before anyone is warned.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use geo::{Distance, Haversine, Point};
use serde::Deserialize;
use serde_json::json;

use super::incidents::reports_of;
use super::model::{ChangeKind, HistoryEntry};
use super::service::{Triage, load};
use crate::auth::{Action, Staff};
use crate::model::{Location, Report};
use crate::notices::{Circle, Notice, RawArea, RawInfo, RawNotice, placeholder};
use crate::problem::{ErrorCode, Problem};
use crate::store::triage as triage_rows;
use crate::store::{audit, incidents as incident_rows};

/// Circles drawn around reports are at least this wide, so a single report still covers its street.
const MIN_RADIUS_KM: f64 = 1.0;
const MAX_RADIUS_KM: f64 = 50.0;
/// How long an escalated draft stays in force unless the author changes it.
const DEFAULT_VALIDITY: Duration = Duration::hours(6);
/// Languages an escalated draft is prefilled in.
const LANGUAGES: [&str; 2] = ["it", "en"];

/// `POST /api/v1/reports/{id}/escalate` and `/api/v1/incidents/{id}/escalate`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalateRequest {
    /// `Actual`, `Exercise` or `Test`: always stated, never assumed.
    pub status: Option<String>,
    /// `circle` (default) around the reports, or `zones`: the zones they fall in.
    pub area: Option<String>,
    pub radius_km: Option<f64>,
    pub urgency: Option<String>,
    pub severity: Option<String>,
    pub certainty: Option<String>,
    pub expires: Option<String>,
}

impl Triage {
    pub async fn escalate_report(
        &self,
        staff: &Staff,
        id: &str,
        request: EscalateRequest,
    ) -> Result<Notice, Problem> {
        staff.require(Action::Draft)?;
        let id = id.to_owned();
        let report = self.store().read(move |conn| load(conn, &id)).await?;
        self.escalate(staff, vec![report], request).await
    }

    pub async fn escalate_incident(
        &self,
        staff: &Staff,
        id: &str,
        request: EscalateRequest,
    ) -> Result<Notice, Problem> {
        staff.require(Action::Draft)?;
        let id = id.to_owned();
        let reports = self
            .store()
            .read(move |conn| {
                incident_rows::get(conn, &id)?.ok_or_else(|| {
                    Problem::new(ErrorCode::NotFound, format!("there is no incident {id}"))
                })?;
                Ok::<_, Problem>(reports_of(conn, &id)?)
            })
            .await?;
        self.escalate(staff, reports, request).await
    }

    async fn escalate(
        &self,
        staff: &Staff,
        reports: Vec<Report>,
        request: EscalateRequest,
    ) -> Result<Notice, Problem> {
        let raw = self.prefill(&reports, request)?;
        let notice = self.notices().draft(staff, raw).await?;
        self.note_escalation(staff, &reports, &notice).await?;
        Ok(notice)
    }

    fn prefill(&self, reports: &[Report], request: EscalateRequest) -> Result<RawNotice, Problem> {
        let first = reports.first().ok_or_else(|| {
            Problem::new(
                ErrorCode::InvalidState,
                "this incident has no reports to escalate",
            )
        })?;
        let status = request.status.ok_or_else(|| {
            Problem::with_field(
                ErrorCode::MissingField,
                "status",
                "`status` is required: say whether the notice is Actual, Exercise or Test",
            )
        })?;
        let category = self.settings().categories.get(&first.category);
        let cap_category = category
            .and_then(|category| category.cap_category.clone())
            .unwrap_or_else(|| "Other".into());
        let expires = request.expires.unwrap_or_else(|| {
            (self.now() + DEFAULT_VALIDITY).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        });
        let area = area_of(reports, request.area.as_deref(), request.radius_km)?;
        let place = place_name(reports);
        let info = LANGUAGES
            .iter()
            .map(|language| {
                let event = category.map_or(first.category.as_str(), |c| c.name_in(language));
                (
                    language.to_string(),
                    info_in(language, event, &place, reports.len()),
                )
            })
            .collect::<BTreeMap<_, _>>();
        Ok(RawNotice {
            status: Some(status),
            msg_type: Some("Alert".into()),
            category: Some(vec![cap_category]),
            urgency: Some(request.urgency.unwrap_or_else(|| "Expected".into())),
            severity: Some(request.severity.unwrap_or_else(|| "Moderate".into())),
            certainty: Some(request.certainty.unwrap_or_else(|| "Likely".into())),
            expires: Some(expires),
            web: None,
            contact: None,
            info: Some(info),
            area: Some(area),
        })
    }

    /// A history line on each report, and one audit line, naming the draft.
    async fn note_escalation(
        &self,
        staff: &Staff,
        reports: &[Report],
        notice: &Notice,
    ) -> Result<(), Problem> {
        let seqs: Vec<(i64, String)> = reports.iter().map(|r| (r.seq, r.id.clone())).collect();
        let (actor, at, notice_id) = (staff.name.clone(), self.now(), notice.id.clone());
        self.store()
            .write(move |ctx| {
                for (seq, _) in &seqs {
                    triage_rows::append_history(
                        ctx.conn(),
                        *seq,
                        escalation_entry(&actor, at, &notice_id),
                    )?;
                }
                let ids: Vec<&str> = seqs.iter().map(|(_, id)| id.as_str()).collect();
                let detail = json!({ "notice": notice_id, "reports": ids });
                audit::append(
                    ctx.conn(),
                    at.timestamp_millis(),
                    &actor,
                    "report.escalate",
                    Some(&notice_id),
                    &detail,
                )?;
                Ok::<_, Problem>(())
            })
            .await
    }
}

fn escalation_entry(actor: &str, at: DateTime<Utc>, notice_id: &str) -> HistoryEntry {
    HistoryEntry {
        seq: 0,
        at,
        actor: actor.to_owned(),
        kind: ChangeKind::Escalate.as_str().to_owned(),
        status: None,
        public_note: None,
        internal_note: None,
        detail: json!({ "notice": notice_id }),
    }
}

/// A circle around the reports, or the smallest zones they fall in.
fn area_of(
    reports: &[Report],
    kind: Option<&str>,
    radius_km: Option<f64>,
) -> Result<RawArea, Problem> {
    match kind.unwrap_or("circle") {
        "circle" => {
            let centre = centre_of(reports);
            let radius_km = match radius_km {
                Some(radius) if radius.is_finite() && radius > 0.0 && radius <= MAX_RADIUS_KM => {
                    radius
                }
                Some(_) => {
                    return Err(Problem::with_field(
                        ErrorCode::InvalidField,
                        "radius_km",
                        format!("`radius_km` must be more than 0 and at most {MAX_RADIUS_KM}"),
                    ));
                }
                None => covering_radius_km(reports, centre),
            };
            Ok(RawArea {
                circles: Some(vec![Circle {
                    lat: centre.lat,
                    lon: centre.lon,
                    radius_km,
                }]),
                ..RawArea::default()
            })
        }
        "zones" => {
            let mut zones: Vec<String> = reports
                .iter()
                .filter_map(|report| report.zones.first().map(|zone| zone.id.clone()))
                .collect();
            zones.sort();
            zones.dedup();
            if zones.is_empty() {
                // The request is sound; these reports are what rules it out.
                return Err(Problem::with_field(
                    ErrorCode::InvalidState,
                    "area",
                    "these reports are outside every zone; escalate with \"area\": \"circle\"",
                ));
            }
            Ok(RawArea {
                zones: Some(zones),
                ..RawArea::default()
            })
        }
        _ => Err(Problem::with_field(
            ErrorCode::InvalidField,
            "area",
            "`area` must be circle or zones",
        )),
    }
}

fn centre_of(reports: &[Report]) -> Location {
    let n = reports.len().max(1) as f64;
    Location {
        lat: reports.iter().map(|r| r.location.lat).sum::<f64>() / n,
        lon: reports.iter().map(|r| r.location.lon).sum::<f64>() / n,
    }
}

/// Reaches the farthest report, plus half a kilometre of margin.
fn covering_radius_km(reports: &[Report], centre: Location) -> f64 {
    let centre = Point::new(centre.lon, centre.lat);
    let farthest_m = reports
        .iter()
        .map(|r| Haversine.distance(centre, Point::new(r.location.lon, r.location.lat)))
        .fold(0.0, f64::max);
    (farthest_m / 1000.0 + 0.5).clamp(MIN_RADIUS_KM, MAX_RADIUS_KM)
}

fn place_name(reports: &[Report]) -> String {
    reports
        .iter()
        .find_map(|report| report.zones.first().map(|zone| zone.name.clone()))
        .unwrap_or_default()
}

fn info_in(language: &str, event: &str, place: &str, count: usize) -> RawInfo {
    // The placeholder keeps the draft from being approved until someone writes the notice.
    let reports = match language {
        "it" => format!("{count} segnalazioni dai cittadini."),
        _ => format!("{count} reports from the public."),
    };
    let headline = format!("{event} - {place}");
    let description = format!("{reports} {}", placeholder(language));
    RawInfo {
        event: Some(event.to_owned()),
        headline: Some(headline.trim_end_matches(" - ").to_owned()),
        description: Some(description),
        instruction: None,
        area_description: (!place.is_empty()).then(|| place.to_owned()),
    }
}
