//! When the writer copies the write-ahead log back into the database: after a batch's answers.
//!
//! SQLite's automatic checkpoint runs inside the COMMIT that fills the log past its threshold,
//! so one batch in every few hundred waited, acknowledgements and all, for the copy and a
//! second fsync (a tenth of the writer's time at 128 senders, and the slowest acks). The
//! writer takes the checkpoint over: SQLite tells it, at each commit, how long the log is,
//! and it checkpoints once the batch is answered. Being the only writer, it finds no write
//! in progress, so the checkpoint completes and the next transaction starts the log afresh.

use std::cell::Cell;
use std::ffi::c_int;
use std::time::Instant;

use rusqlite::Connection;
use rusqlite::hooks::Wal;

use crate::metrics::WriterMetrics;

/// Log frames (pages) after which the writer checkpoints. SQLite's default is 1,000; four
/// times as many make each hot page (an index's upper levels, an incident's row) go back
/// once where it went four times, and the second fsync a quarter as often, which halved
/// the checkpoints' share of the writer at 128 senders (`cargo bench --bench intake`). Below
/// 4,062 frames the log's index is still one block, so reads cost what they did.
const CHECKPOINT_FRAMES: c_int = 4000;

thread_local! {
    /// Frames in the log after the last commit on this thread's connection. Per thread, as
    /// each store's connection lives on its own writer thread (tests run many stores at once).
    static LOG_FRAMES: Cell<c_int> = const { Cell::new(0) };
}

/// Replaces SQLite's automatic checkpoint on `conn` with [`after_answers`]. Call it on the
/// thread that commits on `conn`.
pub(super) fn take_over(conn: &Connection) {
    conn.wal_hook(Some(note_log_length));
}

fn note_log_length(_: &Wal, frames: c_int) -> rusqlite::Result<()> {
    LOG_FRAMES.set(frames);
    Ok(())
}

/// Checkpoints once the log has grown past [`CHECKPOINT_FRAMES`], as SQLite would have in the
/// last COMMIT. A failure leaves the log as it was: it is tried again after the next commit.
pub(super) fn after_answers(conn: &Connection, metrics: &WriterMetrics) {
    if LOG_FRAMES.get() < CHECKPOINT_FRAMES {
        return;
    }
    LOG_FRAMES.set(0);
    let started = Instant::now();
    // PASSIVE: never waits for a reader; the pages a reader still needs are copied next time.
    let outcome = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
    });
    match outcome {
        Ok((log, copied)) => {
            metrics
                .checkpoint_seconds
                .observe(started.elapsed().as_secs_f64());
            tracing::debug!(log, copied, "write-ahead log checkpointed");
        }
        Err(err) => {
            tracing::warn!(%err, "cannot checkpoint the write-ahead log; trying again after the next commit")
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::bus::Bus;
    use crate::store::{DATABASE_FILE, Store, StoreError};

    const PAGE: u64 = 4096;

    /// Writes about `pages` pages in one batch: each row holds a blob just under a page.
    async fn fill(store: &Store, pages: u32) {
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
    async fn the_writer_copies_the_log_into_the_database_so_the_log_stays_near_its_threshold() {
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
        let threshold = super::CHECKPOINT_FRAMES as u64;
        let batch = 100;
        for _ in 0..(3 * threshold / batch) {
            fill(&store, batch as u32).await;
        }
        let size = |name: &str| std::fs::metadata(dir.path().join(name)).unwrap().len();
        let log = size(&format!("{DATABASE_FILE}-wal"));
        let database = size(DATABASE_FILE);
        // Three times the threshold written: without checkpoints all of it would be in the
        // log, and the log would never start afresh.
        assert!(
            log < (threshold + 3 * batch) * PAGE,
            "log of {} pages",
            log / PAGE
        );
        assert!(
            database > 2 * threshold * PAGE,
            "database of {} pages",
            database / PAGE
        );
        store.shutdown().await;
    }
}
