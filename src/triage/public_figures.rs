//! One cell of the public statistics: a count, the shares answered within target and the
//! times, or, when too few reports stand behind it, nothing but "< N".

use serde::{Serialize, Serializer};

use super::stats::Durations;
use crate::store::public_stats::AnswerTimes;

/// How many reports a cell stands for, as the public may read it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Count {
    Exact(usize),
    /// Fewer than this many, none included.
    Under(usize),
    /// Hidden although not small, so that a hidden small count cannot be worked out from the
    /// total and the others.
    Withheld,
}

impl Serialize for Count {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Count::Exact(count) => serializer.serialize_u64(*count as u64),
            Count::Under(min) => serializer.serialize_str(&format!("< {min}")),
            Count::Withheld => serializer.serialize_str("withheld"),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Figures {
    pub reports: Count,
    /// Of the reports acknowledged, or due to be by now: the share acknowledged in time.
    pub acknowledged_within_target: Option<f64>,
    /// Of the reports not rejected that were resolved, or due to be by now: the share
    /// resolved in time.
    pub resolved_within_target: Option<f64>,
    pub acknowledge_median_secs: Option<f64>,
    pub acknowledge_p90_secs: Option<f64>,
    pub resolve_median_secs: Option<f64>,
    pub resolve_p90_secs: Option<f64>,
    #[serde(skip)]
    count: usize,
}

impl Figures {
    /// The figures of `answers` at `now_ms`: a count under `min` (none included) reads
    /// "< min"; shares and medians need `min` reports behind them, and the 90th percentile
    /// `P90_AT_LEAST` too, since of fewer it is one report's own time.
    pub(super) fn of(answers: &[&AnswerTimes], now_ms: i64, min: usize) -> Figures {
        let count = answers.len();
        if count < min {
            return Figures::hidden(Count::Under(min), count);
        }
        let acknowledge = Answer::of(answers, now_ms, |a| {
            (Some(a.received_ms), a.acknowledged_ms, a.acknowledge_due_ms)
        });
        let resolve = Answer::of(answers, now_ms, |a| {
            (
                (!a.rejected).then_some(a.received_ms),
                a.resolved_ms,
                a.resolve_due_ms,
            )
        });
        let (acknowledge_times, resolve_times) = (acknowledge.times(min), resolve.times(min));
        Figures {
            reports: Count::Exact(count),
            acknowledged_within_target: acknowledge.share_in_time(min),
            resolved_within_target: resolve.share_in_time(min),
            acknowledge_median_secs: acknowledge_times.median_secs,
            acknowledge_p90_secs: acknowledge_times.p90_secs,
            resolve_median_secs: resolve_times.median_secs,
            resolve_p90_secs: resolve_times.p90_secs,
            count,
        }
    }

    /// A month nobody reported in: nothing to hide.
    pub(super) fn none() -> Figures {
        Figures::hidden(Count::Exact(0), 0)
    }

    fn hidden(reports: Count, count: usize) -> Figures {
        Figures {
            reports,
            acknowledged_within_target: None,
            resolved_within_target: None,
            acknowledge_median_secs: None,
            acknowledge_p90_secs: None,
            resolve_median_secs: None,
            resolve_p90_secs: None,
            count,
        }
    }

    fn is_hidden(&self) -> bool {
        !matches!(self.reports, Count::Exact(_))
    }
}

/// Cells that add up to a total the public sees: when exactly one is hidden, and it is not
/// empty, the smallest shown one is withheld too, or the hidden one would be the total minus
/// the rest.
pub(super) fn protect<'a>(cells: impl Iterator<Item = &'a mut Figures>) {
    let mut cells: Vec<&mut Figures> = cells.collect();
    let hidden: Vec<usize> = cells
        .iter()
        .filter(|cell| cell.is_hidden())
        .map(|cell| cell.count)
        .collect();
    if hidden.len() != 1 || hidden[0] == 0 {
        return;
    }
    if let Some(smallest) = cells
        .iter_mut()
        .filter(|cell| !cell.is_hidden())
        .min_by_key(|cell| cell.count)
    {
        **smallest = Figures::hidden(Count::Withheld, smallest.count);
    }
}

