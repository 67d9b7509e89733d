//! `GET /api/v1/stats`: how many reports, where, and how fast the office answered them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::service::Triage;
use super::timeline::{self, Bucket, Timeline};
use crate::auth::{Action, Staff};
use crate::model::ReportStatus;
use crate::problem::Problem;
use crate::store::stats as stat_rows;

pub use crate::model::StatsScope;

/// Zones listed in the figures, busiest first.
const MAX_ZONES: usize = 200;

#[derive(Debug, Serialize)]
pub struct Stats {
    pub generated_at: DateTime<Utc>,
    pub total: i64,
    pub by_status: BTreeMap<String, i64>,
    pub by_category: BTreeMap<String, i64>,
    pub by_zone: Vec<ZoneFigure>,
    /// Reports late for their next step now.
    pub overdue: i64,
    pub time_to_acknowledge: Durations,
    pub time_to_resolve: Durations,
    pub timeline: Timeline,
}

#[derive(Debug, Serialize)]
pub struct ZoneFigure {
    pub zone_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub count: i64,
}

/// Response times in seconds over the reports that got that far.
#[derive(Debug, Serialize, PartialEq)]
pub struct Durations {
    pub count: usize,
    pub median_secs: Option<f64>,
    pub p90_secs: Option<f64>,
    /// How many of them took no longer than their target.
    pub within_target: usize,
}

impl Durations {
    /// `timed` (seconds, and whether within target) must be in ascending order of seconds.
    pub fn of(timed: &[(f64, bool)]) -> Durations {
        let sorted: Vec<f64> = timed.iter().map(|(seconds, _)| *seconds).collect();
        Durations {
            within_target: timed.iter().filter(|(_, within)| *within).count(),
            ..Durations::percentiles(&sorted)
        }
    }

    /// `sorted` must be in ascending order. Nearest-rank percentiles; `within_target` is 0.
    pub(super) fn percentiles(sorted: &[f64]) -> Durations {
        let rank = |p: f64| {
            let index = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
            sorted[index]
        };
        Durations {
            count: sorted.len(),
            median_secs: (!sorted.is_empty()).then(|| rank(0.5)),
            p90_secs: (!sorted.is_empty()).then(|| rank(0.9)),
            within_target: 0,
        }
    }
}

impl Triage {
    /// The figures for `scope`, with a timeline per `bucket` (by default hours for a week or
    /// less, days otherwise).
    pub async fn stats(
        &self,
        staff: &Staff,
        scope: StatsScope,
        bucket: Option<Bucket>,
    ) -> Result<Stats, Problem> {
        staff.require(Action::Read)?;
        let now = self.now();
        let bucket = bucket.unwrap_or_else(|| Bucket::fitting(&scope, now));
        self.store()
            .read(move |conn| {
                let mut by_status: BTreeMap<String, i64> = ReportStatus::ALL
                    .iter()
                    .map(|status| (status.as_str().to_owned(), 0))
                    .collect();
                by_status.extend(stat_rows::count_by(conn, &scope, "status")?);
                let by_category = stat_rows::count_by(conn, &scope, "category")?
                    .into_iter()
                    .collect();
                let by_zone = stat_rows::count_by_zone(conn, &scope, MAX_ZONES)?
                    .into_iter()
                    .map(|zone| ZoneFigure {
                        zone_id: zone.zone_id,
                        level: zone.level,
                        name: zone.name,
                        count: zone.count,
                    })
                    .collect();
                Ok(Stats {
                    generated_at: now,
                    total: by_status.values().sum(),
                    by_status,
                    by_category,
                    by_zone,
                    overdue: stat_rows::overdue(conn, &scope, now)?,
                    time_to_acknowledge: Durations::of(&stat_rows::durations(
                        conn,
                        &scope,
                        "acknowledged_at",
                        "acknowledge_due_at",
                    )?),
                    time_to_resolve: Durations::of(&stat_rows::durations(
                        conn,
                        &scope,
                        "closed_at",
                        "resolve_due_at",
                    )?),
                    timeline: timeline::timeline(conn, &scope, bucket, now)?,
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::Durations;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let seconds: Vec<(f64, bool)> = (1..=10).map(|s| (f64::from(s), s <= 3)).collect();

        let durations = Durations::of(&seconds);

        assert_eq!(durations.median_secs, Some(5.0));
        assert_eq!(durations.p90_secs, Some(9.0));
        assert_eq!(durations.within_target, 3);
        assert_eq!(Durations::of(&[]).median_secs, None);
    }
}
