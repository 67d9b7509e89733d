//! The writer's guarantees: failures stay in their job or batch, events follow COMMIT, shutdown drains.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::Utc;

use super::{finish_transaction, latest_incident_states};
use crate::bus::{Bus, Event};
use crate::metrics::WriterMetrics;
use crate::model::Report;
use crate::model::{ClientRef, Location, Source};
use crate::model::{Incident, IncidentStatus};
use crate::store::incidents;
use crate::store::reports::{self, Inserted, NewReport};
use crate::store::write_ctx::WriteCtx;
use crate::store::{Store, StoreError};

/// Stores a report whose key is new.
fn insert(conn: &rusqlite::Connection, new: NewReport) -> Result<Report, StoreError> {
    match reports::insert(conn, new)? {
        Inserted::Stored(report) => Ok(report),
        Inserted::KeyTaken(_) => panic!("each test report has a key of its own"),
    }
}

fn new_report(client_ref: &str) -> NewReport {
    NewReport {
        id: client_ref.to_owned(),
        source: Source::Http,
        device_id: None,
        client_ref: ClientRef::parse(client_ref, "client_ref").unwrap(),
        fingerprint: vec![],
        category: "fire".into(),
        location: Location {
            lat: 44.0,
            lon: 11.0,
        },
        text: String::new(),
        contact: None,
        media_url: None,
        photo: None,
        zones: vec![],
        in_area: false,
        received_at: chrono::Utc::now(),
        acknowledge_due_at: None,
        resolve_due_at: None,
        incident_id: None,
        follow_token_hash: None,
    }
}

async fn count(store: &Store) -> i64 {
    store
        .read(|conn| -> Result<i64, StoreError> {
            Ok(conn.query_row("SELECT count(*) FROM reports", [], |r| r.get(0))?)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_failing_write_leaves_no_trace_and_its_neighbours_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Bus::new()).unwrap();
    let writes: Vec<_> = (0..20)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write(move |ctx| {
                        insert(ctx.conn(), new_report(&format!("r{n}")))?;
                        if n % 2 == 0 {
                            Err(StoreError::Corrupt("refused".into()))
                        } else {
                            Ok(())
                        }
                    })
                    .await
            })
        })
        .collect();

    let mut outcomes = Vec::new();
    for write in writes {
        outcomes.push(write.await.unwrap().is_ok());
    }

    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 10);
    assert_eq!(count(&store).await, 10);
    store.shutdown().await;
}

#[tokio::test]
async fn events_reach_the_bus_only_for_writes_that_committed() {
    let dir = tempfile::tempdir().unwrap();
    let bus = Bus::new();
    let mut events = bus.subscribe();
    let store = Store::open(dir.path(), bus).unwrap();

    let failed: Result<(), StoreError> = store
        .write(|ctx| {
            let report = insert(ctx.conn(), new_report("lost"))?;
            ctx.emit(Event::ReportReceived(Arc::new(report)));
            Err(StoreError::Corrupt("refused".into()))
        })
        .await;
    let kept: Result<(), StoreError> = store
        .write(|ctx| {
            let report = insert(ctx.conn(), new_report("kept"))?;
            ctx.emit(Event::ReportReceived(Arc::new(report)));
            Ok(())
        })
        .await;

    assert!(failed.is_err() && kept.is_ok());
    let Event::ReportReceived(report) = events.recv().await.unwrap() else {
        panic!("only a report event was published");
    };
    assert_eq!(report.id, "kept");
    assert!(events.try_recv().is_err(), "nothing else was published");
    store.shutdown().await;
}

