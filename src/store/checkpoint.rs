//! Copying the write-ahead log back into the database: beside the writer, never in a COMMIT.
//!
//! SQLite's automatic checkpoint runs inside the COMMIT that fills the log past its threshold,
//! so that batch's acknowledgements, and every write queued behind it, waited for the copy and
//! a second fsync (a seventh of the writer's time at 128 senders, and the slowest acks). Here
//! SQLite tells the writer, at each commit, how long the log is; once it is long, a thread of
//! its own copies it back while the writer goes on. Copying beside a writer never quite
//! finishes, and only a finished copy lets the log start afresh, so when the background is
//! within a few pages of the end, the writer, between two batches, copies those itself.

use std::cell::Cell;
use std::ffi::c_int;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use rusqlite::Connection;
use rusqlite::hooks::Wal;

use crate::metrics::WriterMetrics;

/// Log frames (pages) after which the background copies the log back. SQLite's default is
/// 1,000; more make each hot page (an index's upper levels, an incident's row) go back once
/// where it went several times, and the fsyncs rarer.
const COPY_FROM: c_int = 3000;
/// Pages left for the writer to copy when the background has caught up this far: few
/// enough that the batch waiting behind it hardly notices.
const FINISH_WITHIN: i64 = 256;
/// The log's bound, checked after each batch: past it the writer copies whatever is left
/// itself as soon as the background is not copying (only one copy runs at a time).
const LOG_LIMIT: c_int = 16_000;

thread_local! {
    /// Frames in the log after the last commit on this thread's connection. Per thread, as
    /// each store's connection lives on its own writer thread (tests run many stores at once).
    static LOG_FRAMES: Cell<c_int> = const { Cell::new(0) };
}

/// What the writer does about the log after answering a batch.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Nothing,
    AskTheBackground,
    FinishItself,
}

/// `backfilled`: how far into the current log the last copy got, if the background is idle.
fn next_step(frames: c_int, backfilled: Option<i64>) -> Step {
    let Some(backfilled) = backfilled else {
        return Step::Nothing;
    };
    if frames >= LOG_LIMIT {
        return Step::FinishItself;
    }
    if frames < COPY_FROM {
        return Step::Nothing;
    }
    if i64::from(frames) - backfilled <= FINISH_WITHIN {
        Step::FinishItself
    } else {
        Step::AskTheBackground
    }
}

/// The writer's side: owns the background thread, which stops when this is dropped.
pub(super) struct Checkpoints {
    background: Option<Background>,
    /// Frames in the log after the previous batch: fewer now means it started afresh.
    last_frames: c_int,
    /// How many times the log started afresh: a copy of an earlier log tells nothing.
    generation: u64,
    metrics: WriterMetrics,
}

impl Checkpoints {
    /// Replaces SQLite's automatic checkpoint on `conn`. Call it on the thread that commits on
    /// `conn`. Without a second connection, the writer does all the copying itself.
    pub(super) fn take_over(conn: &Connection, metrics: &WriterMetrics) -> Checkpoints {
        conn.wal_hook(Some(note_log_length));
        // An in-memory database has the path "": a second connection would open another one.
        let path = conn.path().filter(|path| !path.is_empty());
        let background = match path.map(|path| super::open_writer_connection(path.as_ref())) {
            Some(Ok(second)) => Background::start(second, metrics.clone()),
            Some(Err(err)) => {
                tracing::warn!(%err, "cannot open a connection for checkpoints; the writer will copy the log itself");
                None
            }
            None => None,
        };
        Checkpoints {
            background,
            last_frames: 0,
            generation: 0,
            metrics: metrics.clone(),
        }
    }

    /// Called by the writer between batches, after the answers.
    pub(super) fn after_answers(&mut self, conn: &Connection) {
        let frames = LOG_FRAMES.get();
        if frames < self.last_frames {
            self.generation += 1;
        }
        self.last_frames = frames;
        let Some(background) = &self.background else {
            if frames >= COPY_FROM {
                copy_back(conn, &self.metrics);
            }
            return;
        };
        // The lock is taken only once the log is long.
        let backfilled = match frames >= COPY_FROM {
            true => background.backfilled_if_idle(self.generation),
            false => None,
        };
        match next_step(frames, backfilled) {
            Step::Nothing => {}
            Step::AskTheBackground => background.ask(self.generation),
            Step::FinishItself => {
                if let Some(backfilled) = copy_back(conn, &self.metrics) {
                    background.signal.lock().last_copy = Some((self.generation, backfilled));
                }
            }
        }
    }
}

fn note_log_length(_: &Wal, frames: c_int) -> rusqlite::Result<()> {
    LOG_FRAMES.set(frames);
    Ok(())
}

/// Copies what it can of the log into the database; how far into the log the copy got, in
/// frames. None if the other side was copying (only one copy runs at a time) or on a
/// failure, which leaves the log as it was, to be copied next time.
fn copy_back(conn: &Connection, metrics: &WriterMetrics) -> Option<i64> {
    let started = Instant::now();
    // PASSIVE: never waits, for a reader or for the other side's copy; what either holds is
    // copied next time.
    let outcome = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((
            row.get::<_, bool>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
        ))
    });
    match outcome {
        Ok((true, _, _)) => None,
        Ok((false, log, copied)) => {
            metrics
                .checkpoint_seconds
                .observe(started.elapsed().as_secs_f64());
            tracing::debug!(log, copied, "write-ahead log copied back");
            Some(copied)
        }
        Err(err) => {
            tracing::warn!(%err, "cannot copy the write-ahead log back; trying again later");
            None
        }
    }
}

