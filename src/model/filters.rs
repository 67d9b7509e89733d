//! What a listing wants (reports, notices, audit lines) and what the statistics cover: the
//! query shapes the domain asks the store with; and a line of the audit log.

use chrono::{DateTime, Utc};

use serde::Serialize;
use serde_json::Value;

use super::notice::NoticeState;
use super::report::ReportStatus;
use crate::cap::MsgType;

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

/// Which notices a listing wants, newest first.
#[derive(Debug, Clone, Default)]
pub struct NoticeFilter {
    pub states: Vec<NoticeState>,
    pub thread_id: Option<String>,
    /// Only notices that expire after this time (unix ms).
    pub expiring_after: Option<i64>,
    /// Only messages of these types (none: all).
    pub msg_types: Vec<MsgType>,
    pub zone: Option<String>,
    /// Only imported notices a source's rule marked for fast review.
    pub fast_review: bool,
    pub before_seq: Option<i64>,
    pub limit: usize,
}

/// One line of the log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub detail: Value,
}

/// Which lines to read, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub subject: Option<String>,
    /// Entries at or after this time (Unix milliseconds).
    pub since_ms: Option<i64>,
    /// Entries before this time (Unix milliseconds).
    pub until_ms: Option<i64>,
    pub before_seq: Option<i64>,
    pub limit: usize,
}
