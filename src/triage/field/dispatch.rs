//! Dispatch: a report or an incident becomes a task for a team's devices, and each device
//! answer (`accepted`, `on_site`, `done`) moves the task and its reports on.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::model::{Task, TaskStatus, Team};
use super::teams::unknown_team;
use crate::auth::{Action, Staff};
use crate::bus::Event;
use crate::model::{DeviceId, Location, Report, ReportStatus, ZoneRef, bounded_text};
use crate::problem::{ErrorCode, Problem};
use crate::store::{WriteCtx, audit, field as field_rows, incidents as incident_rows};
use crate::triage::apply::apply;
use crate::triage::incidents::reports_of;
use crate::triage::service::load;
use crate::triage::{Change, ChangeKind, Triage};

/// `POST /api/v1/reports/{id}/dispatch` and `/api/v1/incidents/{id}/dispatch`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchRequest {
    pub team: Option<String>,
    /// For the team: what to do, where to go.
    pub note: Option<String>,
}

/// What a device publishes on `<prefix>/devices/<id>/answers` (`schemas/mqtt-task-answer.schema.json`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAnswer {
    pub task_id: String,
    pub status: String,
    pub note: Option<String>,
}

/// The task frame each device holds (`schemas/mqtt-task.schema.json`).
#[derive(Serialize)]
struct TaskFrame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    task_id: &'a str,
    team_id: &'a str,
    status: TaskStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    incident_id: Option<&'a str>,
    reports: Vec<TaskReport<'a>>,
    dispatched_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// What a field team needs of a report: where, what, and the reporter's words; never contacts.
#[derive(Serialize)]
struct TaskReport<'a> {
    id: &'a str,
    category: &'a str,
    location: Location,
    text: &'a str,
    zones: &'a [ZoneRef],
}

/// What is being dispatched.
enum Target {
    Report(String),
    Incident(String),
}

impl Triage {
    pub async fn dispatch_report(
        &self,
        staff: &Staff,
        id: &str,
        request: DispatchRequest,
    ) -> Result<Task, Problem> {
        self.dispatch(staff, Target::Report(id.to_owned()), request)
            .await
    }

    pub async fn dispatch_incident(
        &self,
        staff: &Staff,
        id: &str,
        request: DispatchRequest,
    ) -> Result<Task, Problem> {
        self.dispatch(staff, Target::Incident(id.to_owned()), request)
            .await
    }

    async fn dispatch(
        &self,
        staff: &Staff,
        target: Target,
        request: DispatchRequest,
    ) -> Result<Task, Problem> {
        staff.require(Action::Triage)?;
        let team_id = request.team.ok_or_else(|| {
            Problem::with_field(
                ErrorCode::MissingField,
                "team",
                "`team` is required: the id of the team to send",
            )
        })?;
        let note = bounded_text(request.note, "note", self.settings().max_note_chars)?;
        let (actor, at) = (staff.name.clone(), self.now());
        let categories = self.settings().categories.clone();
        self.store()
            .write(move |ctx| {
                let team = field_rows::team(ctx.conn(), &team_id)?.ok_or_else(|| unknown_team(&team_id))?;
                if team.devices.is_empty() {
                    return Err(Problem::with_field(
                        ErrorCode::InvalidState,
                        "team",
                        format!("team {team_id} has no devices; add its devices first"),
                    ));
                }
                let (reports, incident_id) = target_reports(ctx, &target)?;
                let mut task = new_task(&team, &reports, incident_id, note, &actor, at);
                task.seq = field_rows::insert_task(ctx.conn(), &task)?;
                for report in &reports {
                    let mut change = Change::new(ChangeKind::Dispatch)
                        .with_detail(json!({ "task": task.id, "team": team.id }));
                    if report.status == ReportStatus::Received {
                        change = change.to(ReportStatus::Acknowledged);
                    }
                    apply(ctx, report, change, &actor, at, &categories)?;
                }
                let detail = json!({ "team": team.id, "report": task.report_id, "incident": task.incident_id });
                audit::append(ctx.conn(), at.timestamp_millis(), &actor, "dispatch", Some(&task.id), &detail)?;
                ctx.emit(Event::Task(Arc::new(task.clone())));
                Ok(task)
            })
            .await
    }

    /// Applies a device's answer. A repeated answer (an MQTT redelivery) changes nothing.
    pub async fn answer_task(&self, device: DeviceId, raw: RawAnswer) -> Result<Task, Problem> {
        let status = TaskStatus::parse_answer(&raw.status)?;
        let note = bounded_text(raw.note, "note", self.settings().max_note_chars)?;
        let at = self.now();
        let categories = self.settings().categories.clone();
        self.store()
            .write(move |ctx| {
                let mut task = field_rows::task(ctx.conn(), &raw.task_id)?.ok_or_else(|| {
                    Problem::with_field(
                        ErrorCode::NotFound,
                        "task_id",
                        format!("there is no task {}", raw.task_id),
                    )
                })?;
                check_answer(&task, &device, status)?;
                if task.status == status {
                    return Ok(task);
                }
                task.status = status;
                task.updated_at = at;
                task.frame = restamp(&task.frame, status, at)?;
                field_rows::save_answer(ctx.conn(), &task, &device, note.as_deref())?;
                let actor = format!("device:{}", device.as_str());
                for report in task_reports(ctx, &task)? {
                    apply(
                        ctx,
                        &report,
                        answer_change(&task, &report, note.clone()),
                        &actor,
                        at,
                        &categories,
                    )?;
                }
                let detail = json!({ "status": status.as_str() });
                audit::append(
                    ctx.conn(),
                    at.timestamp_millis(),
                    &actor,
                    "task.answer",
                    Some(&task.id),
                    &detail,
                )?;
                ctx.emit(Event::Task(Arc::new(task.clone())));
                Ok(task)
            })
            .await
    }