#[tokio::test]
async fn an_incident_named_changed_is_published_once_in_its_committed_state_and_not_for_a_failed_write()
 {
    let dir = tempfile::tempdir().unwrap();
    let bus = Bus::new();
    let store = Store::open(dir.path(), bus.clone()).unwrap();
    let (at, here) = (
        Utc::now(),
        Location {
            lat: 44.0,
            lon: 11.0,
        },
    );
    store
        .write(move |ctx| incidents::insert(ctx.conn(), "i1", "fire", here, at, 1).map(|_| ()))
        .await
        .unwrap();
    let mut events = bus.subscribe();

    let failed: Result<(), StoreError> = store
        .write(move |ctx| {
            incidents::add_report(ctx.conn(), "i1", here, at)?;
            ctx.incident_changed("i1");
            Err(StoreError::Corrupt("refused".into()))
        })
        .await;
    let counted: Result<(), StoreError> = store
        .write(move |ctx| {
            for _ in 0..2 {
                incidents::add_report(ctx.conn(), "i1", here, at)?;
                ctx.incident_changed("i1");
            }
            Ok(())
        })
        .await;

    assert!(failed.is_err() && counted.is_ok());
    let Event::Incident(incident) = events.recv().await.unwrap() else {
        panic!("only the incident was published");
    };
    assert_eq!((incident.report_count, incident.version), (3, 3));
    assert!(
        events.try_recv().is_err(),
        "published once, and not for the failed write"
    );
    store.shutdown().await;
}

#[tokio::test]
async fn a_panicking_write_fails_alone_and_the_writer_keeps_committing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Bus::new()).unwrap();

    let panicked: Result<(), StoreError> = store
        .write(|ctx| {
            insert(ctx.conn(), new_report("half-written"))?;
            panic!("a bug in a write job");
        })
        .await;
    let next: Result<(), StoreError> = store
        .write(|ctx| insert(ctx.conn(), new_report("after")).map(|_| ()))
        .await;

    assert!(matches!(panicked, Err(StoreError::Panicked(ref cause)) if cause.contains("a bug")));
    assert!(next.is_ok(), "the writer survived: {next:?}");
    assert_eq!(
        count(&store).await,
        1,
        "the panicking job's insert was rolled back"
    );
    let panics = store
        .writer_metrics()
        .jobs
        .get_or_create(&[("outcome", "panicked")])
        .get();
    assert_eq!(panics, 1);
    store.shutdown().await;
}

#[tokio::test]
async fn writes_after_shutdown_are_refused_and_queued_ones_are_committed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Bus::new()).unwrap();
    let queued = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .write(|ctx| insert(ctx.conn(), new_report("queued")).map(|_| ()))
                .await
        })
    };
    queued.await.unwrap().unwrap();

    store.shutdown().await;
    let late: Result<(), StoreError> = store.write(|_| Ok(())).await;

    assert!(matches!(late, Err(StoreError::Closed)));
    assert_eq!(count(&store).await, 1);
}

fn incident(id: &str, report_count: i64) -> Event {
    Event::Incident(Arc::new(Incident {
        seq: 0,
        id: id.into(),
        category: "fire".into(),
        status: IncidentStatus::Open,
        location: Location {
            lat: 44.0,
            lon: 11.0,
        },
        report_count,
        open_count: report_count,
        last_report_at: Utc::now(),
        merged_into: None,
        version: report_count,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }))
}

#[test]
fn a_batch_publishes_only_the_last_state_of_each_incident_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let conn = crate::store::open_for_tool(dir.path()).unwrap();
    let report = Event::ReportReceived(Arc::new(insert(&conn, new_report("r1")).unwrap()));
    let events = vec![incident("a", 1), report, incident("b", 1), incident("a", 2)];

    let kept: Vec<String> = latest_incident_states(events)
        .iter()
        .map(|event| match event {
            Event::Incident(incident) => format!("{}{}", incident.id, incident.report_count),
            Event::ReportReceived(report) => report.id.clone(),
            _ => unreachable!(),
        })
        .collect();

    assert_eq!(kept, ["r1", "b1", "a2"]);
}

