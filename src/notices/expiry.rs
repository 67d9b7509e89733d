//! Background work of the notices: expiring them on time, saving delivery counts.

use std::time::Duration;

use chrono::Duration as ChronoDuration;
use tokio_util::sync::CancellationToken;

use super::service::Notices;
use crate::bus::Events;
use crate::clock::SharedClock;
use crate::store::notices as notice_rows;

/// How long the scheduler sleeps when no notice is due, before looking again anyway.
const IDLE_CHECK: ChronoDuration = ChronoDuration::hours(1);
const FLUSH_EVERY: Duration = Duration::from_secs(5);

/// Expires notices when their time comes. It wakes at the next expiry (by the hub's clock) or
/// when a notice is published, since that one may expire sooner.
pub async fn run_expiry(
    notices: Notices,
    clock: SharedClock,
    bus: Events,
    shutdown: CancellationToken,
) {
    let mut published = bus.subscribe_notices();
    loop {
        match notices.expire_due().await {
            Ok(0) => {}
            Ok(expired) => tracing::info!(expired, "notices expired"),
            Err(problem) => {
                tracing::error!(message = %problem.message, "expiring notices failed; retrying later");
            }
        }
        let next = notices.next_expiry().await.ok().flatten();
        let wake_at = next.unwrap_or_else(|| clock.now() + IDLE_CHECK);
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = clock.sleep_until(wake_at) => {}
            _ = published.recv() => {}
        }
    }
}

/// Saves delivery counters to the store every few seconds, and once more at shutdown.
pub async fn flush_deliveries_periodically(notices: Notices, shutdown: CancellationToken) {
    crate::clock::every(FLUSH_EVERY, &shutdown, || flush(&notices)).await;
    flush(&notices).await;
}

async fn flush(notices: &Notices) {
    let counts = notices.deliveries().snapshot();
    if counts.is_empty() {
        return;
    }
    let saved = notices
        .inner
        .store
        .write(move |ctx| {
            for (id, totals) in &counts {
                notice_rows::save_deliveries(ctx.conn(), id, totals)?;
            }
            Ok::<_, crate::store::StoreError>(())
        })
        .await;
    if let Err(err) = saved {
        tracing::warn!(%err, "could not save delivery counts; keeping them in memory");
    }
}
