//! One worker per channel: takes due deliveries most urgent first, sends them through the
//! channel's courier with bounded concurrency, and settles the outcomes in batches.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{Outbox, Parcel};
use crate::bus::{Event, Events};
use crate::model::{Delivery, OutboundChannel, Outcome};
use crate::store::outbox as outbox_rows;

/// Longest wait between looks at the queue when nothing wakes the worker: retries fall due
/// on their own.
const IDLE_LOOK: Duration = Duration::from_secs(30);
/// How long shutdown waits for sends in flight, so they are settled rather than sent again.
const DRAIN_ON_SHUTDOWN: Duration = Duration::from_secs(5);
/// Outcomes written in one go at most.
const SETTLE_BATCH: usize = 1024;

/// A channel that delivers parcels: it speaks the service's protocol and says what the
/// answer means.
pub trait Courier: Send + Sync + 'static {
    fn channel(&self) -> OutboundChannel;
    /// Sends in flight at once.
    fn concurrency(&self) -> usize;
    fn send(&self, parcel: Parcel) -> impl Future<Output = Outcome> + Send;
}

/// Deliveries taken but not yet settled, so no look at the queue takes them twice and no
/// second state of a thread overtakes the first.
#[derive(Default)]
struct InFlight {
    ids: HashSet<i64>,
    threads: HashSet<(String, String)>,
}

impl InFlight {
    fn take(&mut self, delivery: &Delivery) -> bool {
        let thread = (delivery.destination.clone(), delivery.thread.clone());
        if self.ids.contains(&delivery.id) || self.threads.contains(&thread) {
            return false;
        }
        self.ids.insert(delivery.id);
        self.threads.insert(thread);
        true
    }

    fn release(&mut self, delivery: &Delivery) {
        self.ids.remove(&delivery.id);
        self.threads
            .remove(&(delivery.destination.clone(), delivery.thread.clone()));
    }
}

/// Runs `courier` until shutdown.
pub async fn run<C: Courier>(
    courier: C,
    outbox: Outbox,
    events: Events,
    shutdown: CancellationToken,
) {
    let courier = Arc::new(courier);
    let channel = courier.channel();
    let concurrency = courier.concurrency().max(1);
    let permits = Arc::new(Semaphore::new(concurrency));
    let in_flight = Arc::new(Mutex::new(InFlight::default()));
    let (done_tx, done_rx) = mpsc::channel(SETTLE_BATCH);
    let settler = tokio::spawn(settle_outcomes(outbox.clone(), done_rx, in_flight.clone()));
    let mut waiting: VecDeque<Parcel> = VecDeque::new();
    let mut sends = JoinSet::new();
    let mut wake = WakeUp::new(&events, &outbox);
    loop {
        while sends.try_join_next().is_some() {}
        if waiting.is_empty() {
            wake.seen();
            let taken = take_due(&outbox, channel, concurrency * 4, &in_flight, &done_tx).await;
            waiting.extend(taken);
        }
        if waiting.is_empty() {
            let next_due = outbox
                .inner
                .store
                .read(move |conn| outbox_rows::next_due(conn, channel))
                .await
                .ok()
                .flatten();
            if !wake.wait(&outbox, next_due, &shutdown).await {
                break;
            }
            continue;
        }
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = shutdown.cancelled() => break,
        };
        let parcel = waiting.pop_front().expect("checked above");
        let (courier, done) = (courier.clone(), done_tx.clone());
        sends.spawn(async move {
            let delivery = parcel.delivery.clone();
            let outcome = courier.send(parcel).await;
            let _ = done.send((delivery, outcome)).await;
            drop(permit);
        });
    }
    release_unsent(&in_flight, waiting);
    let _ = tokio::time::timeout(DRAIN_ON_SHUTDOWN, async {
        while sends.join_next().await.is_some() {}
    })
    .await;
    drop(done_tx);
    let _ = settler.await;
}

