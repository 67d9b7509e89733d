//! SQLite persistence: one writer thread with group commit, a pool of read connections, migrations.
//!
//! Every write goes through [`Store::write`], which hands a closure to the writer thread. The
//! writer runs whatever is queued in one transaction, commits, answers each caller, then
//! publishes the batch's events on the [`Bus`]. Reads run on a small pool of read-only
//! connections on the blocking thread pool; WAL mode lets them proceed while the writer commits.

pub(crate) mod audit;
pub(crate) mod chats;
mod checkpoint;
mod conditions;
pub(crate) mod field;
pub(crate) mod follow_tokens;
pub(crate) mod incidents;
mod migrations;
pub(crate) mod notice_archive;
pub(crate) mod notice_upstream;
pub(crate) mod notices;
pub(crate) mod outbox;
mod outbox_due;
pub(crate) mod outbox_late;
pub(crate) mod public_stats;
pub(crate) mod reports;
pub(crate) mod stats;
pub(crate) mod subscriptions;
pub(crate) mod triage;
pub(crate) mod users;
mod write_ctx;
mod writer;
pub(crate) mod zones;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Connection;
use tokio::sync::Semaphore;

use self::writer::Isolation;
use crate::bus::Bus;
use crate::metrics::WriterMetrics;
pub(crate) use write_ctx::WriteCtx;

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "vedetta.sqlite3";
/// How long a connection waits for a lock held by another process (the CLI, a backup).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Read connections: enough for concurrent API reads on a 2-4 core office machine.
const READ_POOL_SIZE: u32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("the transaction could not be committed: {0}")]
    Commit(String),
    #[error("no read connection available: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    #[error("the store is shut down")]
    Closed,
    #[error("a write job panicked: {0}")]
    Panicked(String),
}

/// Cheap-to-clone handle to the database.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    writer: writer::WriterHandle,
    /// Read-only connections; r2d2 hands them out to blocking tasks.
    readers: r2d2::Pool<SqliteConnectionManager>,
    /// One per read connection, taken before a read goes to the blocking pool: reads beyond
    /// the pool wait here, as tasks, instead of as blocked threads, each with its stack.
    read_permits: Arc<Semaphore>,
    path: PathBuf,
    metrics: WriterMetrics,
}

impl Store {
    /// Opens (or creates) the database in `data_dir`, migrates it, and starts the writer thread.
    pub fn open(data_dir: &Path, bus: Bus) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(DATABASE_FILE);
        let mut conn = open_writer_connection(&path)?;
        migrations::apply(&mut conn)?;
        // A connection to a local file does not go stale: testing it on every check-out (an
        // empty statement, r2d2's default) would cost every read for nothing.
        let readers = r2d2::Pool::builder()
            .max_size(READ_POOL_SIZE)
            .test_on_check_out(false)
            .build(SqliteConnectionManager::file(&path).with_init(init_reader))?;
        let metrics = WriterMetrics::default();
        let writer = writer::WriterHandle::spawn(conn, bus, metrics.clone());
        Ok(Store {
            inner: Arc::new(Inner {
                writer,
                read_permits: Arc::new(Semaphore::new(READ_POOL_SIZE as usize)),
                readers,
                path,
                metrics,
            }),
        })
    }

    /// The writer's batch sizes, commit times and job outcomes, for `/metrics`.
    pub fn writer_metrics(&self) -> &WriterMetrics {
        &self.inner.metrics
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `op` inside the next group-commit transaction and returns its result after COMMIT.
    ///
    /// `op` runs in its own savepoint: if it fails, only its own changes and events are undone.
    pub async fn write<T, E, F>(&self, op: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>) -> Result<T, E> + Send + 'static,
    {
        self.inner.writer.submit(op, Isolation::Savepoint).await
    }

    /// [`Store::write`] without the savepoint, for a hot path whose `op` refuses before its
    /// first change: if it fails after one, the whole batch rolls back and every job in it,
    /// whatever its kind, gets an error (none was acknowledged; each caller may retry).
    pub async fn write_undivided<T, E, F>(&self, op: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>) -> Result<T, E> + Send + 'static,
    {
        self.inner.writer.submit(op, Isolation::Undivided).await
    }

    /// Runs `op` on a read-only connection, off the async runtime.
    pub async fn read<T, E, F>(&self, op: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        let pool = self.inner.readers.clone();
        let permit = self.inner.read_permits.clone().acquire_owned().await;
        let permit = permit.map_err(|_| StoreError::Closed)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = pool.get().map_err(StoreError::from)?;
            op(&conn)
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    /// Finishes every write already queued, then stops the writer thread.
    pub async fn shutdown(&self) {
        self.inner.writer.shutdown().await;
    }
}

fn open_writer_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL lets readers run during a commit; FULL makes every acknowledged commit survive power loss.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Each job in a group commit runs in its own savepoint, whose undo pages SQLite keeps in a
    // sub-journal: a temporary file by default, written on every first touch of a page. It only
    // serves rolling back a failed job inside the open transaction, never crash recovery (the
    // WAL does that), so memory is the right place, and it cut a fifth of the writer's time.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Every domain's writes share this connection; rusqlite's default of 16 cached statements
    // would have them evict each other's and prepare again in the middle of a batch.
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

fn init_reader(conn: &mut Connection) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "query_only", "ON")?;
    conn.pragma_update(None, "foreign_keys", "ON")
}

/// Opens a standalone connection for a command-line tool that runs beside or without the hub.
pub fn open_for_tool(data_dir: &Path) -> Result<Connection, StoreError> {
    std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
        path: data_dir.to_owned(),
        source,
    })?;
    let mut conn = open_writer_connection(&data_dir.join(DATABASE_FILE))?;
    migrations::apply(&mut conn)?;
    Ok(conn)
}

/// Records that a write went through, for the readiness probe: one row, overwritten.
pub(crate) fn touch_health_probe(conn: &Connection, now_millis: i64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO health_probe (id, checked_at) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
        [now_millis],
    )?;
    Ok(())
}

/// A stored value the hub cannot read back (an unknown state, JSON that does not parse): the
/// row was written by something else, or the file is damaged.
pub(crate) fn corrupt(column: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        column,
        rusqlite::types::Type::Text,
        what.to_owned().into(),
    )
}

/// The least cursor a new notice event or reporter update may take: the machine's clock in
/// milliseconds. Cursors so never fall behind real time, and none comes back after a backup
/// is restored (see README, "Backups").
pub(crate) fn cursor_floor() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
