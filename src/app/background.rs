//! The hub's long-lived work beside the listeners: housekeeping, expiry, overdue alerts,
//! retention, delivery counts, and the metrics listener.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::channels::outbound;
use crate::http;
use crate::hub::Hub;
use crate::notices::{NoticeEventKind, flush_deliveries_periodically, run_expiry};
use crate::triage::{run_overdue, run_retention};

/// Binds `metrics.listen`, if set, and serves `GET /metrics` there without a login.
pub(super) async fn serve_metrics(hub: &Hub) -> anyhow::Result<Option<SocketAddr>> {
    let Some(listen) = hub.config.metrics.listen else {
        return Ok(None);
    };
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen for metrics on {listen}"))?;
    let addr = listener.local_addr()?;
    let shutdown = hub.shutdown.clone();
    let serving = axum::serve(listener, http::metrics_router(hub.clone()))
        .with_graceful_shutdown(shutdown.cancelled_owned());
    hub.tasks.spawn(async move {
        if let Err(err) = serving.await {
            tracing::error!(%err, "the metrics listener failed");
        }
    });
    tracing::info!(%addr, "metrics on http://{addr}/metrics");
    Ok(Some(addr))
}

/// Counts published notices as the bus announces them.
async fn count_published(hub: Hub) {
    let mut notices = hub.events.subscribe_notices();
    while let Some(event) = hub.shutdown.run_until_cancelled(notices.recv()).await {
        match event {
            Ok(event) => {
                if let NoticeEventKind::Published(msg_type) = event.kind {
                    let labels = [("msg_type", msg_type.as_str())];
                    hub.metrics.notices_published.get_or_create(&labels).inc();
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Housekeeping every minute, notice expiry on time, delivery counts saved.
pub(super) fn spawn_background_work(hub: &Hub) {
    hub.tasks.spawn(count_published(hub.clone()));
    let (intake, accounts, outbox, shutdown) = (
        hub.intake.clone(),
        hub.accounts.clone(),
        hub.outbox.clone(),
        hub.shutdown.clone(),
    );
    hub.tasks.spawn(async move {
        crate::clock::every(Duration::from_secs(60), &shutdown, || async {
            intake.limiter().prune();
            if let Err(problem) = accounts.prune().await {
                tracing::warn!(message = %problem.message, "could not remove expired sessions");
            }
            if let Err(problem) = outbox.prune_unconfirmed().await {
                tracing::warn!(message = %problem.message, "could not remove unconfirmed subscriptions");
            }
        })
        .await;
    });
    let (outbox, conversations, shutdown) = (
        hub.outbox.clone(),
        hub.conversations.clone(),
        hub.shutdown.clone(),
    );
    hub.tasks.spawn(async move {
        crate::clock::every(Duration::from_secs(3600), &shutdown, || async {
            if let Err(problem) = outbox.prune_settled().await {
                tracing::warn!(message = %problem.message, "could not prune the outbox's record");
            }
            if let Err(problem) = conversations.prune().await {
                tracing::warn!(message = %problem.message, "could not prune the chat updates taken in");
            }
        })
        .await;
    });
    // The outbound notice channels, each one line on the seam.
    let serve = |channel| outbound::serve(channel, hub.events.clone(), hub.shutdown.clone());
    hub.tasks.spawn(serve(hub.sessions.clone()));
    hub.tasks.spawn(
        hub.followers
            .clone()
            .run(hub.events.clone(), hub.shutdown.clone()),
    );
    let (notices, clock, bus) = (hub.notices.clone(), hub.clock.clone(), hub.events.clone());
    hub.tasks.spawn(run_expiry(
        notices.clone(),
        clock,
        bus,
        hub.shutdown.clone(),
    ));
    hub.tasks
        .spawn(flush_deliveries_periodically(notices, hub.shutdown.clone()));
    hub.tasks.spawn(run_overdue(
        hub.triage.clone(),
        hub.events.clone(),
        hub.shutdown.clone(),
    ));
    let purge_every = Duration::from_secs(u64::from(hub.config.retention.purge_every_hours) * 3600);
    hub.tasks.spawn(run_retention(
        hub.triage.clone(),
        purge_every,
        hub.shutdown.clone(),
    ));
}
