//! Incidents: grouping reports as they arrive, and merging, splitting and resolving them.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use geo::{Distance, Haversine, Point};
use serde::Deserialize;
use serde_json::json;

use super::apply::apply;
use super::model::{ChangeKind, HistoryEntry, Incident, IncidentStatus};
use super::service::Triage;
use super::transitions::Change;
use crate::auth::{Action, Staff};
use crate::bus::Event;
use crate::model::ReportFilter;
use crate::model::{Report, ReportStatus, bounded_text};
use crate::problem::{ErrorCode, Problem};
use crate::store::incidents as incident_rows;
use crate::store::reports::{self as report_rows, NewReport};
use crate::store::triage as triage_rows;
use crate::store::{StoreError, WriteCtx, audit};

/// Metres per degree of latitude, for the search box around a point.
const METRES_PER_DEGREE: f64 = 111_320.0;
/// An incident holds at most this many reports when it is shown or acted on.
pub(crate) const MAX_REPORTS: usize = 1000;
/// Most incidents merged or reports split in one request.
const MAX_IDS: usize = 100;

/// When reports belong together: same category, this close, this recent.
#[derive(Debug, Clone, Copy)]
pub struct Grouping {
    pub radius_m: f64,
    pub window: Duration,
}

/// Where a new report belongs.
pub(crate) enum Home {
    /// An open incident near it.
    Open(String),
    /// A new incident of its own, created once the report is stored.
    New(String),
}

impl Home {
    pub(crate) fn id(&self) -> &str {
        match self {
            Home::Open(id) | Home::New(id) => id,
        }
    }
}

/// The nearest open incident a new report fits, or a new one of its own. Changes nothing, so
/// that a report not stored after this (a retry, a reused `client_ref`) leaves no incident
/// behind.
pub(crate) fn choose(
    conn: &rusqlite::Connection,
    report: &NewReport,
    grouping: &Grouping,
) -> Result<Home, StoreError> {
    let nearest = if grouping.radius_m > 0.0 {
        nearest_open(conn, report, grouping)?
    } else {
        None
    };
    Ok(match nearest {
        Some(id) => Home::Open(id),
        None => Home::New(uuid::Uuid::now_v7().to_string()),
    })
}

/// Counts a stored report into the incident chosen for it (made for it if new), and tells
/// staff.
pub(crate) fn joined(
    ctx: &mut WriteCtx<'_>,
    report: &Report,
    home: &Home,
) -> Result<(), StoreError> {
    let (conn, at) = (ctx.conn(), report.received_at);
    let incident = match home {
        Home::New(id) => incident_rows::insert(conn, id, &report.category, report.location, at, 1)?,
        Home::Open(id) => incident_rows::add_report(conn, id, report.location, at)?,
    };
    ctx.emit(Event::Incident(Arc::new(incident)));
    Ok(())
}

/// Counts a report that was opened or closed in or out of its incident's open reports.
pub(crate) fn report_moved(
    ctx: &mut WriteCtx<'_>,
    id: &str,
    was_closed: bool,
    is_closed: bool,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let delta = match (was_closed, is_closed) {
        (false, true) => -1,
        (true, false) => 1,
        _ => return Ok(()),
    };
    if let Some(incident) = incident_rows::count_open(ctx.conn(), id, delta, at)? {
        ctx.emit(Event::Incident(Arc::new(incident)));
    }
    Ok(())
}

/// The id of the nearest open incident within the grouping radius, if any.
fn nearest_open(
    conn: &rusqlite::Connection,
    report: &NewReport,
    grouping: &Grouping,
) -> Result<Option<String>, StoreError> {
    let (lat, lon) = (report.location.lat, report.location.lon);
    let dlat = grouping.radius_m / METRES_PER_DEGREE;
    let dlon = dlat / lat.to_radians().cos().max(0.01);
    let bbox = [lon - dlon, lat - dlat, lon + dlon, lat + dlat];
    let since = report.received_at - grouping.window;
    let here = Point::new(lon, lat);
    let candidates = incident_rows::open_near(conn, &report.category, since, bbox)?;
    Ok(candidates
        .into_iter()
        .map(|(id, centre)| {
            (
                Haversine.distance(here, Point::new(centre.lon, centre.lat)),
                id,
            )
        })
        .filter(|(distance, _)| *distance <= grouping.radius_m)
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, id)| id))
}

