//! What one write job sees inside the writer's batch transaction: the connection, its own
//! savepoint (rolled back alone if the job fails or panics) or none, and the events published on COMMIT.

use std::panic::AssertUnwindSafe;

use rusqlite::Connection;

use super::StoreError;
use crate::bus::Event;
use crate::metrics::WriterMetrics;

/// What a write operation sees: the connection, inside the batch transaction, and an event list.
pub struct WriteCtx<'c> {
    pub(super) conn: &'c Connection,
    /// Events of the jobs that succeeded so far; published only if the batch commits.
    pub(super) events: Vec<Event>,
    /// Incidents the jobs that succeeded so far changed without reading them back: each is
    /// read once after COMMIT and published with the events.
    pub(super) changed_incidents: Vec<String>,
    /// Set when a savepoint could not be undone: the whole batch must roll back.
    pub(super) poisoned: bool,
    pub(super) metrics: &'c WriterMetrics,
}

impl<'c> WriteCtx<'c> {
    pub(super) fn new(conn: &'c Connection, metrics: &'c WriterMetrics) -> WriteCtx<'c> {
        WriteCtx {
            conn,
            events: Vec::new(),
            changed_incidents: Vec::new(),
            poisoned: false,
            metrics,
        }
    }

    pub fn conn(&self) -> &Connection {
        self.conn
    }

    /// Queues an event for the bus. It is published after COMMIT, or never.
    pub fn emit(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Says that incident `id` changed, for staff to be told its state after COMMIT. Cheaper
    /// than emitting it: a batch of reports into one incident reads it once, not per report.
    pub fn incident_changed(&mut self, id: &str) {
        if self.changed_incidents.last().is_none_or(|last| last != id) {
            self.changed_incidents.push(id.to_owned());
        }
    }

    /// Where this job's events and changes begin, to forget them should it fail.
    fn mark(&self) -> (usize, usize) {
        (self.events.len(), self.changed_incidents.len())
    }

    fn forget_since(&mut self, (events, incidents): (usize, usize)) {
        self.events.truncate(events);
        self.changed_incidents.truncate(incidents);
    }

    pub(super) fn run_in_savepoint<T, E, F>(&mut self, op: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: FnOnce(&mut WriteCtx<'_>) -> Result<T, E>,
    {
        if self.poisoned {
            return Err(StoreError::Commit("an earlier write in this batch failed".into()).into());
        }
        self.exec("SAVEPOINT job").map_err(E::from)?;
        let mark = self.mark();
        let result = self.run_catching_panics(op);
        let closed = match result {
            Ok(_) => self.exec("RELEASE job"),
            Err(_) => {
                self.forget_since(mark);
                self.exec("ROLLBACK TO job")
                    .and_then(|()| self.exec("RELEASE job"))
            }
        };
        if let Err(err) = closed {
            self.poisoned = true;
            return Err(err.into());
        }
        result
    }

    /// Runs `op` without a savepoint of its own: for a job that checks everything it can refuse
    /// for before its first change. Should it fail after changing something, nothing can undo
    /// that change alone, so the whole batch rolls back and every job in it fails unanswered
    /// but for the error, to be retried; none of them was acknowledged.
    pub(super) fn run_undivided<T, E, F>(&mut self, op: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: FnOnce(&mut WriteCtx<'_>) -> Result<T, E>,
    {
        if self.poisoned {
            return Err(StoreError::Commit("an earlier write in this batch failed".into()).into());
        }
        let changes_before = self.conn.total_changes();
        let mark = self.mark();
        let result = self.run_catching_panics(op);
        if result.is_err() {
            self.forget_since(mark);
            if self.conn.total_changes() != changes_before {
                self.poisoned = true;
            }
        }
        // SQLite rolls the whole transaction back by itself on some errors (a full disk, an
        // I/O error); whatever ran after that would commit on its own, outside the batch.
        if self.conn.is_autocommit() {
            self.poisoned = true;
        }
        result
    }

    /// Runs `op`; a panic inside it becomes this job's failure, so that one faulty write
    /// cannot end the writer thread and with it every later write.
    fn run_catching_panics<T, E, F>(&mut self, op: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: FnOnce(&mut WriteCtx<'_>) -> Result<T, E>,
    {
        match std::panic::catch_unwind(AssertUnwindSafe(|| op(self))) {
            Ok(result) => result,
            Err(panic) => {
                let cause = panic_message(&*panic);
                tracing::error!(%cause, "a write job panicked; it was rolled back and the writer goes on");
                self.metrics.job("panicked");
                Err(StoreError::Panicked(cause).into())
            }
        }
    }

    fn exec(&self, sql: &str) -> Result<(), StoreError> {
        self.conn.prepare_cached(sql)?.execute([])?;
        Ok(())
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}