    pub async fn tasks(
        &self,
        staff: &Staff,
        open: bool,
        limit: usize,
    ) -> Result<Vec<Task>, Problem> {
        staff.require(Action::Read)?;
        Ok(self
            .store()
            .read(move |conn| field_rows::tasks(conn, open, limit))
            .await?)
    }

    pub async fn task(&self, staff: &Staff, id: &str) -> Result<Task, Problem> {
        staff.require(Action::Read)?;
        let id = id.to_owned();
        self.store()
            .read(move |conn| {
                field_rows::task(conn, &id)?.ok_or_else(|| {
                    Problem::new(ErrorCode::NotFound, format!("there is no task {id}"))
                })
            })
            .await
    }
}

/// The open reports a dispatch is about, and the incident if it is one.
fn target_reports(
    ctx: &WriteCtx<'_>,
    target: &Target,
) -> Result<(Vec<Report>, Option<String>), Problem> {
    match target {
        Target::Report(id) => {
            let report = load(ctx.conn(), id)?;
            if report.status.is_closed() {
                return Err(Problem::new(
                    ErrorCode::InvalidState,
                    format!(
                        "report {id} is {}; reopen it before sending a team",
                        report.status.as_str()
                    ),
                ));
            }
            Ok((vec![report], None))
        }
        Target::Incident(id) => {
            incident_rows::get(ctx.conn(), id)?.ok_or_else(|| {
                Problem::new(ErrorCode::NotFound, format!("there is no incident {id}"))
            })?;
            let open: Vec<Report> = reports_of(ctx.conn(), id)?
                .into_iter()
                .filter(|report| !report.status.is_closed())
                .collect();
            if open.is_empty() {
                return Err(Problem::new(
                    ErrorCode::InvalidState,
                    format!("incident {id} has no open reports to send a team to"),
                ));
            }
            Ok((open, Some(id.clone())))
        }
    }
}

fn new_task(
    team: &Team,
    reports: &[Report],
    incident_id: Option<String>,
    note: Option<String>,
    actor: &str,
    at: DateTime<Utc>,
) -> Task {
    let id = uuid::Uuid::now_v7().to_string();
    let frame = TaskFrame {
        kind: "task",
        task_id: &id,
        team_id: &team.id,
        status: TaskStatus::Dispatched,
        note: note.as_deref(),
        incident_id: incident_id.as_deref(),
        reports: reports
            .iter()
            .map(|report| TaskReport {
                id: &report.id,
                category: &report.category,
                location: report.location,
                text: &report.text,
                zones: &report.zones,
            })
            .collect(),
        dispatched_at: at,
        updated_at: at,
    };
    let frame = serde_json::to_string(&frame).expect("task frames always serialize");
    Task {
        seq: 0,
        report_id: incident_id.is_none().then(|| reports[0].id.clone()),
        id,
        team_id: team.id.clone(),
        incident_id,
        note,
        status: TaskStatus::Dispatched,
        devices: team.devices.clone(),
        dispatched_by: actor.to_owned(),
        created_at: at,
        updated_at: at,
        frame,
    }
}

fn check_answer(task: &Task, device: &DeviceId, status: TaskStatus) -> Result<(), Problem> {
    if !task.devices.contains(device) {
        return Err(Problem::with_field(
            ErrorCode::Forbidden,
            "task_id",
            format!(
                "task {} was not sent to device {}",
                task.id,
                device.as_str()
            ),
        ));
    }
    if status < task.status {
        return Err(Problem::with_field(
            ErrorCode::InvalidTransition,
            "status",
            format!(
                "task {} is already {}; it cannot go back to {}",
                task.id,
                task.status.as_str(),
                status.as_str()
            ),
        ));
    }
    Ok(())
}

/// The frame with its new status, keeping the dispatch-time snapshot of the reports.
fn restamp(frame: &str, status: TaskStatus, at: DateTime<Utc>) -> Result<String, Problem> {
    let mut value: Value = serde_json::from_str(frame).map_err(|err| Problem::internal(&err))?;
    value["status"] = json!(status);
    value["updated_at"] = json!(at);
    Ok(value.to_string())
}

/// The reports a task still moves: its report, or the open reports of its incident.
fn task_reports(ctx: &WriteCtx<'_>, task: &Task) -> Result<Vec<Report>, Problem> {
    match (&task.report_id, &task.incident_id) {
        (Some(id), _) => Ok(vec![load(ctx.conn(), id)?]),
        (None, Some(incident)) => Ok(reports_of(ctx.conn(), incident)?),
        (None, None) => Ok(Vec::new()),
    }
}

/// `accepted` puts work in progress, `done` resolves; the team's note stays with operators.
fn answer_change(task: &Task, report: &Report, note: Option<String>) -> Change {
    let mut change = Change::new(ChangeKind::Task)
        .with_detail(json!({ "task": task.id, "status": task.status.as_str() }));
    change.internal_note = note;
    let target = match task.status {
        TaskStatus::Accepted | TaskStatus::OnSite => ReportStatus::InProgress,
        TaskStatus::Done => ReportStatus::Resolved,
        TaskStatus::Dispatched => return change,
    };
    let moves =
        !report.status.is_closed() && crate::triage::allowed_after(report.status).contains(&target);
    if moves { change.to(target) } else { change }
}
