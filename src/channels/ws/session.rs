//! One WebSocket session: a task that reads frames and answers them. Notices reach it through
//! its [`Outlet`], written by the fan-out; the task only steps in when the socket pushes back.
//!
//! Slow consumers: a session whose outlet queue fills is closed with code 1008 and told to
//! resume with its cursor; one whose socket takes nothing for `ws.write_timeout_secs` is
//! dropped. Neither delays any other session.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::fanout::Registration;
use super::listen::{Heard, Listener, MAX_REPLAY};
use super::outlet::{Conn, Failure, Outlet};
use super::subscription::{Subscription, backlog};
use crate::auth::Staff;
use crate::channels::frames::{
    self, ClientFrame, FollowFrame, Refusal, ServerFrame, SubscribeFrame,
};
use crate::hub::Hub;
use crate::problem::{ErrorCode, Problem};
use crate::reports::{Origin, RawSubmission, Source};

/// WebSocket close codes (RFC 6455 section 7.4.1).
const GOING_AWAY: u16 = 1001;
const POLICY_VIOLATION: u16 = 1008;

struct Session {
    socket: WebSocketStream<Conn>,
    outlet: Arc<Outlet>,
    hub: Hub,
    peer: Option<SocketAddr>,
    staff: Option<Staff>,
    /// Membership of the notice fan-out while subscribed.
    registration: Option<Registration>,
    /// Report events, once the session follows its reports or (staff) watches the queue.
    listener: Option<Listener>,
    write_timeout: Duration,
}

/// What the session does next.
enum Step {
    Continue,
    Close(u16, &'static str),
    End,
}

enum Wake {
    Outlet,
    Heard(Heard),
    Incoming(Option<Result<Message, tokio_tungstenite::tungstenite::Error>>),
    Shutdown,
}

pub(super) async fn run(
    stream: TcpStream,
    already_read: Bytes,
    config: WebSocketConfig,
    hub: Hub,
    peer: Option<SocketAddr>,
) {
    let outlet = Outlet::new(stream);
    // `already_read` is a slice of hyper's whole read buffer: copy the few bytes, free the rest.
    let early_bytes = already_read.to_vec();
    drop(already_read);
    let socket = WebSocketStream::from_partially_read(
        Conn(outlet.clone()),
        early_bytes,
        Role::Server,
        Some(config),
    )
    .await;
    let write_timeout = Duration::from_secs(hub.config.ws.write_timeout_secs);
    let mut session = Session {
        socket,
        outlet,
        hub,
        peer,
        staff: None,
        registration: None,
        listener: None,
        write_timeout,
    };
    let welcome = session.welcome();
    if session.send(&welcome).await.is_err() {
        return;
    }
    let shutdown = session.hub.shutdown.clone();
    let mut shutting_down = std::pin::pin!(shutdown.cancelled());
    loop {
        let wake = tokio::select! {
            biased;
            _ = session.outlet.work() => Wake::Outlet,
            heard = listen(session.listener.as_mut(), &session.hub.clock) => Wake::Heard(heard),
            incoming = session.socket.next() => Wake::Incoming(incoming),
            _ = &mut shutting_down => Wake::Shutdown,
        };
        let step = match wake {
            Wake::Outlet => session.finish_writes().await,
            Wake::Heard(heard) => session.on_heard(heard).await,
            // Boxed: report handling holds a large future, which idle sessions should not carry.
            Wake::Incoming(Some(Ok(message))) => Box::pin(session.on_message(message)).await,
            Wake::Incoming(_) => Step::End,
            Wake::Shutdown => Step::Close(GOING_AWAY, "the hub is shutting down"),
        };
        match step {
            Step::Continue => {}
            Step::Close(code, reason) => return session.close(code, reason).await,
            Step::End => return,
        }
    }
}

async fn listen(listener: Option<&mut Listener>, clock: &crate::clock::SharedClock) -> Heard {
    match listener {
        Some(listener) => listener.next(clock).await,
        None => std::future::pending().await,
    }
}

/// What a failed write means for the session.
fn step_after(failure: Failure) -> Step {
    match failure {
        Failure::TooSlow => Step::Close(
            POLICY_VIOLATION,
            "too slow: missed notices; reconnect and subscribe with your last cursor",
        ),
        Failure::Stalled => {
            tracing::info!("dropped a WebSocket session that stopped reading");
            Step::End
        }
        Failure::Broken => Step::End,
    }
}

impl Session {
    fn welcome(&self) -> ServerFrame {
        ServerFrame::Welcome {
            office: self.hub.config.office.clone(),
            version: env!("CARGO_PKG_VERSION"),
            max_message_bytes: self.hub.config.intake.max_body_bytes,
        }
    }

    /// Writes what the fan-out queued because the socket was busy.
    async fn finish_writes(&mut self) -> Step {
        match self.outlet.drain(self.write_timeout).await {
            Ok(()) => Step::Continue,
            Err(failure) => step_after(failure),
        }
    }

