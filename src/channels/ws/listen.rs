//! Report events a session listens to: a reporter's own updates (`follow`), and for staff the
//! live queue (`watch`): new reports, changes, overdue alerts, incidents, tasks and devices.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::auth::{Action, Staff};
use crate::bus::{Bus, Event};
use crate::channels::frames::FollowFrame;
use crate::clock::SharedClock;
use crate::problem::{ErrorCode, Problem};
use crate::reports::{ClientRef, DeviceId, Report, ReportView, Source};
use crate::store::triage::Followed;
use crate::triage::{Overdue, ReportChange};

/// Client references one session may follow.
const MAX_CLIENT_REFS: usize = 100;
/// Updates replayed on `follow`; a client further behind reads the rest over HTTP.
pub const MAX_REPLAY: usize = 1000;

/// What the next bus event means for the session.
pub enum Heard {
    Frame(String),
    Nothing,
    /// The session fell behind the bus and missed events.
    Lagged,
}

pub struct Listener {
    events: broadcast::Receiver<Event>,
    pub followed: Followed,
    /// The last update sent: replayed and live updates are never sent twice.
    pub cursor: i64,
    /// For staff watching the queue: whether they may see reporters' contact details.
    watching: Option<bool>,
}

impl Listener {
    pub fn new(bus: &Bus) -> Listener {
        Listener {
            events: bus.subscribe(),
            followed: Followed::default(),
            cursor: 0,
            watching: None,
        }
    }

    pub fn watch(&mut self, staff: &Staff) -> Result<(), Problem> {
        staff.require(Action::Read)?;
        self.watching = Some(staff.role.may(Action::Triage));
        Ok(())
    }

    /// Also follows a report this session just sent.
    pub fn follow_report(&mut self, device_id: Option<&DeviceId>, client_ref: &ClientRef) {
        match device_id {
            Some(device) if self.followed.device_id.is_none() => {
                self.followed.device_id = Some(device.clone());
            }
            Some(_) => {}
            None if self.followed.client_refs.len() < MAX_CLIENT_REFS => {
                self.followed
                    .client_refs
                    .push(client_ref.as_str().to_owned());
            }
            None => {}
        }
    }

    pub async fn next(&mut self, clock: &SharedClock) -> Heard {
        match self.events.recv().await {
            Ok(event) => self
                .render(&event, clock.now())
                .map_or(Heard::Nothing, Heard::Frame),
            Err(RecvError::Lagged(_)) => Heard::Lagged,
            Err(RecvError::Closed) => std::future::pending().await,
        }
    }

    fn render(&mut self, event: &Event, now: DateTime<Utc>) -> Option<String> {
        if let Event::ReportChanged(change) = event {
            if let Some(update) = self.owed_update(change) {
                return Some(update);
            }
        }
        let sees_reporters = self.watching?;
        let view = |report: &Report| json!(ReportView::of(report, sees_reporters, now));
        let frame: Value = match event {
            Event::ReportReceived(report) => {
                json!({ "type": "report", "event": "received", "report": view(report) })
            }
            Event::ReportChanged(change) => json!({
                "type": "report", "event": "changed", "report": view(&change.report), "change": change.entry,
            }),
            Event::Overdue(overdue) => overdue_frame(overdue, view(&overdue.report)),
            Event::Incident(incident) => json!({ "type": "incident", "incident": **incident }),
            Event::Task(task) => json!({ "type": "task", "task": **task }),
            Event::Device(device) => json!({ "type": "device", "device": **device }),
            Event::Notice(_) => return None,
        };
        Some(frame.to_string())
    }

    /// The reporter's update frame, if this session follows the report and has not had it.
    fn owed_update(&mut self, change: &Arc<ReportChange>) -> Option<String> {
        let update = change.update.as_ref()?;
        if update.seq <= self.cursor || !self.follows(&change.report) {
            return None;
        }
        self.cursor = update.seq;
        Some(update.frame.clone())
    }

    fn follows(&self, report: &Report) -> bool {
        let by_device = report.device_id.is_some() && report.device_id == self.followed.device_id;
        let by_ref = report.source == Source::Ws
            && report.device_id.is_none()
            && self
                .followed
                .client_refs
                .iter()
                .any(|client_ref| client_ref == report.client_ref.as_str());
        by_device || by_ref
    }
}

fn overdue_frame(overdue: &Overdue, report: Value) -> Value {
    json!({
        "type": "report",
        "event": "overdue",
        "step": overdue.step,
        "due_at": overdue.due_at,
        "report": report,
    })
}

/// Checks a `follow` frame.
pub fn parse_follow(frame: &FollowFrame) -> Result<(Followed, i64), Problem> {
    let device_id = frame
        .device_id
        .as_deref()
        .map(|id| DeviceId::parse(id, "device_id"))
        .transpose()?;
    let refs = frame.client_refs.clone().unwrap_or_default();
    if refs.len() > MAX_CLIENT_REFS {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            "client_refs",
            format!("follow at most {MAX_CLIENT_REFS} client_refs per session"),
        ));
    }
    let client_refs = refs
        .iter()
        .enumerate()
        .map(|(n, r)| {
            ClientRef::parse(r, &format!("client_refs[{n}]")).map(|r| r.as_str().to_owned())
        })
        .collect::<Result<Vec<_>, _>>()?;
    if device_id.is_none() && client_refs.is_empty() {
        return Err(Problem::with_field(
            ErrorCode::MissingField,
            "device_id",
            "follow a `device_id`, or the `client_refs` of reports sent without one",
        ));
    }
    let cursor = frame.cursor.unwrap_or(0).max(0);
    Ok((
        Followed {
            device_id,
            client_refs,
        },
        cursor,
    ))
}
