//! The one read behind the public statistics: each report's month, category, zone at one level
//! and the moments of its answer, and nothing that could tell who sent it.

use rusqlite::Connection;

use super::StoreError;
use super::conditions::Conditions;

/// What the public statistics count of one report.
#[derive(Debug, Clone)]
pub(crate) struct AnswerTimes {
    /// `YYYY-MM` of arrival, in UTC.
    pub month: String,
    pub category: String,
    /// The zone of the asked level it fell in, if any: (id, name).
    pub zone: Option<(String, String)>,
    pub received_ms: i64,
    pub acknowledged_ms: Option<i64>,
    pub acknowledge_due_ms: Option<i64>,
    /// When it was closed as resolved; rejections are not resolutions.
    pub resolved_ms: Option<i64>,
    pub resolve_due_ms: Option<i64>,
    pub rejected: bool,
}

/// Which reports: received in `[from_ms, until_ms)`.
#[derive(Debug, Clone)]
pub(crate) struct AnswerScope {
    pub from_ms: i64,
    pub until_ms: i64,
    /// The level of the zone each report is counted under.
    pub level: String,
}

pub(crate) fn answer_times(
    conn: &Connection,
    scope: &AnswerScope,
) -> Result<Vec<AnswerTimes>, StoreError> {
    let mut conditions = Conditions::default();
    conditions.bind("r.received_at >= ?", scope.from_ms);
    conditions.bind("r.received_at < ?", scope.until_ms);
    let (condition, mut values) = conditions.into_parts();
    values.push(scope.level.clone().into());
    // The zones the report was placed in at intake, from its own row: a join through
    // report_zones would probe every zone of the level per report (7,899 for Italy's
    // municipalities). Zones of one level do not overlap; should an import make them, the
    // first counts.
    let level = values.len();
    let zone_field = |field: &str| {
        format!(
            "(SELECT json_extract(value, '$.{field}') FROM json_each(r.zones)
              WHERE json_extract(value, '$.level') = ?{level} LIMIT 1)"
        )
    };
    let sql = format!(
        "SELECT strftime('%Y-%m', r.received_at / 1000, 'unixepoch'), r.category, {}, {},
                r.received_at, r.acknowledged_at, r.acknowledge_due_at,
                CASE WHEN r.status = 'resolved' THEN r.closed_at END, r.resolve_due_at,
                r.status = 'rejected'
         FROM reports r WHERE {condition}",
        zone_field("id"),
        zone_field("name"),
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(values), |row| {
        let zone_id: Option<String> = row.get(2)?;
        Ok(AnswerTimes {
            month: row.get(0)?,
            category: row.get(1)?,
            zone: zone_id.map(|id| (id, row.get(3).unwrap_or_default())),
            received_ms: row.get(4)?,
            acknowledged_ms: row.get(5)?,
            acknowledge_due_ms: row.get(6)?,
            resolved_ms: row.get(7)?,
            resolve_due_ms: row.get(8)?,
            rejected: row.get(9)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
