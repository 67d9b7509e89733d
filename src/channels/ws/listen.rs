//! Report events a session listens to: a reporter's own updates (`follow`), and for staff the
//! live queue (`watch`): new reports, changes, overdue alerts, incidents, tasks, devices, and
//! who has which report open.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::watch;

use super::followers::{Followers, Following};
use crate::auth::Staff;
use crate::bus::{Event, Events};
use crate::clock::SharedClock;
use crate::problem::Problem;
use crate::reports::{Report, ReportView};
use crate::triage::{Followed, Overdue, Presence, ReportChange, Viewing, watch_queue};

/// Reports a session follows at most, counting those it sent itself; beyond that the reports
/// it sends are not followed, and it follows them again by token.
const MAX_FOLLOWED_PER_SESSION: usize = 1000;
/// Updates replayed on `follow`; a client further behind reads the rest over HTTP.
pub(super) const MAX_REPLAY: usize = 1000;

/// What the next bus event means for the session.
pub(super) enum Heard {
    Frame(String),
    Nothing,
    /// The session fell behind the bus and missed events.
    Lagged,
}

/// What woke a listener.
enum Woke {
    Update(Option<Arc<ReportChange>>),
    Event(Result<Event, RecvError>),
    Presence(Arc<Viewing>),
}

/// A session's report events: its reporter updates (routed to it alone by [`Followers`]), and
/// for staff the whole queue from the bus.
#[derive(Default)]
pub(super) struct Listener {
    following: Option<Following>,
    /// Staff watching: every report event, and whether they may see reporters' contact details.
    queue: Option<(broadcast::Receiver<Event>, bool)>,
    /// Staff watching: who has which report open, as it changes.
    presence: Option<watch::Receiver<Arc<Viewing>>>,
    /// How many reports the session follows.
    followed: usize,
    /// The last update sent: replayed and live updates are never sent twice.
    pub cursor: i64,
}

impl Listener {
    pub(super) fn watch(
        &mut self,
        bus: &Events,
        presence: &Presence,
        staff: &Staff,
    ) -> Result<(), Problem> {
        let sees_reporters = watch_queue(staff)?;
        if self.presence.is_none() {
            let mut viewing = presence.subscribe();
            // The register as it is now is the first thing a watcher hears.
            viewing.mark_changed();
            self.presence = Some(viewing);
        }
        match self.queue.as_mut() {
            Some((_, sees)) => *sees = sees_reporters,
            None => self.queue = Some((bus.subscribe(), sees_reporters)),
        }
        Ok(())
    }

    /// Stops what `watch` started: a new login watches again only if its role may.
    pub(super) fn stop_watching(&mut self) {
        self.queue = None;
        self.presence = None;
    }

    /// Follows the reports a `follow` frame opened, from now on; the caller replays what
    /// came before.
    pub(super) fn follow(&mut self, followers: &Followers, followed: &Followed) {
        for seq in &followed.report_seqs {
            self.follow_report(followers, *seq);
        }
    }

    /// Also follows one report (one this session just sent, say).
    pub(super) fn follow_report(&mut self, followers: &Followers, report_seq: i64) {
        if self.followed >= MAX_FOLLOWED_PER_SESSION {
            return;
        }
        self.followed += 1;
        self.following
            .get_or_insert_with(|| followers.join())
            .report(report_seq);
    }

    pub(super) async fn next(&mut self, clock: &SharedClock) -> Heard {
        let woke = tokio::select! {
            update = next_update(self.following.as_mut()) => Woke::Update(update),
            event = next_event(self.queue.as_mut()) => Woke::Event(event),
            viewing = next_presence(self.presence.as_mut()) => Woke::Presence(viewing),
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
            Woke::Presence(viewing) => {
                Heard::Frame(json!({ "type": "presence", "viewing": *viewing }).to_string())
            }
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

/// The register after its next change; never, for a session that does not watch.
async fn next_presence(presence: Option<&mut watch::Receiver<Arc<Viewing>>>) -> Arc<Viewing> {
    match presence {
        Some(viewing) => match viewing.changed().await {
            Ok(()) => viewing.borrow_and_update().clone(),
            Err(_) => std::future::pending().await,
        },
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
