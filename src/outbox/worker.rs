//! One worker per channel: a feeder reads due deliveries ahead (`feeder.rs`), senders send them
//! through the channel's courier with bounded concurrency, and a settler writes the outcomes
//! in batches.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use super::feeder::{Feed, InFlight};
use super::{Outbox, Parcel};
use crate::bus::Events;
use crate::model::{Delivery, OutboundChannel, Outcome};

/// How long shutdown waits for sends in flight, so they are settled rather than sent again.
const DRAIN_ON_SHUTDOWN: Duration = Duration::from_secs(5);
/// Outcomes written in one go at most.
const SETTLE_BATCH: usize = 1024;
/// Opened deliveries waiting for a sender, per unit of concurrency: enough that the senders
/// never wait while the feeder reads the next batch.
const READ_AHEAD: usize = 8;

/// A channel that delivers parcels: it speaks the service's protocol and says what the
/// answer means.
pub trait Courier: Send + Sync + 'static {
    fn channel(&self) -> OutboundChannel;
    /// Sends in flight at once.
    fn concurrency(&self) -> usize;
    fn send(&self, parcel: Parcel) -> impl Future<Output = Outcome> + Send;
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
    let (done_tx, done_rx) = mpsc::channel(SETTLE_BATCH);
    let settler = tokio::spawn(settle_outcomes(
        outbox.clone(),
        done_rx,
        in_flight.clone(),
        freed.clone(),
    ));
    let (parcels_tx, mut parcels) = mpsc::channel((concurrency * READ_AHEAD).max(64));
    let feed = Feed {
        outbox,
        channel: courier.channel(),
        in_flight: in_flight.clone(),
        done: done_tx.clone(),
        freed,
    };
    let feeder = {
        let shutdown = shutdown.clone();
        tokio::spawn(async move { feed.run(parcels_tx, &events, shutdown).await })
    };
    send_until_shutdown(
        Arc::new(courier),
        concurrency,
        &mut parcels,
        &done_tx,
        &shutdown,
    )
    .await;
    let _ = feeder.await;
    parcels.close();
    while let Ok(unsent) = parcels.try_recv() {
        in_flight
            .lock()
            .expect("in-flight lock")
            .release(&unsent.delivery);
    }
    drop(done_tx);
    let _ = settler.await;
}

/// Sends what the feeder hands over, `concurrency` at a time, all polled in this one task (no
/// task or thread hand-off per delivery); at shutdown, lets the sends in flight finish for a
/// moment so they are settled rather than sent again.
async fn send_until_shutdown<C: Courier>(
    courier: Arc<C>,
    concurrency: usize,
    parcels: &mut mpsc::Receiver<Parcel>,
    done: &mpsc::Sender<(Delivery, Outcome)>,
    shutdown: &CancellationToken,
) {
    let mut sending = FuturesUnordered::new();
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            Some(settled) = sending.next(), if !sending.is_empty() => {
                let _ = done.send(settled).await;
            }
            parcel = parcels.recv(), if sending.len() < concurrency => match parcel {
                Some(parcel) => {
                    let courier = courier.clone();
                    sending.push(async move {
                        let delivery = parcel.delivery.clone();
                        (delivery, courier.send(parcel).await)
                    });
                }
                None => break,
            },
        }
    }
    let _ = tokio::time::timeout(DRAIN_ON_SHUTDOWN, async {
        while let Some(settled) = sending.next().await {
            let _ = done.send(settled).await;
        }
    })
    .await;
}

/// Writes outcomes in batches as they come, then frees their deliveries for the next look.
async fn settle_outcomes(
    outbox: Outbox,
    mut done: mpsc::Receiver<(Delivery, Outcome)>,
    in_flight: Arc<Mutex<InFlight>>,
    freed: Arc<Notify>,
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
        freed.notify_one();
    }
}
