//! One WebSocket session: one task that reads frames, answers them, and writes the notices its
//! subscription wants, straight to the socket.
//!
//! Slow consumers: notices reach sessions through a shared broadcast ring of
//! `bus::NOTICE_CAPACITY` events. A session that falls further behind is closed with code 1008
//! and told to reconnect with its cursor. A session whose socket does not take a frame within
//! `ws.write_timeout_secs` is dropped. Neither ever delays another session.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, close_code};
use tokio::sync::broadcast::{self, error::RecvError};

use super::subscription::{Subscription, backlog};
use crate::auth::Staff;
use crate::channels::frames::{self, ClientFrame, Refusal, ServerFrame, SubscribeFrame};
use crate::hub::Hub;
use crate::notices::NoticeEvent;
use crate::problem::Problem;
use crate::reports::{Origin, RawSubmission, Source};

/// Notices flowing to a subscribed session.
struct Feed {
    rx: broadcast::Receiver<Arc<NoticeEvent>>,
    subscription: Subscription,
    /// The cursor of the last notice event sent (or skipped as already sent).
    position: i64,
}

struct Session {
    socket: WebSocket,
    hub: Hub,
    peer: Option<SocketAddr>,
    staff: Option<Staff>,
    feed: Option<Feed>,
    write_timeout: Duration,
}

/// What the session does next.
enum Step {
    Continue,
    Close(u16, &'static str),
    End,
}

enum Wake {
    Shutdown,
    Notice(Result<Arc<NoticeEvent>, RecvError>),
    Incoming(Option<Result<Message, axum::Error>>),
}

pub(super) async fn run(socket: WebSocket, hub: Hub, peer: Option<SocketAddr>) {
    let write_timeout = Duration::from_secs(hub.config.ws.write_timeout_secs);
    let mut session = Session {
        socket,
        hub,
        peer,
        staff: None,
        feed: None,
        write_timeout,
    };
    let welcome = session.welcome();
    if !session.send(&welcome).await {
        return;
    }
    loop {
        let wake = tokio::select! {
            _ = session.hub.shutdown.cancelled() => Wake::Shutdown,
            event = next_notice(&mut session.feed) => Wake::Notice(event),
            incoming = session.socket.recv() => Wake::Incoming(incoming),
        };
        let step = match wake {
            Wake::Shutdown => Step::Close(close_code::AWAY, "the hub is shutting down"),
            Wake::Notice(event) => session.on_notice(event).await,
            // Boxed: report handling holds a large future, which idle sessions should not carry.
            Wake::Incoming(Some(Ok(message))) => Box::pin(session.on_message(message)).await,
            Wake::Incoming(_) => Step::End,
        };
        match step {
            Step::Continue => {}
            Step::Close(code, reason) => {
                session.close(code, reason).await;
                return;
            }
            Step::End => return,
        }
    }
}

async fn next_notice(feed: &mut Option<Feed>) -> Result<Arc<NoticeEvent>, RecvError> {
    match feed {
        Some(feed) => feed.rx.recv().await,
        None => std::future::pending().await,
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

    async fn on_notice(&mut self, event: Result<Arc<NoticeEvent>, RecvError>) -> Step {
        let event = match event {
            Ok(event) => event,
            Err(RecvError::Lagged(_)) => {
                tracing::info!("closing a WebSocket session that fell behind the notice stream");
                return Step::Close(
                    close_code::POLICY,
                    "too slow: missed notices; reconnect and subscribe with your last cursor",
                );
            }
            Err(RecvError::Closed) => {
                return Step::Close(close_code::AWAY, "the hub is shutting down");
            }
        };
        let feed = self.feed.as_mut().expect("notices arrive only with a feed");
        if event.seq <= feed.position || !feed.subscription.wants(&event) {
            return Step::Continue;
        }
        feed.position = event.seq;
        let text = Utf8Bytes::try_from(event.frame.clone()).expect("frames are UTF-8");
        if !self.write(Message::Text(text)).await {
            return Step::End;
        }
        event.deliveries.add_ws_session();
        Step::Continue
    }

    async fn on_message(&mut self, message: Message) -> Step {
        let bytes = match &message {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(bytes) => bytes,
            Message::Close(_) => return Step::End,
            Message::Ping(_) | Message::Pong(_) => return Step::Continue,
        };
        let limit = self.hub.config.intake.max_body_bytes;
        let reply = if bytes.len() > limit {
            ServerFrame::Error {
                problem: frames::too_large(bytes.len(), limit),
                client_ref: None,
            }
        } else {
            match frames::parse_client_frame(bytes) {
                Ok(ClientFrame::Report(raw)) => self.submit(raw).await,
                Ok(ClientFrame::Auth(auth)) => self.authenticate(&auth.token).await,
                Ok(ClientFrame::Subscribe(subscribe)) => match self.subscribe(&subscribe).await {
                    Ok(subscribed) => subscribed,
                    Err(problem) => ServerFrame::refused(Refusal {
                        problem,
                        client_ref: None,
                    }),
                },
                Err(refusal) => ServerFrame::refused(refusal),
            }
        };
        if self.send(&reply).await {
            Step::Continue
        } else {
            Step::End
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
        frames::answer(outcome, client_ref)
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

    /// Replaces the subscription: sends what the subscriber is owed, then follows live events.
    /// The live receiver is opened before the store is read, so no event falls in between.
    async fn subscribe(&mut self, frame: &SubscribeFrame) -> Result<ServerFrame, Problem> {
        let zones = self.hub.zones.snapshot();
        let subscription = Subscription::parse(frame, self.staff.as_ref(), &zones)?;
        let rx = self.hub.bus.subscribe_notices();
        self.feed = None;
        let owed = backlog(&self.hub.store, zones, subscription.clone(), frame.cursor).await?;
        let sent = owed.events.len();
        for event in owed.events {
            let text = Utf8Bytes::try_from(bytes::Bytes::from(event.frame))
                .map_err(|err| Problem::internal(&err))?;
            if !self.write(Message::Text(text)).await {
                return Err(Problem::new(
                    crate::problem::ErrorCode::Unavailable,
                    "the connection stopped taking frames",
                ));
            }
            if event.kind == "published" {
                self.hub
                    .notices
                    .deliveries()
                    .counter(&event.notice_id, None)
                    .add_ws_session();
            }
        }
        self.feed = Some(Feed {
            rx,
            subscription,
            position: owed.position,
        });
        Ok(ServerFrame::Subscribed {
            cursor: owed.position,
            sent,
        })
    }

    async fn send(&mut self, frame: &ServerFrame) -> bool {
        self.write(Message::Text(frame.to_json().into())).await
    }

    /// Writes one message; `false` if the peer is gone or has stopped reading.
    async fn write(&mut self, message: Message) -> bool {
        match tokio::time::timeout(self.write_timeout, self.socket.send(message)).await {
            Ok(Ok(())) => true,
            Ok(Err(_)) => false,
            Err(_) => {
                tracing::info!("dropped a WebSocket session that stopped reading");
                false
            }
        }
    }

    async fn close(&mut self, code: u16, reason: &'static str) {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = tokio::time::timeout(
            self.write_timeout,
            self.socket.send(Message::Close(Some(frame))),
        )
        .await;
    }
}