/// Recomputes an incident's counts, centre and status from its reports, after reports moved
/// between incidents, and tells staff if anything changed.
pub(crate) fn refresh(
    ctx: &mut WriteCtx<'_>,
    id: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    if let Some(incident) = incident_rows::refresh(ctx.conn(), id, at)? {
        ctx.emit(Event::Incident(Arc::new(incident)));
    }
    Ok(())
}

/// `POST /api/v1/incidents/{id}/merge`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    pub incidents: Vec<String>,
}

/// `POST /api/v1/incidents/{id}/split`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitRequest {
    pub reports: Vec<String>,
}

/// `POST /api/v1/incidents/{id}/resolve`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    pub public_note: Option<String>,
    pub internal_note: Option<String>,
}

impl Triage {
    /// Moves every report of `request.incidents` into `id`.
    pub async fn merge(
        &self,
        staff: &Staff,
        id: &str,
        request: MergeRequest,
    ) -> Result<Incident, Problem> {
        staff.require(Action::Triage)?;
        check_ids(&request.incidents, "incidents")?;
        if request.incidents.iter().any(|other| other == id) {
            return Err(Problem::with_field(
                ErrorCode::InvalidField,
                "incidents",
                "an incident cannot be merged into itself",
            ));
        }
        let (id, actor, at) = (id.to_owned(), staff.name.clone(), self.now());
        self.store()
            .write(move |ctx| {
                let target = open_incident(ctx, &id)?;
                for other in &request.incidents {
                    let source = open_incident(ctx, other)?;
                    move_reports(ctx, &reports_of(ctx.conn(), other)?, &target, &actor, at)?;
                    incident_rows::mark_merged(ctx.conn(), &source.id, &target.id, at)?;
                    emit_current(ctx, &source.id)?;
                }
                refresh(ctx, &id, at)?;
                let detail = json!({ "merged": request.incidents });
                audit::append(
                    ctx.conn(),
                    at.timestamp_millis(),
                    &actor,
                    "incident.merge",
                    Some(&id),
                    &detail,
                )?;
                current(ctx, &id)
            })
            .await
    }

    /// Moves `request.reports` out of `id` into a new incident, which it returns.
    pub async fn split(
        &self,
        staff: &Staff,
        id: &str,
        request: SplitRequest,
    ) -> Result<Incident, Problem> {
        staff.require(Action::Triage)?;
        check_ids(&request.reports, "reports")?;
        let (id, actor, at) = (id.to_owned(), staff.name.clone(), self.now());
        self.store()
            .write(move |ctx| {
                let source = open_incident(ctx, &id)?;
                let members = reports_of(ctx.conn(), &id)?;
                let moving = pick_reports(&members, &request.reports)?;
                let first = &moving[0];
                let new_id = uuid::Uuid::now_v7().to_string();
                let created = incident_rows::insert(
                    ctx.conn(),
                    &new_id,
                    &source.category,
                    first.location,
                    at,
                    0,
                )?;
                move_reports(ctx, &moving, &created, &actor, at)?;
                refresh(ctx, &id, at)?;
                let detail = json!({ "into": new_id, "reports": request.reports });
                audit::append(
                    ctx.conn(),
                    at.timestamp_millis(),
                    &actor,
                    "incident.split",
                    Some(&id),
                    &detail,
                )?;
                current(ctx, &new_id)
            })
            .await
    }

    /// Resolves every open report of the incident; each reporter hears of it.
    pub async fn resolve_incident(
        &self,
        staff: &Staff,
        id: &str,
        request: ResolveRequest,
    ) -> Result<Incident, Problem> {
        staff.require(Action::Triage)?;
        let limit = self.settings().max_note_chars;
        let public_note = bounded_text(request.public_note, "public_note", limit)?;
        let internal_note = bounded_text(request.internal_note, "internal_note", limit)?;
        let (id, actor, at) = (id.to_owned(), staff.name.clone(), self.now());
        self.store()
            .write(move |ctx| {
                open_incident(ctx, &id)?;
                for report in reports_of(ctx.conn(), &id)? {
                    if report.status.is_closed() {
                        continue;
                    }
                    let mut change = Change::new(ChangeKind::Incident)
                        .to(ReportStatus::Resolved)
                        .with_detail(json!({ "incident": id }));
                    change.public_note = public_note.clone();
                    change.internal_note = internal_note.clone();
                    apply(ctx, &report, change, &actor, at)?;
                }
                refresh(ctx, &id, at)?;
                audit::append(
                    ctx.conn(),
                    at.timestamp_millis(),
                    &actor,
                    "incident.resolve",
                    Some(&id),
                    &serde_json::Value::Null,
                )?;
                current(ctx, &id)
            })
            .await
    }
}

