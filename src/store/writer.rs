//! The single writer thread: drains queued jobs, runs them in one transaction, commits, then answers.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::StoreError;
use super::checkpoint::Checkpoints;
use super::write_ctx::WriteCtx;
use crate::bus::{Bus, Event};
use crate::metrics::WriterMetrics;

/// Jobs waiting for the writer. When full, `Store::write` callers wait: backpressure, not loss.
const QUEUE_CAPACITY: usize = 4096;
/// Upper bound on one transaction, so a flood cannot hold the write lock indefinitely.
const MAX_BATCH: usize = 512;
/// How long the writer keeps looking for the next job before it sleeps, while jobs come one at
/// a time, each within this long of the last commit: a client that sends its next write on the
/// ack of the last (a tablet syncing its queue) is back within a few hundred µs, and waking a
/// sleeping thread costs tens of µs on a small VM (measured with `cargo bench --bench intake`,
/// one sender). After a bigger batch, or a longer gap, the writer sleeps at once and leaves
/// the cores to the tasks that fill it.
const SPIN_BEFORE_SLEEP: Duration = Duration::from_micros(300);
/// The other side of the same hand-off: a write that finds the writer idle, with nothing else
/// queued, looks for its answer this long (yielding to every other task between looks) before
/// its task sleeps. Waking a sleeping task from the writer thread costs 25–50 µs on a small VM
/// (a thread blocked on a plain channel: about 5), a tenth of a lone report's round trip. One
/// write at a time waits so; a busy writer's callers sleep.
const AWAKE_FOR: Duration = Duration::from_micros(500);

