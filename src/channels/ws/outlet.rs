//! A session's TCP socket, shared by its own task and the notice fan-out, with one queue of
//! outgoing bytes so that frames from the two never interleave.
//!
//! tungstenite reads and writes through [`Conn`]; whatever it writes goes behind bytes already
//! waiting. The fan-out offers frames encoded once for everyone: when nothing is waiting and
//! the socket takes the frame, it is written on the spot and the session's task is not even
//! woken. Otherwise the bytes wait for the session's task, which writes them under its write
//! timeout. At most `MAX_PENDING_BYTES` may wait: a session that lets more pile up is too slow,
//! loses the notices it had not begun to receive, and gets the rest of the one in progress
//! followed by its close frame.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

use crate::notices::{DeliveryCount, Destination};

/// Outgoing bytes a session may leave waiting before it counts as too slow.
const MAX_PENDING_BYTES: usize = 256 * 1024;

/// Why a session can no longer be written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Too much waited for it: it reads slower than notices arrive.
    TooSlow,
    /// Its socket took nothing for the whole write timeout.
    Stalled,
    /// The connection is gone.
    Broken,
}

/// What became of an offered frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// The socket took it.
    Written,
    /// It waits for the session's task (or for the session to close).
    Queued,
    /// The session is finished.
    Refused,
}

struct Chunk {
    bytes: Bytes,
    /// Counted once the last byte is written.
    delivery: Option<Arc<DeliveryCount>>,
    /// Part of its frame is already on the wire: the rest must follow, whatever happens.
    begun: bool,
}

#[derive(Default)]
struct Pending {
    chunks: VecDeque<Chunk>,
    bytes: usize,
    failed: Option<Failure>,
    /// The session is closing: nothing more from the fan-out may follow its close frame.
    closing: bool,
}

pub struct Outlet {
    stream: Arc<TcpStream>,
    /// Std mutex: held for one non-blocking write or a queue change, never across an `.await`.
    pending: Mutex<Pending>,
    /// Tells the session's task that bytes wait or that the session failed.
    work: Notify,
}

impl Outlet {
    pub fn new(stream: Arc<TcpStream>) -> Arc<Outlet> {
        Arc::new(Outlet {
            stream,
            pending: Mutex::new(Pending::default()),
            work: Notify::new(),
        })
    }

    /// Writes an encoded frame now if nothing waits and the socket takes it whole; else queues
    /// it for the session's task. Never waits.
    pub fn offer(&self, frame: &Bytes, delivery: &Arc<DeliveryCount>) -> Offer {
        let mut pending = self.pending.lock().expect("outlet lock");
        if pending.failed.is_some() || pending.closing {
            return Offer::Refused;
        }
        let written = self.write_unless_waiting(frame, &mut pending);
        if written == frame.len() {
            return Offer::Written;
        }
        let rest = frame.slice(written..);
        let too_slow = pending.bytes + rest.len() > MAX_PENDING_BYTES;
        // A frame begun on the wire is finished even past the bound, or whatever follows it
        // (the close frame above all) would be read as its payload.
        let queued = !too_slow || written > 0;
        if queued {
            pending.push(rest, Some(delivery.clone()), written > 0);
        }
        if too_slow {
            pending.fail(Failure::TooSlow);
        }
        drop(pending);
        self.work.notify_one();
        match queued {
            true => Offer::Queued,
            false => Offer::Refused,
        }
    }

    /// Sends one of the session's own text messages (an answer, the welcome, a backlog),
    /// behind whatever waits, waiting for the socket at most `timeout`. Framed here rather
    /// than by tungstenite, whose write buffer would keep the size of the largest message it
    /// ever sent for as long as the session lasts.
    pub async fn send_text(&self, text: Bytes, timeout: Duration) -> Result<(), Failure> {
        let frame = text_frame(text);
        let waiting = {
            let mut pending = self.pending.lock().expect("outlet lock");
            if let Some(failure) = pending.failed {
                return Err(failure);
            }
            let written = self.write_unless_waiting(&frame, &mut pending);
            if written < frame.len() {
                pending.push(frame.slice(written..), None, written > 0);
            }
            !pending.chunks.is_empty()
        };
        match waiting {
            true => self.drain(timeout).await,
            false => Ok(()),
        }
    }

    /// As much of `bytes` as the socket takes without waiting, if nothing waits before them;
    /// else nothing, so that bytes keep their order.
    fn write_unless_waiting(&self, bytes: &[u8], pending: &mut Pending) -> usize {
        match pending.chunks.is_empty() {
            true => self.write_now(bytes, pending),
            false => 0,
        }
    }

    /// As much of `bytes` as the socket takes without waiting.
    fn write_now(&self, bytes: &[u8], pending: &mut Pending) -> usize {
        match self.stream.try_write(bytes) {
            Ok(written) => written,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => 0,
            Err(_) => {
                pending.fail(Failure::Broken);
                0
            }
        }
    }

    /// Refuses every later notice: the session's task is about to write its close frame, which
    /// a fan-out still holding this outlet must not follow.
    pub fn refuse_notices(&self) {
        self.pending.lock().expect("outlet lock").closing = true;
    }

    /// Marks the session as unable to keep up; its task closes it.
    pub fn fail(&self, failure: Failure) {
        self.pending.lock().expect("outlet lock").fail(failure);
        self.work.notify_one();
    }

    /// Resolves when the session's task has something to do here.
    pub async fn work(&self) {
        self.work.notified().await;
    }