/// The thread that copies the log back when asked, on a connection of its own.
struct Background {
    signal: Arc<Signal>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Signal {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    /// Asked to copy the log of this generation.
    asked: Option<u64>,
    copying: bool,
    stopping: bool,
    /// The generation of the log the last copy was of, and how far into it the copy got.
    last_copy: Option<(u64, i64)>,
}

impl Signal {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits to be asked; the generation asked for, or None once stopping.
    fn next_request(&self) -> Option<u64> {
        let mut state = self.lock();
        while state.asked.is_none() && !state.stopping {
            state = self
                .wake
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let asked = state.asked.take().filter(|_| !state.stopping);
        state.copying = asked.is_some();
        asked
    }
}

impl Background {
    fn start(conn: Connection, metrics: WriterMetrics) -> Option<Background> {
        let signal = Arc::new(Signal::default());
        let thread_signal = signal.clone();
        let thread = std::thread::Builder::new()
            .name("vedetta-checkpoint".into())
            .spawn(move || {
                while let Some(generation) = thread_signal.next_request() {
                    let backfilled = copy_back(&conn, &metrics);
                    let mut state = thread_signal.lock();
                    state.copying = false;
                    if let Some(backfilled) = backfilled {
                        state.last_copy = Some((generation, backfilled));
                    }
                }
            })
            .map_err(|err| tracing::warn!(%err, "cannot start the checkpoint thread; the writer will copy the log itself"))
            .ok()?;
        Some(Background {
            signal,
            thread: Some(thread),
        })
    }

    /// How far into the log of `generation` the last copy got (0 if it was of an earlier
    /// log), or None while the background is asked or copying.
    fn backfilled_if_idle(&self, generation: u64) -> Option<i64> {
        let state = self.signal.lock();
        if state.asked.is_some() || state.copying {
            return None;
        }
        Some(match state.last_copy {
            Some((of, backfilled)) if of == generation => backfilled,
            _ => 0,
        })
    }

    fn ask(&self, generation: u64) {
        self.signal.lock().asked = Some(generation);
        self.signal.wake.notify_one();
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.signal.lock().stopping = true;
        self.signal.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{COPY_FROM, FINISH_WITHIN, LOG_LIMIT, Step, next_step};
    use crate::bus::Bus;
    use crate::store::{DATABASE_FILE, Store, StoreError};

    const PAGE: u64 = 4096;

    fn size(dir: &std::path::Path, name: &str) -> u64 {
        std::fs::metadata(dir.join(name)).unwrap().len()
    }

    #[test]
    fn a_long_log_goes_to_the_background_and_the_writer_copies_only_the_last_few_pages() {
        let long = COPY_FROM + 2000;
        assert_eq!(next_step(COPY_FROM - 1, Some(0)), Step::Nothing);
        assert_eq!(next_step(long, Some(0)), Step::AskTheBackground);
        assert_eq!(
            next_step(long, None),
            Step::Nothing,
            "the background is at it"
        );
        let nearly = i64::from(long) - FINISH_WITHIN;
        assert_eq!(next_step(long, Some(nearly)), Step::FinishItself);
        assert_eq!(next_step(long, Some(nearly - 1)), Step::AskTheBackground);
        assert_eq!(
            next_step(LOG_LIMIT, Some(0)),
            Step::FinishItself,
            "the bound"
        );
        assert_eq!(
            next_step(LOG_LIMIT, None),
            Step::Nothing,
            "one copy at a time"
        );
    }

    /// Writes about `pages` pages in one batch: each row holds a blob just under a page.
    async fn fill(store: &Store, pages: u64) {
        let sql = format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {pages})
             INSERT INTO filler SELECT zeroblob(4000) FROM n"
        );
        store
            .write(move |ctx| -> Result<(), StoreError> { Ok(ctx.conn().execute_batch(&sql)?) })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn the_log_is_copied_into_the_database_and_starts_afresh_long_before_its_bound() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Bus::new()).unwrap();
        store
            .write(|ctx| -> Result<(), StoreError> {
                Ok(ctx
                    .conn()
                    .execute_batch("CREATE TABLE filler (page BLOB)")?)
            })
            .await
            .unwrap();
        let (limit, batch) = (LOG_LIMIT as u64, 100);
        let frame = PAGE + 24;
        let mut longest = 0;
        for _ in 0..(2 * limit / batch) {
            fill(&store, batch).await;
            longest = longest.max(size(dir.path(), &format!("{DATABASE_FILE}-wal")) / frame);
        }
        let database = size(dir.path(), DATABASE_FILE) / PAGE;
        // SQLite's own checkpoint would have kept the log near 1,000 pages.
        assert!(
            longest >= COPY_FROM as u64,
            "the log reached {longest} pages"
        );
        // Twice the bound written: a log copied only beside the writer would never start
        // afresh, and would have grown to the bound.
        assert!(longest < limit, "the log reached {longest} pages");
        assert!(database > limit, "the database holds {database} pages");
        store.shutdown().await;
    }
}