pub(super) fn not_found(id: &str) -> Problem {
    Problem::new(ErrorCode::NotFound, format!("there is no incident {id}"))
}

fn check_ids(ids: &[String], field: &str) -> Result<(), Problem> {
    if ids.is_empty() || ids.len() > MAX_IDS {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            field,
            format!("`{field}` must list 1 to {MAX_IDS} ids"),
        ));
    }
    Ok(())
}

/// An incident that can still be changed: it exists and was not merged away.
fn open_incident(ctx: &WriteCtx<'_>, id: &str) -> Result<Incident, Problem> {
    let incident = incident_rows::get(ctx.conn(), id)?.ok_or_else(|| not_found(id))?;
    if incident.status == IncidentStatus::Merged {
        return Err(Problem::new(
            ErrorCode::InvalidState,
            format!(
                "incident {id} was merged into {}; work on that one",
                incident.merged_into.as_deref().unwrap_or("another")
            ),
        ));
    }
    Ok(incident)
}

fn current(ctx: &WriteCtx<'_>, id: &str) -> Result<Incident, Problem> {
    incident_rows::get(ctx.conn(), id)?.ok_or_else(|| not_found(id))
}

fn emit_current(ctx: &mut WriteCtx<'_>, id: &str) -> Result<(), Problem> {
    let incident = current(ctx, id)?;
    ctx.emit(Event::Incident(Arc::new(incident)));
    Ok(())
}

pub(crate) fn reports_of(conn: &rusqlite::Connection, id: &str) -> Result<Vec<Report>, StoreError> {
    let filter = ReportFilter {
        incident: Some(id.to_owned()),
        limit: MAX_REPORTS,
        ..ReportFilter::default()
    };
    report_rows::list(conn, &filter)
}

/// The reports named in `ids`, each of which must be a member; not all of them.
fn pick_reports(members: &[Report], ids: &[String]) -> Result<Vec<Report>, Problem> {
    let mut picked = Vec::new();
    for id in ids {
        let report = members
            .iter()
            .find(|report| &report.id == id)
            .ok_or_else(|| {
                Problem::with_field(
                    ErrorCode::InvalidState,
                    "reports",
                    format!("report {id} is not in this incident"),
                )
            })?;
        picked.push(report.clone());
    }
    if picked.len() >= members.len() {
        return Err(Problem::with_field(
            ErrorCode::InvalidState,
            "reports",
            "leave at least one report in the incident; to move them all, merge instead",
        ));
    }
    Ok(picked)
}

/// Moves reports into `target`, with a history line each; the report versions move on.
fn move_reports(
    ctx: &mut WriteCtx<'_>,
    reports: &[Report],
    target: &Incident,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<(), Problem> {
    for report in reports {
        incident_rows::attach(ctx.conn(), report.seq, &target.id)?;
        triage_rows::touch(ctx.conn(), report.seq, at)?;
        let entry = HistoryEntry {
            seq: 0,
            at,
            actor: actor.to_owned(),
            kind: ChangeKind::Incident.as_str().to_owned(),
            status: None,
            public_note: None,
            internal_note: None,
            detail: json!({ "from": report.triage.incident_id, "to": target.id }),
        };
        let entry = triage_rows::append_history(ctx.conn(), report.seq, entry)?;
        let moved = report_rows::get(ctx.conn(), &report.id)?
            .ok_or_else(|| StoreError::Corrupt("a moved report vanished".into()))?;
        ctx.emit(Event::ReportChanged(Arc::new(super::ReportChange {
            report: moved,
            entry,
            update: None,
        })));
    }
    refresh(ctx, &target.id, at)?;
    Ok(())
}
