//! One worker per channel: a feeder reads due deliveries ahead (`feeder.rs`), senders send them
//! through the channel's courier with bounded concurrency, and a settler writes the outcomes
//! in batches.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::Abortable;
use futures_util::stream::FuturesUnordered;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use super::deadlines::{Deadlines, watch as watch_deadlines};
use super::feeder::Feed;
use super::in_flight::InFlight;
use super::{Outbox, Parcel};
use crate::bus::Events;
use crate::model::{Delivery, OutboundChannel, Outcome};

/// How long shutdown waits for sends in flight, so they are settled rather than sent again.
const DRAIN_ON_SHUTDOWN: Duration = Duration::from_secs(5);
/// Outcomes written in one go at most.
const SETTLE_BATCH: usize = 1024;
/// Outcomes waiting for the settler at most (a few MB): enough that a slow commit (a WAL
/// checkpoint, a busy disk) does not hold up the senders.
const SETTLED_WAITING: usize = 16 * SETTLE_BATCH;
/// How long the settler gathers outcomes before writing them: a fan-out to thousands then
/// takes one commit per gathering instead of one per handful of answers. A crash inside it
/// sends those deliveries again, which receivers recognise by their id.
const SETTLE_GATHER: Duration = Duration::from_millis(25);
/// Opened deliveries waiting for a sender, per unit of concurrency: enough that the senders
/// never wait while the feeder reads the next batch.
const READ_AHEAD: usize = 8;
/// A send's deadline when its courier names none (its client has limits of its own).
const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);
/// Cores per send lane: the lanes share the machine with the HTTP server, the writer thread
/// and the readers, and on two cores one lane delivers more than two (measured with
/// `cargo bench --bench outbox`: fewer hand-offs between threads).
const CORES_PER_LANE: usize = 2;

/// A channel that delivers parcels: it speaks the service's protocol and says what the
/// answer means.
pub trait Courier: Send + Sync + 'static {
    fn channel(&self) -> OutboundChannel;
    /// Sends in flight at once.
    fn concurrency(&self) -> usize;
    /// The longest one send may take: past it, the worker gives it up and tries again later.
    fn deadline(&self) -> Duration {
        DEFAULT_DEADLINE
    }
    fn send(&self, parcel: &Parcel) -> impl Future<Output = Outcome> + Send;
}

/// Runs `courier` until shutdown.
pub async fn run<C: Courier>(
    courier: C,
    outbox: Outbox,
    events: Events,
    shutdown: CancellationToken,
) {
    let concurrency = courier.concurrency().max(1);
    let in_flight = Arc::new(Mutex::new(InFlight::default()));
    let freed = Arc::new(Notify::new());
    let (done_tx, done_rx) = mpsc::channel(SETTLED_WAITING);
    let settler = tokio::spawn(settle_outcomes(
        outbox.clone(),
        done_rx,
        in_flight.clone(),
        freed.clone(),
    ));
    // Sends run in lanes, each polling its share in one task, so a lane whose thread the OS
    // sets aside holds up only that share.
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let lanes = concurrency.min((cores / CORES_PER_LANE).max(1));
    let per_lane = concurrency.div_ceil(lanes);
    let (lane_inputs, lane_outputs): (Vec<_>, Vec<_>) = (0..lanes)
        .map(|_| mpsc::channel::<Parcel>((per_lane * READ_AHEAD).max(32)))
        .unzip();
    let feed = Feed {
        outbox,
        channel: courier.channel(),
        in_flight: in_flight.clone(),
        done: done_tx.clone(),
        freed,
    };
    let feeder = {
        let shutdown = shutdown.clone();
        tokio::spawn(async move { feed.run(lane_inputs, &events, shutdown).await })
    };
    let courier = Arc::new(courier);
    let senders: Vec<_> = lane_outputs
        .into_iter()
        .map(|parcels| {
            let (courier, done, shutdown) = (courier.clone(), done_tx.clone(), shutdown.clone());
            tokio::spawn(send_until_shutdown(
                courier, per_lane, parcels, done, shutdown,
            ))
        })
        .collect();
    let unsent = futures_util::future::join_all(senders).await;
    for unsent in unsent.into_iter().flatten().flatten() {
        in_flight
            .lock()
            .expect("in-flight lock")
            .release(unsent.delivery.id);
    }
    let _ = feeder.await;
    drop(done_tx);
    let _ = settler.await;
}

