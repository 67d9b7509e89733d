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
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};

use super::WsServices;
use super::fanout::Registration;
use super::guard::{
    GOING_AWAY, Guard, INVALID_PAYLOAD, Liveness, MESSAGE_TOO_BIG, POLICY_VIOLATION, Verdict,
    close_for, ping_every,
};
use super::listen::{Heard, Listener};
use super::login::StaffLogin;
use super::outlet::{Conn, Failure, Outlet};
use crate::channels::frames::{self, ClientFrame, Refusal, ServerFrame};
use crate::metrics::GaugeGuard;
use crate::net::ConnectionSlot;
use crate::problem::Problem;
use crate::triage::Viewer;

/// After closing for a message too big to read, the rest of it is read and dropped for at
/// most this long (and this many bytes), so that closing does not reset the connection
/// before the client has read why.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 16 * 1024 * 1024;

/// What a session gets from the HTTP server: the socket, its place in the connection limits
/// (held until the session ends), and who is on the other end.
pub(super) struct Connection {
    pub(super) stream: Arc<TcpStream>,
    pub(super) slot: ConnectionSlot,
    pub(super) peer: Option<SocketAddr>,
}

pub(super) struct Session {
    socket: WebSocketStream<Conn>,
    pub(super) outlet: Arc<Outlet>,
    pub(super) services: Arc<WsServices>,
    pub(super) peer: Option<SocketAddr>,
    _slot: ConnectionSlot,
    /// Boxed, like the other parts only some sessions use: an idle subscriber carries a pointer.
    pub(super) login: Option<Box<StaffLogin>>,
    /// Membership of the notice fan-out while subscribed.
    pub(super) registration: Option<Registration>,
    /// Report events, once the session follows its reports or (staff) watches the queue.
    pub(super) listener: Option<Box<Listener>>,
    /// Staff: which report this session has open, for colleagues to see.
    pub(super) viewer: Option<Box<Viewer>>,
    write_timeout: Duration,
    /// Frame rates and liveness.
    guard: Guard,
}

