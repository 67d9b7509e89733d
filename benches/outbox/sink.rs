//! The local HTTP sink both sides send to: answers 204 at once and notes when each request
//! arrived, so the bench can tell when the last of N landed; it keeps the first request it
//! saw, so the floor can send the same ones.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio::sync::Notify;

/// Arrivals at the sink.
pub struct Sink {
    pub addr: SocketAddr,
    arrived: Arc<AtomicUsize>,
    /// Arrival times (as offsets from `epoch`), in order, for percentiles.
    times: Arc<std::sync::Mutex<Vec<Instant>>>,
    reached: Arc<Notify>,
    target: Arc<AtomicUsize>,
    first: Arc<std::sync::Mutex<Option<Seen>>>,
}

/// A request as it arrived: its headers and body.
#[derive(Clone)]
pub struct Seen {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Sink {
    pub async fn start() -> Sink {
        let arrived = Arc::new(AtomicUsize::new(0));
        let times = Arc::new(std::sync::Mutex::new(Vec::new()));
        let reached = Arc::new(Notify::new());
        let target = Arc::new(AtomicUsize::new(usize::MAX));
        let first = Arc::new(std::sync::Mutex::new(None));
        let (a, t, r, g, f) = (
            arrived.clone(),
            times.clone(),
            reached.clone(),
            target.clone(),
            first.clone(),
        );
        let app = Router::new().route(
            "/{*path}",
            post(move |headers: HeaderMap, body: Bytes| {
                let (arrived, times, reached, target, first) =
                    (a.clone(), t.clone(), r.clone(), g.clone(), f.clone());
                async move {
                    times.lock().unwrap().push(Instant::now());
                    first
                        .lock()
                        .unwrap()
                        .get_or_insert_with(|| Seen { headers, body });
                    if arrived.fetch_add(1, Ordering::SeqCst) + 1 >= target.load(Ordering::SeqCst) {
                        reached.notify_one();
                    }
                    StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Sink {
            addr,
            arrived,
            times,
            reached,
            target,
            first,
        }
    }

    /// The first request that arrived.
    pub fn first(&self) -> Option<Seen> {
        self.first.lock().unwrap().clone()
    }

    /// Clears the counts and waits for `count` arrivals from now on.
    pub fn expect(&self, count: usize) {
        self.arrived.store(0, Ordering::SeqCst);
        self.times.lock().unwrap().clear();
        self.target.store(count, Ordering::SeqCst);
    }

    pub async fn wait(&self) {
        self.reached.notified().await;
    }

    /// Arrival times so far.
    pub fn times(&self) -> Vec<Instant> {
        self.times.lock().unwrap().clone()
    }
}
