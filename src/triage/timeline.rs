//! Reports over time for the statistics: arrivals by category, acknowledgements and
//! resolutions per hour or per day.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;
use serde::Serialize;

use super::stats::StatsScope;
use crate::problem::{ErrorCode, Problem};
use crate::store::StoreError;
use crate::store::reports::{from_millis, millis};
use crate::store::stats as stat_rows;

/// Most buckets in one timeline: the latest ones are kept, ending at `until` (or now).
pub(super) const MAX_POINTS: i64 = 2000;
/// Spans up to this long are counted per hour when no bucket is asked for.
const HOURLY_UP_TO: Duration = Duration::days(7);

/// How long one point of the timeline lasts. Buckets start on the hour or at midnight UTC.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Hour,
    Day,
}

impl Bucket {
    pub fn parse(value: &str) -> Result<Bucket, Problem> {
        match value {
            "hour" => Ok(Bucket::Hour),
            "day" => Ok(Bucket::Day),
            _ => Err(Problem::with_field(
                ErrorCode::InvalidField,
                "bucket",
                "bucket is `hour` or `day`",
            )),
        }
    }

    /// Hours for a span of a week or less, days otherwise (and when the span has no start).
    pub fn fitting(scope: &StatsScope, now: DateTime<Utc>) -> Bucket {
        match scope.since {
            Some(since) if scope.until.unwrap_or(now) - since <= HOURLY_UP_TO => Bucket::Hour,
            _ => Bucket::Day,
        }
    }

    fn length(self) -> Duration {
        match self {
            Bucket::Hour => Duration::hours(1),
            Bucket::Day => Duration::days(1),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Timeline {
    pub bucket: Bucket,
    /// Only buckets in which something happened, oldest first.
    pub points: Vec<TimelinePoint>,
}

#[derive(Debug, Default, Serialize)]
pub struct TimelinePoint {
    pub start: DateTime<Utc>,
    /// Reports that arrived in the bucket, in all and by category.
    pub received: i64,
    pub by_category: BTreeMap<String, i64>,
    /// Reports acknowledged in the bucket.
    pub acknowledged: i64,
    /// Reports resolved in the bucket.
    pub resolved: i64,
}

/// The scope's reports per bucket, over at most [`MAX_POINTS`] buckets ending at the scope's
/// end (or now).
pub(super) fn timeline(
    conn: &Connection,
    scope: &StatsScope,
    bucket: Bucket,
    now: DateTime<Utc>,
) -> Result<Timeline, StoreError> {
    let earliest = scope.until.unwrap_or(now) - bucket.length() * MAX_POINTS as i32;
    let scope = StatsScope {
        since: Some(scope.since.map_or(earliest, |since| since.max(earliest))),
        ..scope.clone()
    };
    let bucket_ms = millis(DateTime::UNIX_EPOCH + bucket.length());
    let mut points: BTreeMap<i64, TimelinePoint> = BTreeMap::new();
    for (start, category, count) in stat_rows::received_per_bucket(conn, &scope, bucket_ms)? {
        let point = point_at(&mut points, start);
        point.received += count;
        point.by_category.insert(category, count);
    }
    for (start, count) in stat_rows::reached_per_bucket(conn, &scope, "acknowledged_at", bucket_ms)?
    {
        point_at(&mut points, start).acknowledged = count;
    }
    for (start, count) in stat_rows::reached_per_bucket(conn, &scope, "closed_at", bucket_ms)? {
        point_at(&mut points, start).resolved = count;
    }
    Ok(Timeline {
        bucket,
        points: points.into_values().collect(),
    })
}

fn point_at(points: &mut BTreeMap<i64, TimelinePoint>, start: i64) -> &mut TimelinePoint {
    points.entry(start).or_insert_with(|| TimelinePoint {
        start: from_millis(start),
        ..TimelinePoint::default()
    })
}