/// What the session does next.
pub(super) enum Step {
    Continue,
    Close(u16, &'static str),
    /// Close, then read and drop what the client is still sending.
    CloseAndLinger(u16, &'static str),
    /// End without a word: the peer is not reading (counted under this reason).
    Drop(&'static str),
    End,
}

enum Wake {
    Outlet,
    Heard(Heard),
    Incoming(Option<Result<Message, tokio_tungstenite::tungstenite::Error>>),
    Ping,
    /// The staff login may have changed: look again.
    LoginDue,
    Shutdown,
}

pub(super) async fn run(connection: Connection, already_read: Bytes, services: Arc<WsServices>) {
    let _open = GaugeGuard::new(&services.metrics.ws_sessions);
    let mut session = Session::open(connection, already_read, services);
    let welcome = session.welcome().to_json();
    if Box::pin(session.send_text(welcome.into())).await.is_err() {
        return;
    }
    session.serve().await;
}

impl Session {
    fn open(connection: Connection, already_read: Bytes, services: Arc<WsServices>) -> Session {
        let Connection { stream, slot, peer } = connection;
        let outlet = Outlet::new(stream);
        // `already_read` is a slice of hyper's whole read buffer: copy the few bytes, free the rest.
        let early_bytes = already_read.to_vec();
        drop(already_read);
        let socket = WebSocketStream::from_partially_read(
            Conn(outlet.clone()),
            early_bytes,
            Role::Server,
            Some(super::websocket_config(&services)),
        )
        // No handshake is left to do (hyper did it): ready at once, so no future of it is kept.
        .now_or_never()
        .expect("a stream past its handshake is ready at once");
        let write_timeout = Duration::from_secs(services.config.ws.write_timeout_secs);
        let guard = Guard::new(&services.config.ws);
        Session {
            socket,
            outlet,
            services,
            peer,
            _slot: slot,
            login: None,
            registration: None,
            listener: None,
            viewer: None,
            write_timeout,
            guard,
        }
    }

    /// Answers frames, relays what it hears and pings, until the session ends. Borrowed, not
    /// moved: a moved session would be laid out twice in the task's future, on every idle
    /// connection.
    async fn serve(&mut self) {
        let mut pings = ping_every(&self.services.config.ws).map(|every| {
            let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval
        });
        let shutdown = self.services.shutdown.clone();
        let mut shutting_down = std::pin::pin!(shutdown.cancelled());
        let session = self;
        loop {
            let wake = tokio::select! {
                biased;
                _ = session.outlet.work() => Wake::Outlet,
                heard = listen(session.listener.as_deref_mut(), &session.services.clock) => Wake::Heard(heard),
                incoming = session.socket.next() => Wake::Incoming(incoming),
                _ = tick(pings.as_mut()) => Wake::Ping,
                _ = login_due(session.login.as_deref_mut()) => Wake::LoginDue,
                _ = &mut shutting_down => Wake::Shutdown,
            };
            // Each step is boxed: its future (a write with its timer, report handling) would
            // otherwise be laid out in the task of every idle session.
            let step = match wake {
                Wake::Outlet => Box::pin(session.finish_writes()).await,
                Wake::Heard(heard) => Box::pin(session.on_heard(heard)).await,
                Wake::Incoming(Some(Ok(message))) => Box::pin(session.on_message(message)).await,
                Wake::Incoming(Some(Err(error))) => match close_for(&error) {
                    Some((code, reason, true)) => Step::CloseAndLinger(code, reason),
                    Some((code, reason, false)) => Step::Close(code, reason),
                    None => Step::End,
                },
                Wake::Incoming(None) => Step::End,
                Wake::Ping => Box::pin(session.ping()).await,
                Wake::LoginDue => Box::pin(session.recheck_login()).await,
                Wake::Shutdown => Step::Close(GOING_AWAY, "the hub is shutting down"),
            };
            match step {
                Step::Continue => {}
                Step::Close(code, reason) => return Box::pin(session.close(code, reason)).await,
                Step::Drop(why) => return session.services.metrics.ws_closed(why),
                Step::CloseAndLinger(code, reason) => {
                    Box::pin(session.close(code, reason)).await;
                    let outlet = session.outlet.clone();
                    return Box::pin(outlet.drop_incoming(LINGER, LINGER_BYTES)).await;
                }
                Step::End => return,
            }
        }
    }
}

async fn tick(interval: Option<&mut tokio::time::Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

async fn login_due(login: Option<&mut StaffLogin>) {
    match login {
        Some(login) => Box::pin(login.due()).await,
        None => std::future::pending().await,
    }
}

/// What the session's listener hears next; boxed, so that a session without one (every plain
/// subscriber) does not carry the listener's future.
async fn listen(listener: Option<&mut Listener>, clock: &crate::clock::SharedClock) -> Heard {
    match listener {
        Some(listener) => Box::pin(listener.next(clock)).await,
        None => std::future::pending().await,
    }
}

/// How a close is counted in `/metrics`.
fn close_label(code: u16, reason: &str) -> &'static str {
    match code {
        GOING_AWAY => "shutdown",
        POLICY_VIOLATION if reason.starts_with("too slow") => "too_slow",
        POLICY_VIOLATION if reason.starts_with("your login") => "login_ended",
        POLICY_VIOLATION => "rate_limited",
        INVALID_PAYLOAD => "invalid_utf8",
        MESSAGE_TOO_BIG => "too_big",
        _ => "protocol",
    }
}

/// The error frame for a refused request that carried no report.
pub(super) fn refused(problem: Problem) -> ServerFrame {
    ServerFrame::refused(Refusal {
        problem,
        client_ref: None,
    })
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
            Step::Drop("stalled")
        }
        Failure::Broken => Step::End,
    }
}

impl Session {
    fn welcome(&self) -> ServerFrame {
        ServerFrame::Welcome {
            office: self.services.config.office.clone(),
            version: env!("CARGO_PKG_VERSION"),
            max_message_bytes: self.services.config.intake.max_body_bytes,
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
        self.guard.heard();
        let bytes = match &message {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(bytes) => bytes,
            Message::Close(_) => return Step::End,
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => return Step::Continue,
        };
        let verdict = self.guard.admit_frame();
        if let Some(step) = self.refuse_over_rate(verdict).await {
            return step;
        }
        let limit = self.services.config.intake.max_body_bytes;
        let parsed = match bytes.len() > limit {
            true => Err(Refusal {
                problem: frames::too_large(bytes.len(), limit),
                client_ref: None,
            }),
            false => frames::parse_client_frame(bytes),
        };
        if let Some(kind) = parsed.as_ref().ok().and_then(ClientFrame::reads_database) {
            let verdict = self.guard.admit_query(kind);
            if let Some(step) = self.refuse_over_rate(verdict).await {
                return step;
            }
        }
        self.guard.admitted();
        let reply = match parsed {
            Ok(ClientFrame::Report(raw)) => Some(self.submit(raw).await),
            Ok(ClientFrame::Auth(auth)) => Some(self.authenticate(&auth.token).await),
            Ok(ClientFrame::Watch(_)) => Some(self.watch()),
            Ok(ClientFrame::Viewing(viewing)) => self.viewing(&viewing),
            Ok(ClientFrame::Follow(follow)) => match self.follow(&follow).await {
                Ok(()) => None,
                Err(Ok(problem)) => Some(refused(problem)),
                Err(Err(failure)) => return step_after(failure),
            },
            Ok(ClientFrame::Subscribe(subscribe)) => match self.subscribe(&subscribe).await {
                Ok(()) => None,
                Err(Ok(problem)) => Some(refused(problem)),
                Err(Err(failure)) => return step_after(failure),
            },
            Err(refusal) => Some(ServerFrame::refused(refusal)),
        };
        match reply {
            Some(reply) => match self.send(&reply).await {
                Ok(()) => Step::Continue,
                Err(failure) => step_after(failure),
            },
            None => Step::Continue,
        }
    }

    /// Answers a frame over its rate with an error frame (or closes a session that keeps on).
    async fn refuse_over_rate(&mut self, verdict: Verdict) -> Option<Step> {
        match verdict {
            Verdict::Admit => None,
            // A client this far over its rate is still sending: what it sent is read and
            // dropped after the close, or the unread bytes would turn the close into a reset.
            Verdict::Close(code, reason) => Some(Step::CloseAndLinger(code, reason)),
            Verdict::Refuse(problem) => {
                self.services.metrics.limited("ws_frames");
                Some(match self.send(&refused(problem)).await {
                    Ok(()) => Step::Continue,
                    Err(failure) => step_after(failure),
                })
            }
        }
    }

    /// Pings the peer, or ends a session whose peer did not answer the last ping.
    async fn ping(&mut self) -> Step {
        if self.guard.ping_tick() == Liveness::Gone {
            tracing::debug!("dropped a WebSocket session that answered no ping");
            return Step::Drop("no_pong");
        }
        match self.write(Message::Ping(Bytes::new())).await {
            Ok(()) => Step::Continue,
            Err(failure) => step_after(failure),
        }
    }

    async fn on_heard(&mut self, heard: Heard) -> Step {
        match heard {
            Heard::Frame(text) => match self.send_text(text.into()).await {
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

    pub(super) async fn send(&mut self, frame: &ServerFrame) -> Result<(), Failure> {
        self.send_text(frame.to_json().into()).await
    }

    /// Sends a text message of the session's own (JSON the hub wrote), behind whatever the
    /// fan-out left waiting.
    pub(super) async fn send_text(&mut self, text: Bytes) -> Result<(), Failure> {
        self.outlet.send_text(text, self.write_timeout).await
    }

    /// Sends a control message (ping, close) through tungstenite, behind whatever waits.
    pub(super) async fn write(&mut self, message: Message) -> Result<(), Failure> {
        match tokio::time::timeout(self.write_timeout, self.socket.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Failure::Broken),
            Err(_) => Err(Failure::Stalled),
        }
    }

    async fn close(&mut self, code: u16, reason: &'static str) {
        self.services.metrics.ws_closed(close_label(code, reason));
        self.registration = None;
        self.outlet.refuse_notices();
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        let _ = self.write(Message::Close(Some(frame))).await;
    }
}
