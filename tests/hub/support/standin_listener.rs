//! The stand-ins' listener: connections that break once their stand-in is dropped, so a
//! client's pooled keep-alive connection cannot reach a stand-in a test has let go.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// A stand-in's state, which says when it was stopped.
pub trait Stoppable: Send + Sync + 'static {
    fn stopped(&self) -> bool;
}

/// Accepts connections that break once the stand-in is stopped, so that a client's pooled
/// keep-alive connection cannot reach a stand-in that was dropped.
pub struct Listener<S> {
    pub listener: TcpListener,
    pub shared: Arc<S>,
}

pub struct Connection<S> {
    stream: TcpStream,
    shared: Arc<S>,
}

impl<S: Stoppable> axum::serve::Listener for Listener<S> {
    type Io = Connection<S>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Connection<S>, SocketAddr) {
        loop {
            match self.listener.accept().await {
                Ok((stream, addr)) => {
                    let shared = self.shared.clone();
                    return (Connection { stream, shared }, addr);
                }
                // Out of descriptors, or a connection reset before it was accepted.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

impl<S: Stoppable> Connection<S> {
    fn cut(&self) -> Option<io::Error> {
        self.shared
            .stopped()
            .then(|| io::ErrorKind::ConnectionReset.into())
    }
}

impl<S: Stoppable> AsyncRead for Connection<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.cut() {
            Some(cut) => Poll::Ready(Err(cut)),
            None => Pin::new(&mut this.stream).poll_read(cx, buf),
        }
    }
}

impl<S: Stoppable> AsyncWrite for Connection<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match this.cut() {
            Some(cut) => Poll::Ready(Err(cut)),
            None => Pin::new(&mut this.stream).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match this.cut() {
            Some(cut) => Poll::Ready(Err(cut)),
            None => Pin::new(&mut this.stream).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
