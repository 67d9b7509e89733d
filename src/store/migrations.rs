//! Versioned schema migrations, applied in order at open.

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use super::StoreError;

/// Every migration the schema has ever had. Append only: never edit a released one.
const MIGRATIONS: &[M<'static>] = &[
    M::up(include_str!("migrations/0001_foundation.sql")),
    M::up(include_str!("migrations/0002_notices.sql")),
    M::up(include_str!("migrations/0003_triage.sql")),
    M::up(include_str!("migrations/0004_privacy.sql")),
    M::up(include_str!("migrations/0005_delivery_ledger.sql")),
    M::up(include_str!("migrations/0006_outbox.sql")),
    M::up(include_str!("migrations/0007_outbox_thread_index.sql")),
    M::up(include_str!("migrations/0008_chat.sql")),
    M::up(include_str!("migrations/0009_whatsapp.sql")),
    M::up(include_str!("migrations/0010_notice_upstream.sql")),
    M::up(include_str!("migrations/0011_upstream_alert.sql")),
    M::up(include_str!("migrations/0012_incident_activity_hour.sql")),
    M::up(include_str!("migrations/0013_reply_window.sql")),
];

pub(super) fn apply(conn: &mut Connection) -> Result<(), StoreError> {
    Migrations::from_slice(MIGRATIONS).to_latest(conn)?;
    Ok(())
}