/// Takes up to `limit` due deliveries not already in flight and reads what they carry;
/// those that can no longer be made are settled straight away.
async fn take_due(
    outbox: &Outbox,
    channel: OutboundChannel,
    limit: usize,
    in_flight: &Mutex<InFlight>,
    done: &mpsc::Sender<(Delivery, Outcome)>,
) -> Vec<Parcel> {
    let now_ms = outbox.now().timestamp_millis();
    let skip = in_flight.lock().expect("in-flight lock").ids.len();
    let found = outbox
        .inner
        .store
        .read(move |conn| outbox_rows::due(conn, channel, now_ms, limit + skip))
        .await;
    let due = match found {
        Ok(due) => due,
        Err(err) => {
            tracing::error!(channel = channel.as_str(), %err, "cannot read the outbox");
            return Vec::new();
        }
    };
    let taken: Vec<Delivery> = {
        let mut in_flight = in_flight.lock().expect("in-flight lock");
        due.into_iter()
            .filter(|delivery| in_flight.take(delivery))
            .take(limit)
            .collect()
    };
    let opened = match outbox.open(taken.clone()).await {
        Ok(opened) => opened,
        Err(problem) => {
            tracing::error!(channel = channel.as_str(), message = %problem.message, "cannot read what deliveries carry");
            let mut in_flight = in_flight.lock().expect("in-flight lock");
            taken
                .iter()
                .for_each(|delivery| in_flight.release(delivery));
            return Vec::new();
        }
    };
    let mut parcels = Vec::with_capacity(opened.len());
    for opened in opened {
        match opened {
            Ok(parcel) => parcels.push(parcel),
            Err(settled) => {
                let _ = done.send(settled).await;
            }
        }
    }
    parcels
}

/// Writes outcomes in batches as they come, then frees their deliveries for the next look.
async fn settle_outcomes(
    outbox: Outbox,
    mut done: mpsc::Receiver<(Delivery, Outcome)>,
    in_flight: Arc<Mutex<InFlight>>,
) {
    let mut batch = Vec::with_capacity(SETTLE_BATCH);
    while done.recv_many(&mut batch, SETTLE_BATCH).await > 0 {
        let outcomes = std::mem::take(&mut batch);
        let deliveries: Vec<Delivery> = outcomes
            .iter()
            .map(|(delivery, _)| delivery.clone())
            .collect();
        if let Err(problem) = outbox.settle(outcomes).await {
            tracing::error!(message = %problem.message, "cannot record delivery outcomes; they will be tried again");
        }
        let mut in_flight = in_flight.lock().expect("in-flight lock");
        deliveries
            .iter()
            .for_each(|delivery| in_flight.release(delivery));
        drop(in_flight);
        outbox.wake();
    }
}

fn release_unsent(in_flight: &Mutex<InFlight>, waiting: VecDeque<Parcel>) {
    let mut in_flight = in_flight.lock().expect("in-flight lock");
    waiting
        .iter()
        .for_each(|parcel| in_flight.release(&parcel.delivery));
}

/// What wakes an idle worker: a committed event that may have queued deliveries, an
/// operator's retry, settled outcomes, or the next retry falling due.
struct WakeUp {
    notices: tokio::sync::broadcast::Receiver<Arc<crate::model::NoticeEvent>>,
    others: tokio::sync::broadcast::Receiver<Event>,
    woken: tokio::sync::watch::Receiver<u64>,
}

impl WakeUp {
    fn new(events: &Events, outbox: &Outbox) -> WakeUp {
        WakeUp {
            notices: events.subscribe_notices(),
            others: events.subscribe(),
            woken: outbox.inner.wake.subscribe(),
        }
    }

    /// Marks every wake-up so far as seen: the look at the queue that follows covers them.
    fn seen(&mut self) {
        self.woken.borrow_and_update();
    }

    /// False once the hub shuts down.
    async fn wait(
        &mut self,
        outbox: &Outbox,
        next_due_ms: Option<i64>,
        shutdown: &CancellationToken,
    ) -> bool {
        let now_ms = outbox.now().timestamp_millis();
        let until_due = next_due_ms
            .map(|due| Duration::from_millis(u64::try_from(due - now_ms).unwrap_or(0)))
            .unwrap_or(IDLE_LOOK)
            .min(IDLE_LOOK);
        let reporter_news = async {
            loop {
                match self.others.recv().await {
                    Ok(Event::ReportChanged(change)) if change.update.is_some() => return,
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        std::future::pending::<()>().await;
                    }
                }
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => false,
            _ = self.notices.recv() => true,
            () = reporter_news => true,
            _ = self.woken.changed() => true,
            () = tokio::time::sleep(until_due) => true,
        }
    }
}