type Reply = Box<dyn FnOnce(Result<(), &str>) + Send>;
type Job = Box<dyn FnOnce(&mut WriteCtx<'_>) -> Reply + Send>;

enum Msg {
    Job(Job),
    Shutdown,
}

/// How a job's failure is kept from its neighbours in the batch.
#[derive(Debug, Clone, Copy)]
pub(super) enum Isolation {
    /// Its own savepoint: a failure undoes its changes only.
    Savepoint,
    /// No savepoint (SQLite copies every page a savepoint touches): a failure after a change
    /// rolls the whole batch back. See [`WriteCtx::run_undivided`].
    Undivided,
}

pub(super) struct WriterHandle {
    /// Bounded: see `QUEUE_CAPACITY`.
    jobs_tx: mpsc::Sender<Msg>,
    /// Taken by `shutdown`, which joins the thread.
    thread: Mutex<Option<JoinHandle<()>>>,
    activity: Arc<Activity>,
}

/// What a caller checks before waiting awake (see `AWAKE_FOR`).
#[derive(Default)]
struct Activity {
    /// The writer is waiting for a job, or has only just been handed some.
    waiting_for_jobs: AtomicBool,
    /// A caller holds the right to wait awake (until its answer comes, awake or not).
    awake_waiter: AtomicBool,
}

impl WriterHandle {
    pub(super) fn spawn(conn: Connection, bus: Bus, metrics: WriterMetrics) -> WriterHandle {
        let (jobs_tx, jobs_rx) = mpsc::channel(QUEUE_CAPACITY);
        let activity = Arc::new(Activity::default());
        let writer_activity = activity.clone();
        let thread = std::thread::Builder::new()
            .name("vedetta-writer".into())
            .spawn(move || run(conn, jobs_rx, bus, metrics, &writer_activity))
            .expect("spawning the writer thread");
        WriterHandle {
            jobs_tx,
            thread: Mutex::new(Some(thread)),
            activity,
        }
    }

    pub(super) async fn submit<T, E, F>(&self, op: F, isolation: Isolation) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>) -> Result<T, E> + Send + 'static,
    {
        let (reply_tx, reply_rx) = oneshot::channel();
        let job: Job = Box::new(move |ctx| {
            let result = match isolation {
                Isolation::Savepoint => ctx.run_in_savepoint(op),
                Isolation::Undivided => ctx.run_undivided(op),
            };
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
        let awake = self.claim_awake_wait();
        self.jobs_tx
            .send(Msg::Job(job))
            .await
            .map_err(|_| StoreError::Closed)?;
        let answer = match awake {
            Some(_claim) => wait_awake(reply_rx).await,
            None => reply_rx.await.ok(),
        };
        answer.ok_or(StoreError::Closed)?
    }

    /// The right to wait awake, if the writer waits for jobs, none is queued and no other
    /// caller waits so: the job about to be sent is then likely to be committed alone, at once.
    fn claim_awake_wait(&self) -> Option<AwakeClaim<'_>> {
        let queued = self.jobs_tx.max_capacity() - self.jobs_tx.capacity();
        let activity = &self.activity;
        let idle = queued == 0 && activity.waiting_for_jobs.load(Ordering::Acquire);
        let claimed = idle
            && activity
                .awake_waiter
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok();
        claimed.then_some(AwakeClaim(activity))
    }

    pub(super) async fn shutdown(&self) {
        let _ = self.jobs_tx.send(Msg::Shutdown).await;
        let thread = self.thread.lock().expect("writer handle lock").take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

/// Held while a caller waits awake; given back however the wait ends (a dropped future too).
struct AwakeClaim<'a>(&'a Activity);

impl Drop for AwakeClaim<'_> {
    fn drop(&mut self) {
        self.0.awake_waiter.store(false, Ordering::Release);
    }
}

/// The answer, looked for between other tasks' turns for `AWAKE_FOR`, then slept for.
async fn wait_awake<T>(mut reply_rx: oneshot::Receiver<T>) -> Option<T> {
    let started = Instant::now();
    while started.elapsed() < AWAKE_FOR {
        match reply_rx.try_recv() {
            Ok(answer) => return Some(answer),
            Err(oneshot::error::TryRecvError::Closed) => return None,
            Err(oneshot::error::TryRecvError::Empty) => {
                // The core too, not just the runtime: the writer may be waiting for one.
                std::thread::yield_now();
                tokio::task::yield_now().await;
            }
        }
    }
    reply_rx.await.ok()
}

fn run(
    conn: Connection,
    mut jobs_rx: mpsc::Receiver<Msg>,
    bus: Bus,
    metrics: WriterMetrics,
    activity: &Activity,
) {
    let mut checkpoints = Checkpoints::take_over(&conn, &metrics);
    let mut spin = false;
    loop {
        let idle_since = Instant::now();
        activity.waiting_for_jobs.store(true, Ordering::Release);
        let next = next_batch(&mut jobs_rx, spin);
        activity.waiting_for_jobs.store(false, Ordering::Release);
        let Some(batch) = next else {
            break;
        };
        // Only a gap the spin would have caught makes the writer spin for the next job: a
        // steady trickle (the outbox settling every few ms) lets it sleep.
        spin = batch.len() == 1 && idle_since.elapsed() < SPIN_BEFORE_SLEEP;
        if !batch.is_empty() {
            commit_batch(&conn, batch, &bus, &metrics);
            checkpoints.after_answers(&conn);
        }
    }
    tracing::debug!("writer drained and stopped");
}

/// Waits for one job (looking for it a moment first when `spin`), then takes whatever else is
/// already queued. `None` once closed and empty.
fn next_batch(jobs_rx: &mut mpsc::Receiver<Msg>, spin: bool) -> Option<Vec<Job>> {
    let mut batch = Vec::new();
    let spun = if spin { spin_for_next(jobs_rx) } else { None };
    let first = match spun {
        Some(msg) => msg,
        None => jobs_rx.blocking_recv()?,
    };
    match first {
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

/// The next message if one comes within `SPIN_BEFORE_SLEEP`, yielding the core meanwhile.
fn spin_for_next(jobs_rx: &mut mpsc::Receiver<Msg>) -> Option<Msg> {
    let started = Instant::now();
    loop {
        match jobs_rx.try_recv() {
            Ok(msg) => return Some(msg),
            Err(mpsc::error::TryRecvError::Disconnected) => return None,
            Err(mpsc::error::TryRecvError::Empty) if started.elapsed() > SPIN_BEFORE_SLEEP => {
                return None;
            }
            Err(mpsc::error::TryRecvError::Empty) => std::thread::yield_now(),
        }
    }
}

fn commit_batch(conn: &Connection, batch: Vec<Job>, bus: &Bus, metrics: &WriterMetrics) {
    let started = Instant::now();
    if let Err(err) = execute_cached(conn, "BEGIN IMMEDIATE") {
        let cause = err.to_string();
        tracing::error!(%cause, "cannot start a write transaction");
        let ctx = &mut WriteCtx::new(conn, metrics);
        ctx.poisoned = true;
        for job in batch {
            job(ctx)(Err(&cause));
        }
        return;
    }
    let mut ctx = WriteCtx::new(conn, metrics);
    let replies: Vec<Reply> = batch.into_iter().map(|job| job(&mut ctx)).collect();
    let outcome = finish_transaction(conn, ctx.poisoned);
    match &outcome {
        Ok(()) => {
            metrics.batch_size.observe(replies.len() as f64);
            metrics
                .commit_seconds
                .observe(started.elapsed().as_secs_f64());
        }
        Err(cause) => tracing::error!(%cause, batch = replies.len(), "write batch rolled back"),
    }
    // The writers waiting on this batch are answered before the bus wakes its listeners, so an
    // acknowledgement never queues behind the work the events start.
    for reply in replies {
        reply(outcome.as_ref().map(|_| ()).map_err(String::as_str));
    }
    if outcome.is_ok() {
        let mut events = ctx.events;
        events.extend(read_incidents(conn, ctx.changed_incidents));
        bus.publish_all(latest_incident_states(events));
    }
}

/// The committed state of each incident a batch changed without reading it back, read after
/// the answers, so that no acknowledgement waits for it. Only this thread writes incidents,
/// so what it reads is what the batch committed. If the read fails, the event is lost (not
/// the change): staff see it when they next open the incident or the list.
fn read_incidents(conn: &Connection, ids: Vec<String>) -> Vec<Event> {
    let mut seen = HashSet::new();
    ids.into_iter()
        .filter(|id| seen.insert(id.clone()))
        .filter_map(|id| match super::incidents::get(conn, &id) {
            Ok(Some(incident)) => Some(Event::Incident(Arc::new(incident))),
            Ok(None) => None,
            Err(err) => {
                tracing::error!(incident = %id, %err, "cannot read back a changed incident to tell staff");
                None
            }
        })
        .collect()
}

/// The batch's events with only the last state of each incident: each carries the whole
/// incident, so earlier ones from the same batch would only make every listener work twice.
fn latest_incident_states(mut events: Vec<Event>) -> Vec<Event> {
    let mut seen = HashSet::new();
    let mut keep = vec![true; events.len()];
    for (at, event) in events.iter().enumerate().rev() {
        if let Event::Incident(incident) = event {
            keep[at] = seen.insert(incident.id.clone());
        }
    }
    let mut flags = keep.into_iter();
    events.retain(|_| flags.next().unwrap_or(true));
    events
}

fn finish_transaction(conn: &Connection, poisoned: bool) -> Result<(), String> {
    let committed = if poisoned {
        Err("a write in this batch could not be undone alone".to_owned())
    } else {
        execute_cached(conn, "COMMIT").map_err(|err| err.to_string())
    };
    if committed.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    committed
}

/// Runs a statement every batch runs, prepared once: `execute_batch` would parse it each time,
/// twice per commit.
fn execute_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
