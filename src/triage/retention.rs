//! Retention: contact details, photos and chat conversations are deleted
//! `retention.personal_data_days` after a report arrived (or a chat fell silent), by a schedule in the hub and by `vedetta purge`. Each run is audited.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::service::Triage;
use crate::problem::Problem;
use crate::store::{StoreError, audit, chats as chat_rows, triage as triage_rows};

/// Reports purged per transaction, so a large backlog never holds the writer for long.
const BATCH: usize = 1000;

/// Purges everything older than `days` on `conn`, in batches; audits the run if it did anything.
pub fn purge_older_than(
    conn: &Connection,
    days: u32,
    now: DateTime<Utc>,
    actor: &str,
) -> Result<usize, StoreError> {
    let cutoff = now - Duration::days(days.into());
    let mut total = 0;
    loop {
        let purged = purge_batch(conn, cutoff, now)?;
        total += purged;
        if purged < BATCH {
            break;
        }
    }
    if total > 0 {
        audit_run(conn, actor, now, cutoff, total)?;
    }
    Ok(total)
}

fn purge_batch(
    conn: &Connection,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    // Chats that made no report are personal data too: a position, a chat id.
    chat_rows::purge_idle(conn, cutoff.timestamp_millis())?;
    triage_rows::purge_personal_data(conn, cutoff, now, BATCH)
}

fn audit_run(
    conn: &Connection,
    actor: &str,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
    purged: usize,
) -> Result<(), StoreError> {
    let detail = json!({ "reports": purged, "received_before": cutoff });
    audit::append(
        conn,
        now.timestamp_millis(),
        actor,
        "retention.purge",
        None,
        &detail,
    )
}

impl Triage {
    /// One purge through the writer, one batch per transaction.
    pub async fn purge(&self, actor: &str) -> Result<usize, Problem> {
        let days = self.settings().retention_days;
        let now = self.now();
        let cutoff = now - Duration::days(days.into());
        let mut total = 0;
        loop {
            let purged = self
                .store()
                .write(move |ctx| purge_batch(ctx.conn(), cutoff, now))
                .await?;
            total += purged;
            if purged < BATCH {
                break;
            }
        }
        if total > 0 {
            let actor = actor.to_owned();
            self.store()
                .write(move |ctx| audit_run(ctx.conn(), &actor, now, cutoff, total))
                .await?;
            tracing::info!(
                reports = total,
                "personal data purged after the retention period"
            );
        }
        Ok(total)
    }
}

/// Purges at start and then every `every`, until shutdown.
pub async fn run_retention(triage: Triage, every: StdDuration, shutdown: CancellationToken) {
    crate::clock::every(every, &shutdown, || async {
        if let Err(problem) = triage.purge("system").await {
            tracing::error!(message = %problem.message, "retention purge failed; retrying at the next run");
        }
    })
    .await;
}
