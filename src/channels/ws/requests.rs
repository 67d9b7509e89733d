//! What a session does for each request frame: take a report, log staff in, watch the queue,
//! follow a reporter's reports, subscribe to notices.

use super::guard::POLICY_VIOLATION;
use super::listen::MAX_REPLAY;
use super::login::{Recheck, StaffLogin};
use super::outlet::Failure;
use super::session::{Session, Step, refused};
use super::subscription;
use crate::channels::frames::{
    self, FollowFrame, Refusal, ServerFrame, SubscribeFrame, ViewingFrame,
};
use crate::notices::Destination;
use crate::problem::{ErrorCode, Problem};
use crate::reports::{Origin, RawSubmission, Source};

impl Session {
    pub(super) async fn submit(&mut self, raw: RawSubmission) -> ServerFrame {
        let client_ref = raw.client_ref.clone();
        let origin = Origin {
            source: Source::Ws,
            peer_ip: self.peer.map(|addr| addr.ip()),
            device_id: None,
        };
        // The report sits inside the frame, so its fields are named from the frame's root.
        let outcome = self
            .services
            .intake
            .submit(origin, raw)
            .await
            .map_err(|problem| problem.nested_in("report"));
        if let Ok(receipt) = &outcome {
            self.listener
                .get_or_insert_with(Box::default)
                .follow_report(&self.services.followers, receipt.report_seq);
        }
        frames::answer(outcome, client_ref)
    }

    /// Staff: every report event from now on.
    pub(super) fn watch(&mut self) -> ServerFrame {
        let Some(staff) = self.login.as_ref().map(|login| &login.staff) else {
            return ServerFrame::refused(Refusal {
                problem: Problem::new(
                    ErrorCode::Unauthorized,
                    "watching the queue needs a staff login: send an auth frame first",
                ),
                client_ref: None,
            });
        };
        let listener = self.listener.get_or_insert_with(Box::default);
        match listener.watch(
            &self.services.events,
            self.services.triage.presence(),
            staff,
        ) {
            Ok(()) => ServerFrame::Watching,
            Err(problem) => ServerFrame::refused(Refusal {
                problem,
                client_ref: None,
            }),
        }
    }

    /// Staff: which report this session has open. Answered only on error: watchers (this
    /// session too, if it watches) get the new `presence` frame.
    pub(super) fn viewing(&mut self, frame: &ViewingFrame) -> Option<ServerFrame> {
        let Some(staff) = self.login.as_ref().map(|login| &login.staff) else {
            return Some(refused(Problem::new(
                ErrorCode::Unauthorized,
                "saying which report is open needs a staff login: send an auth frame first",
            )));
        };
        if self.viewer.is_none() {
            match self.services.triage.presence().join(staff) {
                Ok(viewer) => self.viewer = Some(Box::new(viewer)),
                Err(problem) => return Some(refused(problem)),
            }
        }
        let viewer = self.viewer.as_ref()?;
        viewer.open(frame.report_id.as_deref()).err().map(refused)
    }

    /// A reporter: the updates missed since its cursor, then live ones. The listener follows
    /// before the store is read, and the cursor drops what both deliver.
    pub(super) async fn follow(
        &mut self,
        frame: &FollowFrame,
    ) -> Result<(), Result<Problem, Failure>> {
        frame.check_no_identity().map_err(Ok)?;
        let followed = self
            .services
            .triage
            .open_followed(&frame.tokens)
            .await
            .map_err(Ok)?;
        let cursor = frame.cursor.unwrap_or(0);
        let listener = self.listener.get_or_insert_with(Box::default);
        listener.follow(&self.services.followers, &followed);
        let (after, missed) = self
            .services
            .triage
            .updates_since(followed, cursor, MAX_REPLAY)
            .await
            .map_err(Ok)?;
        let last = missed.last().map_or(after, |update| update.seq);
        for update in &missed {
            self.send_text(update.frame.clone().into())
                .await
                .map_err(Err)?;
        }
        if let Some(listener) = self.listener.as_mut() {
            listener.cursor = listener.cursor.max(last);
        }
        let reply = ServerFrame::Following {
            cursor: last,
            sent: missed.len(),
        };
        self.send(&reply).await.map_err(Err)
    }

    pub(super) async fn authenticate(&mut self, token: &str) -> ServerFrame {
        match self.services.accounts.authenticate(token).await {
            Ok(staff) => {
                // Someone else may be logging in on this session: their presence is theirs, and
                // what the last login watched is watched again only if the new one may.
                self.viewer = None;
                if let Some(listener) = self.listener.as_mut() {
                    listener.stop_watching();
                }
                let login = StaffLogin::new(staff.clone(), token, &self.services.accounts);
                self.login = Some(Box::new(login));
                ServerFrame::Authenticated { user: staff }
            }
            Err(problem) => ServerFrame::refused(Refusal {
                problem,
                client_ref: None,
            }),
        }
    }

    /// Looks at the staff login again; one that ended or changed closes the session, taking
    /// with it everything the login opened (the queue, presence, staff subscriptions).
    pub(super) async fn recheck_login(&mut self) -> Step {
        let Some(login) = self.login.as_ref() else {
            return Step::Continue;
        };
        match login.recheck(&self.services.accounts).await {
            Recheck::Holds => Step::Continue,
            Recheck::Ended => Step::Close(
                POLICY_VIOLATION,
                "your login ended or changed (logout, disabled account, new role or password); \
                 log in again and reconnect",
            ),
        }
    }

    /// Replaces the subscription: sends what the subscriber is owed and `subscribed`, then
    /// goes live. The session joins the fan-out before the store is read, and live events held
    /// meanwhile are sent after the backlog, so none is missed or sent twice.
    pub(super) async fn subscribe(
        &mut self,
        frame: &SubscribeFrame,
    ) -> Result<(), Result<Problem, Failure>> {
        let zones = self.services.zones.snapshot();
        let interest =
            subscription::parse(frame, self.login.as_ref().map(|login| &login.staff), &zones)
                .map_err(Ok)?;
        self.registration = None;
        let registration = self
            .services
            .sessions
            .join(interest.clone(), self.outlet.clone());
        let owed = self
            .services
            .notices
            .owed(interest, frame.cursor)
            .await
            .map_err(Ok)?;
        let sent = owed.events.len();
        for event in owed.events {
            let text = String::from_utf8(event.frame).map_err(|err| Ok(Problem::internal(&err)))?;
            self.send_text(text.into()).await.map_err(Err)?;
            if event.published {
                self.services
                    .notices
                    .deliveries()
                    .counter(&event.notice_id, None)
                    .add(Destination::WS_SESSIONS, 1);
            }
        }
        self.send(&ServerFrame::Subscribed {
            cursor: owed.position,
            sent,
        })
        .await
        .map_err(Err)?;
        registration.go_live(owed.position);
        self.registration = Some(registration);
        Ok(())
    }
}
