//! Which reports a listing or the statistics want: the query shapes staff lists, Open311,
//! exports and statistics ask the store with.

use chrono::{DateTime, Utc};

use super::report::ReportStatus;

/// Which reports a listing wants. Results come newest first.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    /// min lon, min lat, max lon, max lat.
    pub bbox: Option<[f64; 4]>,
    pub zone: Option<String>,
    pub category: Option<String>,
    pub status: Option<ReportStatus>,
    /// Open311's two states: `Some(true)` for resolved or rejected, `Some(false)` for the rest.
    pub closed: Option<bool>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub incident: Option<String>,
    /// Only reports late at this time: unacknowledged past their acknowledgement target, or
    /// open past their resolution target.
    pub overdue_at: Option<DateTime<Utc>>,
    /// Page cursor: only reports older than this sequence number.
    pub before_seq: Option<i64>,
    pub limit: usize,
}

/// Which reports the statistics cover.
#[derive(Debug, Clone, Default)]
pub struct StatsScope {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub category: Option<String>,
    pub zone: Option<String>,
}
