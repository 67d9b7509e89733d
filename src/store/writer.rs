//! The single writer thread: drains queued jobs, runs them in one transaction, commits, then answers.

use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Instant;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::StoreError;
use super::write_ctx::WriteCtx;
use crate::bus::Bus;
use crate::metrics::WriterMetrics;

/// Jobs waiting for the writer. When full, `Store::write` callers wait: backpressure, not loss.
const QUEUE_CAPACITY: usize = 4096;
/// Upper bound on one transaction, so a flood cannot hold the write lock indefinitely.
const MAX_BATCH: usize = 512;

type Reply = Box<dyn FnOnce(Result<(), &str>) + Send>;
type Job = Box<dyn FnOnce(&mut WriteCtx<'_>) -> Reply + Send>;

enum Msg {
    Job(Job),
    Shutdown,
}

pub(super) struct WriterHandle {
    /// Bounded: see `QUEUE_CAPACITY`.
    jobs_tx: mpsc::Sender<Msg>,
    /// Taken by `shutdown`, which joins the thread.
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl WriterHandle {
    pub(super) fn spawn(conn: Connection, bus: Bus, metrics: WriterMetrics) -> WriterHandle {
        let (jobs_tx, jobs_rx) = mpsc::channel(QUEUE_CAPACITY);
        let thread = std::thread::Builder::new()
            .name("vedetta-writer".into())
            .spawn(move || run(conn, jobs_rx, bus, metrics))
            .expect("spawning the writer thread");
        WriterHandle {
            jobs_tx,
            thread: Mutex::new(Some(thread)),
        }
    }

    pub(super) async fn submit<T, E, F>(&self, op: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>) -> Result<T, E> + Send + 'static,
    {
        let (reply_tx, reply_rx) = oneshot::channel();
        let job: Job = Box::new(move |ctx| {
            let result = ctx.run_in_savepoint(op);
            let jobs = ctx.metrics.jobs.clone();
            Box::new(move |commit: Result<(), &str>| {
                let answer = match commit {
                    Ok(()) => result,
                    Err(cause) => Err(StoreError::Commit(cause.to_owned()).into()),
                };
                let outcome = if answer.is_ok() {
                    "committed"
                } else {
                    "failed"
                };
                jobs.get_or_create(&[("outcome", outcome)]).inc();
                let _ = reply_tx.send(answer);
            })
        });
        self.jobs_tx
            .send(Msg::Job(job))
            .await
            .map_err(|_| StoreError::Closed)?;
        reply_rx.await.map_err(|_| StoreError::Closed)?
    }

    pub(super) async fn shutdown(&self) {
        let _ = self.jobs_tx.send(Msg::Shutdown).await;
        let thread = self.thread.lock().expect("writer handle lock").take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

fn run(conn: Connection, mut jobs_rx: mpsc::Receiver<Msg>, bus: Bus, metrics: WriterMetrics) {
    while let Some(batch) = next_batch(&mut jobs_rx) {
        if !batch.is_empty() {
            commit_batch(&conn, batch, &bus, &metrics);
        }
    }
    tracing::debug!("writer drained and stopped");
}

/// Waits for one job, then takes whatever else is already queued. `None` once closed and empty.
fn next_batch(jobs_rx: &mut mpsc::Receiver<Msg>) -> Option<Vec<Job>> {
    let mut batch = Vec::new();
    match jobs_rx.blocking_recv()? {
        Msg::Job(job) => batch.push(job),
        // Closing keeps what is already queued receivable, so nothing accepted is dropped.
        Msg::Shutdown => jobs_rx.close(),
    }
    while batch.len() < MAX_BATCH {
        match jobs_rx.try_recv() {
            Ok(Msg::Job(job)) => batch.push(job),
            Ok(Msg::Shutdown) => jobs_rx.close(),
            Err(_) => break,
        }
    }
    Some(batch)
}

fn commit_batch(conn: &Connection, batch: Vec<Job>, bus: &Bus, metrics: &WriterMetrics) {
    let started = Instant::now();
    if let Err(err) = conn.execute_batch("BEGIN IMMEDIATE") {
        let cause = err.to_string();
        tracing::error!(%cause, "cannot start a write transaction");
        let ctx = &mut WriteCtx {
            conn,
            events: Vec::new(),
            poisoned: true,
            metrics,
        };
        for job in batch {
            job(ctx)(Err(&cause));
        }
        return;
    }
    let mut ctx = WriteCtx {
        conn,
        events: Vec::new(),
        poisoned: false,
        metrics,
    };
    let replies: Vec<Reply> = batch.into_iter().map(|job| job(&mut ctx)).collect();
    let outcome = finish_transaction(conn, ctx.poisoned);
    match &outcome {
        Ok(()) => {
            metrics.batch_size.observe(replies.len() as f64);
            metrics
                .commit_seconds
                .observe(started.elapsed().as_secs_f64());
            bus.publish_all(ctx.events);
        }
        Err(cause) => tracing::error!(%cause, batch = replies.len(), "write batch rolled back"),
    }
    for reply in replies {
        reply(outcome.as_ref().map(|_| ()).map_err(String::as_str));
    }
}

fn finish_transaction(conn: &Connection, poisoned: bool) -> Result<(), String> {
    let committed = if poisoned {
        Err("a savepoint could not be rolled back".to_owned())
    } else {
        conn.execute_batch("COMMIT").map_err(|err| err.to_string())
    };
    if committed.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    committed
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::bus::{Bus, Event};
    use crate::model::{ClientRef, Location, Source};
    use crate::store::reports::{NewReport, insert};
    use crate::store::{Store, StoreError};

    fn new_report(client_ref: &str) -> NewReport {
        NewReport {
            id: client_ref.to_owned(),
            source: Source::Http,
            device_id: None,
            client_ref: ClientRef::parse(client_ref, "client_ref").unwrap(),
            fingerprint: vec![],
            category: "fire".into(),
            location: Location {
                lat: 44.0,
                lon: 11.0,
            },
            text: String::new(),
            contact: None,
            media_url: None,
            photo: None,
            zones: vec![],
            in_area: false,
            received_at: chrono::Utc::now(),
            acknowledge_due_at: None,
            resolve_due_at: None,
            incident_id: None,
            follow_token_hash: None,
        }
    }

    async fn count(store: &Store) -> i64 {
        store
            .read(|conn| -> Result<i64, StoreError> {
                Ok(conn.query_row("SELECT count(*) FROM reports", [], |r| r.get(0))?)
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_failing_write_leaves_no_trace_and_its_neighbours_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Bus::new()).unwrap();
        let writes: Vec<_> = (0..20)
            .map(|n| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .write(move |ctx| {
                            insert(ctx.conn(), new_report(&format!("r{n}")))?;
                            if n % 2 == 0 {
                                Err(StoreError::Corrupt("refused".into()))
                            } else {
                                Ok(())
                            }
                        })
                        .await
                })
            })
            .collect();

        let mut outcomes = Vec::new();
        for write in writes {
            outcomes.push(write.await.unwrap().is_ok());
        }

        assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 10);
        assert_eq!(count(&store).await, 10);
        store.shutdown().await;
    }

    #[tokio::test]
    async fn events_reach_the_bus_only_for_writes_that_committed() {
        let dir = tempfile::tempdir().unwrap();
        let bus = Bus::new();
        let mut events = bus.subscribe();
        let store = Store::open(dir.path(), bus).unwrap();

        let failed: Result<(), StoreError> = store
            .write(|ctx| {
                let report = insert(ctx.conn(), new_report("lost"))?;
                ctx.emit(Event::ReportReceived(Arc::new(report)));
                Err(StoreError::Corrupt("refused".into()))
            })
            .await;
        let kept: Result<(), StoreError> = store
            .write(|ctx| {
                let report = insert(ctx.conn(), new_report("kept"))?;
                ctx.emit(Event::ReportReceived(Arc::new(report)));
                Ok(())
            })
            .await;

        assert!(failed.is_err() && kept.is_ok());
        let Event::ReportReceived(report) = events.recv().await.unwrap() else {
            panic!("only a report event was published");
        };
        assert_eq!(report.id, "kept");
        assert!(events.try_recv().is_err(), "nothing else was published");
        store.shutdown().await;
    }

    #[tokio::test]
    async fn a_panicking_write_fails_alone_and_the_writer_keeps_committing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Bus::new()).unwrap();

        let panicked: Result<(), StoreError> = store
            .write(|ctx| {
                insert(ctx.conn(), new_report("half-written"))?;
                panic!("a bug in a write job");
            })
            .await;
        let next: Result<(), StoreError> = store
            .write(|ctx| insert(ctx.conn(), new_report("after")).map(|_| ()))
            .await;

        assert!(
            matches!(panicked, Err(StoreError::Panicked(ref cause)) if cause.contains("a bug"))
        );
        assert!(next.is_ok(), "the writer survived: {next:?}");
        assert_eq!(
            count(&store).await,
            1,
            "the panicking job's insert was rolled back"
        );
        let panics = store
            .writer_metrics()
            .jobs
            .get_or_create(&[("outcome", "panicked")])
            .get();
        assert_eq!(panics, 1);
        store.shutdown().await;
    }

    #[tokio::test]
    async fn writes_after_shutdown_are_refused_and_queued_ones_are_committed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Bus::new()).unwrap();
        let queued = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write(|ctx| insert(ctx.conn(), new_report("queued")).map(|_| ()))
                    .await
            })
        };
        queued.await.unwrap().unwrap();

        store.shutdown().await;
        let late: Result<(), StoreError> = store.write(|_| Ok(())).await;

        assert!(matches!(late, Err(StoreError::Closed)));
        assert_eq!(count(&store).await, 1);
    }
}