/// Fewer times than this show no 90th percentile: it would be the slowest report's own.
const P90_AT_LEAST: usize = 10;

/// One step of the answer (acknowledging or resolving) over a cell's reports.
struct Answer {
    /// Seconds each report that took the step took, shortest first.
    taken: Vec<f64>,
    /// Of the reports with a target: those that took the step, or should have by now...
    due: usize,
    /// ... and those that took it by their target.
    in_time: usize,
}

impl Answer {
    /// `moments` gives, per report, (received if it counts at all, done, due).
    fn of(
        answers: &[&AnswerTimes],
        now_ms: i64,
        moments: impl Fn(&AnswerTimes) -> (Option<i64>, Option<i64>, Option<i64>),
    ) -> Answer {
        let mut answer = Answer {
            taken: Vec::new(),
            due: 0,
            in_time: 0,
        };
        for report in answers {
            let (Some(received), done, due_at) = moments(report) else {
                continue;
            };
            if let Some(done) = done {
                answer.taken.push((done - received) as f64 / 1000.0);
            }
            // A report stored without a target cannot be judged against one.
            let Some(due_at) = due_at else { continue };
            if done.is_some() || due_at <= now_ms {
                answer.due += 1;
            }
            if done.is_some_and(|done| done <= due_at) {
                answer.in_time += 1;
            }
        }
        answer.taken.sort_by(f64::total_cmp);
        answer
    }

    fn share_in_time(&self, min: usize) -> Option<f64> {
        (self.due >= min).then(|| (self.in_time as f64 / self.due as f64 * 1000.0).round() / 1000.0)
    }

    fn times(&self, min: usize) -> Durations {
        if self.taken.len() < min {
            return Durations::percentiles(&[]);
        }
        let mut durations = Durations::percentiles(&self.taken);
        if self.taken.len() < P90_AT_LEAST.max(min) {
            durations.p90_secs = None;
        }
        durations
    }
}

#[cfg(test)]
mod tests {
    use super::{Count, Figures, protect};

    fn cell(count: usize, min: usize) -> Figures {
        match count < min {
            true => Figures::hidden(Count::Under(min), count),
            false => Figures::hidden(Count::Exact(count), count),
        }
    }

    #[test]
    fn one_hidden_cell_takes_the_smallest_shown_one_with_it() {
        let mut cells = [cell(3, 5), cell(9, 5), cell(7, 5), cell(40, 5)];

        protect(cells.iter_mut());

        let shown: Vec<Count> = cells.iter().map(|cell| cell.reports).collect();
        assert_eq!(
            shown,
            [
                Count::Under(5),
                Count::Exact(9),
                Count::Withheld,
                Count::Exact(40)
            ]
        );
    }

    #[test]
    fn two_hidden_cells_or_none_leave_the_rest_alone() {
        let mut two = [cell(3, 5), cell(1, 5), cell(7, 5)];
        let mut none = [cell(8, 5), cell(7, 5)];

        protect(two.iter_mut());
        protect(none.iter_mut());

        assert_eq!(two[2].reports, Count::Exact(7));
        assert_eq!(none[1].reports, Count::Exact(7));
    }

    #[test]
    fn an_empty_hidden_cell_needs_no_company() {
        let mut cells = [cell(0, 5), cell(9, 5)];

        protect(cells.iter_mut());

        assert_eq!(cells[1].reports, Count::Exact(9));
    }

    #[test]
    fn small_counts_read_as_under_the_minimum() {
        assert_eq!(serde_json::json!(Count::Under(5)), "< 5");
        assert_eq!(serde_json::json!(Count::Exact(12)), 12);
    }
}
