//! One WebSocket session: a reader that handles frames in order, and a writer fed by a queue.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use crate::channels::frames::{self, ClientFrame, ServerFrame};
use crate::hub::Hub;
use crate::reports::{Origin, RawSubmission, Source};

/// Frames waiting to be written to this client. A reader that outpaces its own writer waits;
/// frames for other sessions are never held up by it.
const OUTBOUND_CAPACITY: usize = 64;
/// How long a closing session may take to flush its last frames.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

struct Session {
    hub: Hub,
    peer: Option<SocketAddr>,
    /// Bounded, see `OUTBOUND_CAPACITY`; the writer task owns the receiving end.
    out_tx: mpsc::Sender<Message>,
}

pub(super) async fn run(socket: WebSocket, hub: Hub, peer: Option<SocketAddr>) {
    let (sink, mut stream) = socket.split();
    let (out_tx, out_rx) = mpsc::channel(OUTBOUND_CAPACITY);
    let mut writer = tokio::spawn(write_frames(sink, out_rx));
    let session = Session { hub, peer, out_tx };
    session.send(&session.welcome()).await;
    loop {
        tokio::select! {
            _ = session.hub.shutdown.cancelled() => {
                session.close(close_code::AWAY, "the hub is shutting down").await;
                break;
            }
            _ = &mut writer => return,
            incoming = stream.next() => match incoming {
                Some(Ok(message)) => if !session.handle(message).await { break },
                Some(Err(err)) => {
                    tracing::debug!(%err, "websocket read failed");
                    break;
                }
                None => break,
            }
        }
    }
    drop(session);
    let _ = tokio::time::timeout(FLUSH_TIMEOUT, writer).await;
}

async fn write_frames(
    mut sink: SplitSink<WebSocket, Message>,
    mut out_rx: mpsc::Receiver<Message>,
) {
    while let Some(message) = out_rx.recv().await {
        let closing = matches!(message, Message::Close(_));
        if sink.send(message).await.is_err() || closing {
            return;
        }
    }
    let _ = sink.close().await;
}

impl Session {
    fn welcome(&self) -> ServerFrame {
        ServerFrame::Welcome {
            office: self.hub.config.office.clone(),
            version: env!("CARGO_PKG_VERSION"),
            max_message_bytes: self.hub.config.intake.max_body_bytes,
        }
    }

    /// Handles one message; `false` ends the session.
    async fn handle(&self, message: Message) -> bool {
        match message {
            Message::Text(text) => self.handle_json(text.as_bytes()).await,
            Message::Binary(bytes) => self.handle_json(&bytes).await,
            Message::Close(_) => false,
            Message::Ping(_) | Message::Pong(_) => true,
        }
    }

    async fn handle_json(&self, bytes: &[u8]) -> bool {
        let limit = self.hub.config.intake.max_body_bytes;
        let reply = if bytes.len() > limit {
            ServerFrame::Error {
                problem: frames::too_large(bytes.len(), limit),
                client_ref: None,
            }
        } else {
            match frames::parse_client_frame(bytes) {
                Ok(ClientFrame::Report(raw)) => self.submit(raw).await,
                Err(refusal) => ServerFrame::refused(refusal),
            }
        };
        self.send(&reply).await
    }

    async fn submit(&self, raw: RawSubmission) -> ServerFrame {
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

    /// Queues a frame; `false` once the writer is gone.
    async fn send(&self, frame: &ServerFrame) -> bool {
        self.out_tx
            .send(Message::Text(frame.to_json().into()))
            .await
            .is_ok()
    }

    async fn close(&self, code: u16, reason: &'static str) {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = self.out_tx.send(Message::Close(Some(frame))).await;
    }
}
