//! Report handling after intake: statuses and notes, feedback to reporters, incidents,
//! response-time targets, field teams, statistics, open data and retention.
//!
//! Every change to a report goes through `apply::apply` inside one write: the row, its
//! history, the reporter's update, the audit line and the bus event commit together.

mod apply;
mod escalate;
mod export;
pub mod field;
pub mod follow;
pub(crate) mod grouping;
pub(crate) mod incidents;
use crate::model::triage as model;
mod overdue;
mod presence;
mod public_figures;
mod public_stats;
mod publication;
mod reading;
pub use reading::watch_queue;
mod reporters;
mod retention;
mod service;
mod stats;
mod targets;
mod timeline;
mod transitions;

pub use escalate::EscalateRequest;
pub use export::{OpenData, OpenRecord, round as round_coordinate};
pub use grouping::Grouping;
pub use incidents::{MergeRequest, ResolveRequest, SplitRequest};
pub use model::{
    ChangeKind, Followed, HistoryEntry, Incident, IncidentFilter, IncidentStatus, Overdue,
    OverdueStep, RejectionReason, ReportChange, ReporterUpdate,
};
pub use overdue::run_overdue;
pub use presence::{Presence, Viewer, Viewing};
pub use public_figures::{Count, Figures};
pub use public_stats::{Month, PublicStats, PublicStatsRequest, PublicStatsSettings};
pub use publication::RawPublication;
pub use reporters::UpdatesReader;
pub use retention::{purge_older_than, run_retention};
pub use service::{Triage, TriageSettings};
pub use stats::{Durations, Stats, StatsScope};
pub use targets::{Target, Targets, parse_within};
pub use timeline::{Bucket, Timeline, TimelinePoint};
pub use transitions::{Change, RawChange, allowed_after, parse_status};
