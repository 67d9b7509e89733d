//! Response-time alerts: a report that misses a target is flagged to operators once per step,
//! at its due time by the hub's clock.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::model::Overdue;
use super::service::Triage;
use crate::bus::{Event, Events};
use crate::problem::Problem;
use crate::store::triage as triage_rows;

/// Most reports flagged in one write; more are flagged on the next pass, straight after.
const BATCH: usize = 500;
/// Sleep at most this long when nothing is due, to recover from anything missed.
const IDLE_CHECK: Duration = Duration::hours(1);

impl Triage {
    /// Flags every report that is late now and was not flagged yet; returns how many alerts.
    pub async fn raise_overdue(&self) -> Result<usize, Problem> {
        let now = self.now();
        self.store()
            .write(move |ctx| {
                let mut raised = 0;
                for (report, steps) in triage_rows::newly_overdue(ctx.conn(), now, BATCH)? {
                    let bits = steps.iter().fold(0, |bits, step| bits | step.bit());
                    triage_rows::mark_overdue_raised(ctx.conn(), report.seq, bits)?;
                    for step in steps {
                        let due_at = match step {
                            super::OverdueStep::Acknowledge => report.triage.acknowledge_due_at,
                            super::OverdueStep::Resolve => report.triage.resolve_due_at,
                        }
                        .unwrap_or(now);
                        let report = report.clone();
                        ctx.emit(Event::Overdue(Arc::new(Overdue {
                            report,
                            step,
                            due_at,
                        })));
                        raised += 1;
                    }
                }
                Ok(raised)
            })
            .await
    }

    async fn next_due(&self) -> Option<DateTime<Utc>> {
        self.store()
            .read(triage_rows::next_due)
            .await
            .ok()
            .flatten()
    }
}

/// Raises alerts when they fall due. It sleeps until the earliest due time, and wakes sooner
/// when a report arrives or changes with an earlier one.
pub async fn run_overdue(triage: Triage, bus: Events, shutdown: CancellationToken) {
    let mut events = bus.subscribe();
    loop {
        match triage.raise_overdue().await {
            Ok(0) => {}
            Ok(raised) => {
                tracing::info!(raised, "reports overdue");
                if raised >= BATCH {
                    continue;
                }
            }
            Err(problem) => {
                tracing::error!(message = %problem.message, "overdue check failed; retrying later");
            }
        }
        let wake_at = triage
            .next_due()
            .await
            .unwrap_or_else(|| triage.now() + IDLE_CHECK);
        let alarm = triage.clock().sleep_until(wake_at);
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = alarm => {}
            _ = earlier_due(&mut events, wake_at) => {}
        }
    }
}

/// Returns once an event brings a due time before `wake_at` (or events were missed).
async fn earlier_due(events: &mut tokio::sync::broadcast::Receiver<Event>, wake_at: DateTime<Utc>) {
    loop {
        let report = match events.recv().await {
            Ok(Event::ReportReceived(report)) => report,
            Ok(Event::ReportChanged(change)) => Arc::new(change.report.clone()),
            Ok(_) => continue,
            Err(RecvError::Lagged(_)) => return,
            Err(RecvError::Closed) => std::future::pending().await,
        };
        let triage = &report.triage;
        let earliest = [triage.acknowledge_due_at, triage.resolve_due_at]
            .into_iter()
            .flatten()
            .min();
        if earliest.is_some_and(|due| due < wake_at) {
            return;
        }
    }
}
