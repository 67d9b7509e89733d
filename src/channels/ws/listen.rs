//! Report events a session listens to: a reporter's own updates (`follow`), and for staff the
//! live queue (`watch`): new reports, changes, overdue alerts, incidents, tasks and devices.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::broadcast::{self, error::RecvError};

use super::followers::{Followers, Following};
use crate::auth::{Action, Staff};
use crate::bus::{Bus, Event};
use crate::channels::frames::FollowFrame;
use crate::clock::SharedClock;
use crate::problem::{ErrorCode, Problem};
use crate::reports::{ClientRef, DeviceId, Report, ReportView};
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

/// What woke a listener.
enum Woke {
    Update(Option<Arc<ReportChange>>),
    Event(Result<Event, RecvError>),
}

/// A session's report events: its reporter updates (routed to it alone by [`Followers`]), and
/// for staff the whole queue from the bus.
#[derive(Default)]
pub struct Listener {
    following: Option<Following>,
    /// Staff watching: every report event, and whether they may see reporters' contact details.
    queue: Option<(broadcast::Receiver<Event>, bool)>,
    pub followed: Followed,
    /// The last update sent: replayed and live updates are never sent twice.
    pub cursor: i64,
}

impl Listener {
    pub fn watch(&mut self, bus: &Bus, staff: &Staff) -> Result<(), Problem> {
        staff.require(Action::Read)?;
        let sees_reporters = staff.role.may(Action::Triage);
        match self.queue.as_mut() {
            Some((_, sees)) => *sees = sees_reporters,
            None => self.queue = Some((bus.subscribe(), sees_reporters)),
        }
        Ok(())
    }

    /// Follows what a `follow` frame names, from now on; the caller replays what came before.
    pub fn follow(&mut self, followers: &Followers, followed: Followed) {
        let following = self.following.get_or_insert_with(|| followers.join());
        if let Some(device) = &followed.device_id {
            following.device(device.as_str());
        }
        for client_ref in &followed.client_refs {
            following.ws_report(client_ref);
        }
        self.followed = followed;
    }

    /// Also follows a report this session just sent.
    pub fn follow_report(
        &mut self,
        followers: &Followers,
        device_id: Option<&DeviceId>,
        client_ref: &ClientRef,
    ) {
        let following = self.following.get_or_insert_with(|| followers.join());
        match device_id {
            Some(device) if self.followed.device_id.is_none() => {
                self.followed.device_id = Some(device.clone());
                following.device(device.as_str());
            }
            Some(_) => {}
            None if self.followed.client_refs.len() < MAX_CLIENT_REFS => {
                following.ws_report(client_ref.as_str());
                self.followed
                    .client_refs
                    .push(client_ref.as_str().to_owned());
            }
            None => {}
        }
    }

    pub async fn next(&mut self, clock: &SharedClock) -> Heard {
        let woke = tokio::select! {
            update = next_update(self.following.as_mut()) => Woke::Update(update),
            event = next_event(self.queue.as_mut()) => Woke::Event(event),
        };
        match woke {
            Woke::Update(Some(change)) => self
                .owed_update(&change)
                .map_or(Heard::Nothing, Heard::Frame),
            Woke::Update(None) | Woke::Event(Err(RecvError::Lagged(_))) => Heard::Lagged,
            Woke::Event(Ok(event)) => self
                .render(&event, clock.now())
                .map_or(Heard::Nothing, Heard::Frame),
            Woke::Event(Err(RecvError::Closed)) => std::future::pending().await,
        }
    }

    fn render(&mut self, event: &Event, now: DateTime<Utc>) -> Option<String> {
        let sees_reporters = self.queue.as_ref()?.1;
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

    /// The reporter's update frame, unless this session already had it.
    fn owed_update(&mut self, change: &Arc<ReportChange>) -> Option<String> {
        let update = change.update.as_ref()?;
        if update.seq <= self.cursor {
            return None;
        }
        self.cursor = update.seq;
        Some(update.frame.clone())
    }
}

async fn next_update(following: Option<&mut Following>) -> Option<Arc<ReportChange>> {
    match following {
        Some(following) => following.next().await,
        None => std::future::pending().await,
    }
}

async fn next_event(
    queue: Option<&mut (broadcast::Receiver<Event>, bool)>,
) -> Result<Event, RecvError> {
    match queue {
        Some((events, _)) => events.recv().await,
        None => std::future::pending().await,
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
