//! Incidents: merging, splitting and resolving them, and keeping their counts as reports move.

use std::sync::Arc;

use chrono::{DateTime, Utc};
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
use crate::store::reports as report_rows;
use crate::store::triage as triage_rows;
use crate::store::{StoreError, WriteCtx, audit};

/// An incident holds at most this many reports when it is shown or acted on.
pub(crate) const MAX_REPORTS: usize = 1000;
/// Most incidents merged or reports split in one request.
const MAX_IDS: usize = 100;

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
        let categories = self.settings().categories.clone();
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
                    apply(ctx, &report, change, &actor, at, &categories)?;
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