    async fn on_message(&mut self, message: Message) -> Step {
        let bytes = match &message {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(bytes) => bytes,
            Message::Close(_) => return Step::End,
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => return Step::Continue,
        };
        let limit = self.hub.config.intake.max_body_bytes;
        let reply = if bytes.len() > limit {
            Some(ServerFrame::Error {
                problem: frames::too_large(bytes.len(), limit),
                client_ref: None,
            })
        } else {
            match frames::parse_client_frame(bytes) {
                Ok(ClientFrame::Report(raw)) => Some(self.submit(raw).await),
                Ok(ClientFrame::Auth(auth)) => Some(self.authenticate(&auth.token).await),
                Ok(ClientFrame::Watch(_)) => Some(self.watch()),
                Ok(ClientFrame::Follow(follow)) => match self.follow(&follow).await {
                    Ok(()) => None,
                    Err(Ok(problem)) => Some(ServerFrame::refused(Refusal {
                        problem,
                        client_ref: None,
                    })),
                    Err(Err(failure)) => return step_after(failure),
                },
                Ok(ClientFrame::Subscribe(subscribe)) => match self.subscribe(&subscribe).await {
                    Ok(()) => None,
                    Err(Ok(problem)) => Some(ServerFrame::refused(Refusal {
                        problem,
                        client_ref: None,
                    })),
                    Err(Err(failure)) => return step_after(failure),
                },
                Err(refusal) => Some(ServerFrame::refused(refusal)),
            }
        };
        match reply {
            Some(reply) => match self.send(&reply).await {
                Ok(()) => Step::Continue,
                Err(failure) => step_after(failure),
            },
            None => Step::Continue,
        }
    }

    async fn submit(&mut self, raw: RawSubmission) -> ServerFrame {
        let client_ref = raw.client_ref.clone();
        let origin = Origin {
            source: Source::Ws,
            peer_ip: self.peer.map(|addr| addr.ip()),
            device_id: None,
        };
        // The report sits inside the frame, so its fields are named from the frame's root.
        let outcome = self
            .hub
            .intake
            .submit(origin, raw)
            .await
            .map_err(|problem| problem.nested_in("report"));
        if let Ok(receipt) = &outcome {
            self.listener
                .get_or_insert_with(Listener::default)
                .follow_report(&self.hub.followers, receipt.report_seq);
        }
        frames::answer(outcome, client_ref)
    }

    /// Staff: every report event from now on.
    fn watch(&mut self) -> ServerFrame {
        let Some(staff) = self.staff.as_ref() else {
            return ServerFrame::refused(Refusal {
                problem: Problem::new(
                    ErrorCode::Unauthorized,
                    "watching the queue needs a staff login: send an auth frame first",
                ),
                client_ref: None,
            });
        };
        let listener = self.listener.get_or_insert_with(Listener::default);
        match listener.watch(&self.hub.bus, staff) {
            Ok(()) => ServerFrame::Watching,
            Err(problem) => ServerFrame::refused(Refusal {
                problem,
                client_ref: None,
            }),
        }
    }

    /// A reporter: the updates missed since its cursor, then live ones. The listener follows
    /// before the store is read, and the cursor drops what both deliver.
    async fn follow(&mut self, frame: &FollowFrame) -> Result<(), Result<Problem, Failure>> {
        frame.check_no_identity().map_err(Ok)?;
        let followed = self
            .hub
            .triage
            .open_followed(&frame.tokens)
            .await
            .map_err(Ok)?;
        let cursor = frame.cursor.unwrap_or(0).max(0);
        let listener = self.listener.get_or_insert_with(Listener::default);
        listener.follow(&self.hub.followers, &followed);
        let missed = self
            .hub
            .triage
            .updates_since(followed, cursor, MAX_REPLAY)
            .await
            .map_err(Ok)?;
        let last = missed.last().map_or(cursor, |update| update.seq);
        for update in &missed {
            self.write(Message::text(update.frame.clone()))
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

    async fn on_heard(&mut self, heard: Heard) -> Step {
        match heard {
            Heard::Frame(text) => match self.write(Message::text(text)).await {
                Ok(()) => Step::Continue,
                Err(failure) => step_after(failure),
            },
            Heard::Nothing => Step::Continue,
            Heard::Lagged => Step::Close(
                POLICY_VIOLATION,
                "too slow: missed report events; reconnect and follow with your cursor, or reload the queue",
            ),
        }
    }

    async fn authenticate(&mut self, token: &str) -> ServerFrame {
        match self.hub.accounts.authenticate(token).await {
            Ok(staff) => {
                self.staff = Some(staff.clone());
                ServerFrame::Authenticated { user: staff }
            }
            Err(problem) => ServerFrame::refused(Refusal {
                problem,
                client_ref: None,
            }),
        }
    }

    /// Replaces the subscription: sends what the subscriber is owed and `subscribed`, then
    /// goes live. The session joins the fan-out before the store is read, and live events held
    /// meanwhile are sent after the backlog, so none is missed or sent twice.
    async fn subscribe(&mut self, frame: &SubscribeFrame) -> Result<(), Result<Problem, Failure>> {
        let zones = self.hub.zones.snapshot();
        let subscription = Subscription::parse(frame, self.staff.as_ref(), &zones).map_err(Ok)?;
        self.registration = None;
        let registration = self
            .hub
            .sessions
            .join(subscription.clone(), self.outlet.clone());
        let owed = backlog(&self.hub.store, zones, subscription, frame.cursor)
            .await
            .map_err(Ok)?;
        let sent = owed.events.len();
        for event in owed.events {
            let text = Utf8Bytes::try_from(bytes::Bytes::from(event.frame))
                .map_err(|err| Ok(Problem::internal(&err)))?;
            self.write(Message::Text(text)).await.map_err(Err)?;
            if event.kind == "published" {
                self.hub
                    .notices
                    .deliveries()
                    .counter(&event.notice_id, None)
                    .add_ws_session();
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

    async fn send(&mut self, frame: &ServerFrame) -> Result<(), Failure> {
        self.write(Message::text(frame.to_json())).await
    }

    /// Sends a message of the session's own, behind whatever the fan-out left waiting.
    async fn write(&mut self, message: Message) -> Result<(), Failure> {
        match tokio::time::timeout(self.write_timeout, self.socket.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Failure::Broken),
            Err(_) => Err(Failure::Stalled),
        }
    }

    async fn close(&mut self, code: u16, reason: &'static str) {
        self.registration = None;
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        let _ = self.write(Message::Close(Some(frame))).await;
    }
}