    /// Writes every waiting byte, waiting for the socket at most `timeout`; fails at once on
    /// a failed session, for its task to close it.
    pub async fn drain(&self, timeout: Duration) -> Result<(), Failure> {
        let draining = async {
            loop {
                let writing = std::future::poll_fn(|cx| self.poll_drain(cx, WhenTooSlow::Stop));
                tokio::select! {
                    biased;
                    drained = writing => return drained,
                    // The fan-out may find the session too slow while it waits for its socket.
                    () = self.work.notified() => {}
                }
            }
        };
        tokio::time::timeout(timeout, draining)
            .await
            .unwrap_or(Err(Failure::Stalled))
    }

    /// A session that was too slow still gets the rest of the frame it was in the middle of
    /// and then its close frame, so that it learns why (1008) and resumes with its cursor;
    /// only a broken socket stops tungstenite's writes.
    fn poll_drain(&self, cx: &mut Context<'_>, too_slow: WhenTooSlow) -> Poll<Result<(), Failure>> {
        let mut pending = self.pending.lock().expect("outlet lock");
        loop {
            match pending.failed {
                Some(Failure::TooSlow) if too_slow == WhenTooSlow::Finish => {}
                Some(failure) => return Poll::Ready(Err(failure)),
                None => {}
            }
            let Some(front) = pending.chunks.front() else {
                return Poll::Ready(Ok(()));
            };
            if ready!(self.stream.poll_write_ready(cx)).is_err() {
                pending.failed = Some(Failure::Broken);
                continue;
            }
            let front = front.bytes.clone();
            let written = self.write_now(&front, &mut pending);
            pending.consume(written);
        }
    }
}

impl Outlet {
    /// Reads and drops what the peer still sends, until it closes, `max_bytes` came or
    /// `timeout` passed: after the hub closed on a message too big to read, so that closing
    /// with unread bytes does not reset the connection before the peer read why.
    pub async fn drop_incoming(&self, timeout: Duration, max_bytes: usize) {
        let mut sink = vec![0u8; 16 * 1024];
        let mut dropped = 0;
        let draining = async {
            while dropped < max_bytes {
                if self.stream.readable().await.is_err() {
                    return;
                }
                match self.stream.try_read(&mut sink) {
                    Ok(0) => return,
                    Ok(read) => dropped += read,
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => return,
                }
            }
        };
        let _ = tokio::time::timeout(timeout, draining).await;
    }
}

/// What draining does once the session is too slow.
#[derive(Clone, Copy, PartialEq, Eq)]
enum WhenTooSlow {
    /// Report it: the session's task reads it and closes.
    Stop,
    /// Keep writing: tungstenite's own frames, the close above all.
    Finish,
}

impl Pending {
    fn push(&mut self, bytes: Bytes, delivery: Option<Arc<DeliveryCount>>, begun: bool) {
        self.bytes += bytes.len();
        self.chunks.push_back(Chunk {
            bytes,
            delivery,
            begun,
        });
    }

    /// The first failure stays, except that a broken socket ends even the writing a too-slow
    /// session is still allowed. A session too slow for its notices loses those not begun (it
    /// resumes from its cursor), so that its close frame is not stuck behind them; one already
    /// closing keeps its queue, whose last frame is its close frame.
    fn fail(&mut self, failure: Failure) {
        match self.failed {
            None => self.failed = Some(failure),
            Some(Failure::TooSlow) if failure == Failure::Broken => {
                self.failed = Some(failure);
                return;
            }
            Some(_) => return,
        }
        if failure == Failure::TooSlow && !self.closing {
            self.chunks.retain(|chunk| chunk.begun);
            self.bytes = self.chunks.iter().map(|chunk| chunk.bytes.len()).sum();
        }
    }

    fn consume(&mut self, mut written: usize) {
        self.bytes -= written;
        while written > 0 {
            let front = self.chunks.front_mut().expect("written bytes were waiting");
            if written < front.bytes.len() {
                let _ = front.bytes.split_to(written);
                front.begun = true;
                return;
            }
            written -= front.bytes.len();
            if let Some(delivery) = self.chunks.pop_front().and_then(|chunk| chunk.delivery) {
                delivery.add(Destination::WS_SESSIONS, 1);
            }
        }
    }
}

/// A final, unmasked WebSocket text frame, as a server sends it.
pub(super) fn text_frame(text: Bytes) -> Bytes {
    let mut encoded = Vec::with_capacity(text.len() + 10);
    Frame::message(text, OpCode::Data(Data::Text), true)
        .format(&mut encoded)
        .expect("writing to memory cannot fail");
    encoded.into()
}

/// The socket as tungstenite sees it.
pub(super) struct Conn(pub Arc<Outlet>);

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let stream = &self.0.stream;
        loop {
            ready!(stream.poll_read_ready(cx))?;
            match stream.try_read(buf.initialize_unfilled()) {
                Ok(read) => {
                    buf.advance(read);
                    return Poll::Ready(Ok(()));
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
    }
}

impl AsyncWrite for Conn {
    /// Takes everything at once, behind whatever waits, so that tungstenite never leaves half
    /// a frame for a notice to cut into.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let outlet = &self.0;
        {
            let mut pending = outlet.pending.lock().expect("outlet lock");
            if pending.failed == Some(Failure::Broken) {
                return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
            }
            let written = outlet.write_unless_waiting(buf, &mut pending);
            if written < buf.len() {
                pending.push(Bytes::copy_from_slice(&buf[written..]), None, written > 0);
            }
        }
        let _ = outlet.poll_drain(cx, WhenTooSlow::Finish);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.poll_drain(cx, WhenTooSlow::Finish).map(|drained| {
            drained.map_err(|failure| {
                io::Error::new(io::ErrorKind::BrokenPipe, format!("{failure:?}"))
            })
        })
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