#[tokio::test]
async fn one_caller_at_a_time_waits_awake_only_on_an_idle_writer_and_gives_the_right_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Bus::new()).unwrap();
    let writer = &store.inner.writer;
    let idle = || writer.activity.waiting_for_jobs.load(Ordering::Acquire);
    let started = async {
        while !idle() {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), started)
        .await
        .expect("the writer waits for jobs");

    let first = writer.claim_awake_wait();
    assert!(first.is_some(), "an idle writer with nothing queued");
    assert!(writer.claim_awake_wait().is_none(), "one caller at a time");
    drop(first);
    assert!(
        writer.claim_awake_wait().is_some(),
        "given back when the wait ends"
    );

    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let (holding_tx, holding_rx) = tokio::sync::oneshot::channel();
    let hold = move |_: &mut WriteCtx<'_>| -> Result<(), StoreError> {
        holding_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        Ok(())
    };
    // Held here, so that only the writer's state can refuse the claim below.
    let held = writer.claim_awake_wait();
    assert!(held.is_some(), "the writer is idle again");
    let holder = tokio::spawn({
        let store = store.clone();
        async move { store.write(hold).await }
    });
    holding_rx.await.unwrap();
    drop(held);
    let busy = writer.claim_awake_wait().is_none();
    release_tx.send(()).unwrap();
    assert!(busy, "a caller of a busy writer sleeps");
    assert!(holder.await.unwrap().is_ok());
    let idle_again = async {
        while writer.claim_awake_wait().is_none() {
            tokio::task::yield_now().await;
        }
    };
    let given_back = tokio::time::timeout(Duration::from_secs(5), idle_again).await;
    assert!(given_back.is_ok(), "the right is free again after a write");
    store.shutdown().await;
}

/// A fresh database with a write transaction open, as the writer holds it while it runs a
/// batch; the directory lives as long as the returned guard.
fn open_in_a_transaction() -> (tempfile::TempDir, rusqlite::Connection, WriterMetrics) {
    let dir = tempfile::tempdir().unwrap();
    let conn = crate::store::open_for_tool(dir.path()).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    (dir, conn, WriterMetrics::default())
}

#[test]
fn a_failed_job_takes_back_the_incidents_it_named_changed_and_leaves_those_of_earlier_jobs() {
    let (_dir, conn, metrics) = open_in_a_transaction();
    let mut ctx = WriteCtx::new(&conn, &metrics);
    fn naming(
        id: &'static str,
        fails: bool,
    ) -> impl FnOnce(&mut WriteCtx<'_>) -> Result<(), StoreError> {
        move |ctx| {
            ctx.incident_changed(id);
            match fails {
                true => Err(StoreError::Corrupt("refused".into())),
                false => Ok(()),
            }
        }
    }

    let _ = ctx.run_in_savepoint(naming("kept", false));
    let _ = ctx.run_in_savepoint(naming("kept", true));
    let _ = ctx.run_in_savepoint(naming("lost", true));
    let _ = ctx.run_undivided(naming("lost too", true));

    assert_eq!(ctx.changed_incidents, ["kept"]);
    assert!(!ctx.poisoned, "naming an incident changes nothing stored");
}

#[test]
fn an_undivided_job_refusing_before_a_change_fails_alone_and_one_failing_after_fails_the_batch() {
    let (_dir, conn, metrics) = open_in_a_transaction();
    let mut ctx = WriteCtx::new(&conn, &metrics);

    let stored: Result<(), StoreError> =
        ctx.run_undivided(|ctx| insert(ctx.conn(), new_report("kept")).map(|_| ()));
    let refused: Result<(), StoreError> =
        ctx.run_undivided(|_| Err(StoreError::Corrupt("refused".into())));
    assert!(stored.is_ok() && refused.is_err());
    assert!(
        !ctx.poisoned,
        "a refusal before any change leaves the batch whole"
    );

    let half: Result<(), StoreError> = ctx.run_undivided(|ctx| {
        insert(ctx.conn(), new_report("half"))?;
        Err(StoreError::Corrupt("failed after a change".into()))
    });
    let later: Result<(), StoreError> =
        ctx.run_undivided(|ctx| insert(ctx.conn(), new_report("later")).map(|_| ()));

    assert!(half.is_err() && later.is_err(), "nothing after it runs");
    assert!(
        finish_transaction(&conn, ctx.poisoned).is_err(),
        "the batch does not commit"
    );
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM reports", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0, "not even the job that succeeded before it");
}
