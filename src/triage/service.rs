//! The triage service: operators change reports, and everyone reads what happened to them.

use super::presence::Presence;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::apply::apply;
use super::grouping::Grouping;
use super::model::HistoryEntry;
use super::public_stats::PublicStatsSettings;
use super::targets::Targets;
use super::transitions::{ChangeRequest, RawChange};
use crate::auth::{Action, Staff};
use crate::clock::SharedClock;
use crate::config::CategoryCatalog;
use crate::model::Report;
use crate::notices::Notices;
use crate::problem::{ErrorCode, Problem};
use crate::store::Store;
use crate::store::reports as report_rows;
use crate::store::triage as triage_rows;

/// What the office decided about handling reports.
#[derive(Debug, Clone)]
pub struct TriageSettings {
    pub targets: Targets,
    pub grouping: Grouping,
    pub max_note_chars: usize,
    /// Decimal places of published coordinates.
    pub open_data_decimals: u32,
    /// Whether anyone may read the open data, or only staff (`open_data.public`).
    pub open_data_public: bool,
    /// Days contact details and photos are kept.
    pub retention_days: u32,
    /// Days a report's text may stay public at most (`privacy.public_report_days`).
    pub public_report_days: u32,
    /// What the public statistics may show (`privacy.public_stats_*`).
    pub public_stats: PublicStatsSettings,
    pub categories: CategoryCatalog,
}

#[derive(Clone)]
pub struct Triage {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: SharedClock,
    notices: Notices,
    settings: TriageSettings,
    presence: Presence,
}

impl Triage {
    pub fn new(
        store: Store,
        clock: SharedClock,
        notices: Notices,
        settings: TriageSettings,
    ) -> Triage {
        Triage {
            inner: Arc::new(Inner {
                store,
                clock,
                notices,
                settings,
                presence: Presence::default(),
            }),
        }
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Who has which report open.
    pub fn presence(&self) -> &Presence {
        &self.inner.presence
    }

    pub fn settings(&self) -> &TriageSettings {
        &self.inner.settings
    }

    pub(super) fn notices(&self) -> &Notices {
        &self.inner.notices
    }

    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// Now, to the millisecond the store keeps.
    pub fn now(&self) -> DateTime<Utc> {
        report_rows::from_millis(self.inner.clock.now().timestamp_millis())
    }

    /// Moves a report on, or adds notes to it, if nobody changed it since `version`.
    pub async fn change(&self, staff: &Staff, id: &str, raw: RawChange) -> Result<Report, Problem> {
        staff.require(Action::Triage)?;
        let request = ChangeRequest::parse(raw, self.settings().max_note_chars)?;
        let (id, actor, at) = (id.to_owned(), staff.name.clone(), self.now());
        let categories = self.settings().categories.clone();
        self.store()
            .write(move |ctx| {
                let report = load(ctx.conn(), &id)?;
                check_version(&report, request.version)?;
                apply(ctx, &report, request.change, &actor, at, &categories)
            })
            .await
    }

    /// Everything that happened to a report, internal notes included: staff only.
    pub async fn history(&self, staff: &Staff, id: &str) -> Result<Vec<HistoryEntry>, Problem> {
        staff.require(Action::Read)?;
        let id = id.to_owned();
        self.store()
            .read(move |conn| {
                let report = load(conn, &id)?;
                Ok(triage_rows::history(conn, report.seq)?)
            })
            .await
    }
}

/// The report `id`, or a 404 that names it.
pub(super) fn load(conn: &rusqlite::Connection, id: &str) -> Result<Report, Problem> {
    report_rows::get(conn, id)?
        .ok_or_else(|| Problem::new(ErrorCode::NotFound, format!("there is no report {id}")))
}

pub(super) fn check_version(report: &Report, seen: i64) -> Result<(), Problem> {
    if report.version == seen {
        return Ok(());
    }
    Err(Problem::with_field(
        ErrorCode::StaleVersion,
        "version",
        format!(
            "report {} changed since you loaded it (you have version {seen}, it is now {}); reload it and decide again",
            report.id, report.version
        ),
    ))
}