/// Sends what the feeder hands this lane, `concurrency` at a time, all polled in this one task
/// (no task or thread hand-off per delivery); at shutdown, lets the sends in flight finish for
/// a moment so they are settled rather than sent again, and returns what was never sent.
async fn send_until_shutdown<C: Courier>(
    courier: Arc<C>,
    concurrency: usize,
    mut parcels: mpsc::Receiver<Parcel>,
    done: mpsc::Sender<(Delivery, Outcome)>,
    shutdown: CancellationToken,
) -> Vec<Parcel> {
    let mut sending = FuturesUnordered::new();
    // A watchdog of its own, so the busy loop below polls no timer.
    let deadlines = Arc::new(Mutex::new(Deadlines::new(courier.deadline(), concurrency)));
    let watchdog = tokio::spawn(watch_deadlines(deadlines.clone()));
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            Some((slot, settled)) = sending.next(), if !sending.is_empty() => {
                deadlines.lock().expect("deadlines lock").end(slot);
                let _ = done.send(settled).await;
            }
            parcel = parcels.recv(), if sending.len() < concurrency => match parcel {
                Some(parcel) => {
                    let (slot, registration) = deadlines.lock().expect("deadlines lock").start();
                    let courier = courier.clone();
                    sending.push(async move {
                        let sent = Abortable::new(courier.send(&parcel), registration).await;
                        (slot, (parcel.delivery, sent.unwrap_or_else(|_| too_slow())))
                    });
                }
                None => break,
            },
        }
    }
    let _ = tokio::time::timeout(DRAIN_ON_SHUTDOWN, async {
        while let Some((_, settled)) = sending.next().await {
            let _ = done.send(settled).await;
        }
    })
    .await;
    watchdog.abort();
    parcels.close();
    let mut unsent = Vec::new();
    while let Ok(parcel) = parcels.try_recv() {
        unsent.push(parcel);
    }
    unsent
}

/// A send given up at its deadline: the destination may answer next time.
fn too_slow() -> Outcome {
    Outcome::Retry {
        error: "the destination did not answer in time".into(),
        after: None,
    }
}

/// Writes outcomes in batches, gathered for a moment after the first, then frees their
/// deliveries for the next look.
async fn settle_outcomes(
    outbox: Outbox,
    mut done: mpsc::Receiver<(Delivery, Outcome)>,
    in_flight: Arc<Mutex<InFlight>>,
    freed: Arc<Notify>,
) {
    let mut batch = Vec::with_capacity(SETTLE_BATCH);
    while done.recv_many(&mut batch, SETTLE_BATCH).await > 0 {
        gather_more(&mut done, &mut batch).await;
        let outcomes = std::mem::take(&mut batch);
        let ids: Vec<i64> = outcomes.iter().map(|(delivery, _)| delivery.id).collect();
        if let Err(problem) = outbox.settle(outcomes).await {
            tracing::error!(message = %problem.message, "cannot record delivery outcomes; they will be tried again");
        }
        let mut in_flight = in_flight.lock().expect("in-flight lock");
        ids.into_iter().for_each(|id| in_flight.release(id));
        drop(in_flight);
        freed.notify_one();
    }
}

/// Adds what arrives within `SETTLE_GATHER` to `batch`, up to `SETTLE_BATCH`.
async fn gather_more(
    done: &mut mpsc::Receiver<(Delivery, Outcome)>,
    batch: &mut Vec<(Delivery, Outcome)>,
) {
    let until = tokio::time::Instant::now() + SETTLE_GATHER;
    while batch.len() < SETTLE_BATCH {
        let room = SETTLE_BATCH - batch.len();
        match tokio::time::timeout_at(until, done.recv_many(batch, room)).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}
