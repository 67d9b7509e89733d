//! The office's public figures: reports received and how fast they were answered, per month,
//! category and zone, against the published targets, with small counts hidden so that no
//! report can be picked out.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::Serialize;

use super::public_figures::{Figures, protect};
use super::service::Triage;
use crate::problem::{ErrorCode, Problem};
use crate::store::public_stats::{self as rows, AnswerScope, AnswerTimes};

/// The longest period one request may span: a longer one is cut to its last months.
const MAX_MONTHS: u32 = 36;
/// No report is older than the Unix epoch.
const FIRST_YEAR: i32 = 1970;
/// The period when the reader names none: the last twelve months, this one included.
const DEFAULT_MONTHS: u32 = 12;

/// What the office lets the public statistics show.
#[derive(Debug, Clone)]
pub struct PublicStatsSettings {
    pub min_count: u32,
    /// The zone level of the breakdown by zone; the reader cannot choose another.
    pub level: String,
}

/// A calendar month, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month(NaiveDate);

impl Month {
    /// `YYYY-MM`, naming `field` when it is not one.
    pub fn parse(field: &str, text: &str) -> Result<Month, Problem> {
        NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d")
            .ok()
            .filter(|date| text.len() == 7 && date.year() >= FIRST_YEAR)
            .map(Month)
            .ok_or_else(|| {
                Problem::with_field(
                    ErrorCode::InvalidField,
                    field,
                    format!(
                        "`{field}` must be a month written YYYY-MM from {FIRST_YEAR} on, such as 2026-11"
                    ),
                )
            })
    }

    fn of(at: DateTime<Utc>) -> Month {
        Month(
            at.date_naive()
                .with_day(1)
                .expect("every month has a first day"),
        )
    }

    fn plus(self, months: u32) -> Month {
        Month(self.0 + Months::new(months))
    }

    fn minus(self, months: u32) -> Month {
        Month(self.0 - Months::new(months))
    }

    fn start_ms(self) -> i64 {
        self.0
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp_millis()
    }

    fn label(self) -> String {
        self.0.format("%Y-%m").to_string()
    }
}

/// The period a reader asks for. There is no narrowing by category or zone: a cell must read
/// the same in every answer, or a narrowed total would give away a cell hidden elsewhere.
#[derive(Debug, Default, Clone)]
pub struct PublicStatsRequest {
    /// First month; by default eleven months before `to`.
    pub from: Option<Month>,
    /// Last month; by default the current one.
    pub to: Option<Month>,
}

/// `GET /api/v1/public/stats`: `schemas/public-stats.schema.json`.
#[derive(Debug, Serialize)]
pub struct PublicStats {
    pub generated_at: DateTime<Utc>,
    pub from: String,
    pub to: String,
    /// Counts under this are shown as "< min_count".
    pub min_count: u32,
    pub level: String,
    pub targets: Vec<PublishedTarget>,
    /// Oldest first, every month of the period, empty ones too.
    pub months: Vec<MonthFigures>,
}

/// A category's response-time targets, as the office published them.
#[derive(Debug, Serialize)]
pub struct PublishedTarget {
    pub category: String,
    pub acknowledge_within_secs: i64,
    pub resolve_within_secs: i64,
}

#[derive(Debug, Serialize)]
pub struct MonthFigures {
    pub month: String,
    pub all: Figures,
    pub by_category: Vec<CategoryFigures>,
    pub by_zone: Vec<ZoneFigures>,
}

#[derive(Debug, Serialize)]
pub struct CategoryFigures {
    pub category: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// A zone's figures. Zones with fewer reports than the minimum are not named: they and the
/// places outside every zone of the level make one cell with no zone.
#[derive(Debug, Serialize)]
pub struct ZoneFigures {
    pub zone_id: Option<String>,
    pub name: Option<String>,
    #[serde(flatten)]
    pub figures: Figures,
}

impl Triage {
    /// The public figures; anyone may read them, so they hold counts, shares and times only.
    pub async fn public_stats(&self, request: PublicStatsRequest) -> Result<PublicStats, Problem> {
        let now = self.now();
        let settings = self.settings();
        let to = request.to.unwrap_or_else(|| Month::of(now));
        let earliest = to.minus(MAX_MONTHS - 1);
        if request.from.is_some_and(|from| from > to) {
            return Err(Problem::with_field(
                ErrorCode::InvalidField,
                "from",
                format!(
                    "`from` comes after `to` ({}); give an earlier month",
                    to.label()
                ),
            ));
        }
        let from = request
            .from
            .unwrap_or_else(|| to.minus(DEFAULT_MONTHS - 1))
            .max(earliest);
        let scope = AnswerScope {
            from_ms: from.start_ms(),
            until_ms: to.plus(1).start_ms(),
            level: settings.public_stats.level.clone(),
        };
        let answers = self
            .store()
            .read(move |conn| rows::answer_times(conn, &scope))
            .await?;
        let cells = Cells {
            categories: settings.categories.codes(),
            now_ms: now.timestamp_millis(),
            min: settings.public_stats.min_count as usize,
        };
        let mut by_month: BTreeMap<&str, Vec<&AnswerTimes>> = BTreeMap::new();
        for answer in &answers {
            by_month.entry(&answer.month).or_default().push(answer);
        }
        Ok(PublicStats {
            generated_at: now,
            from: from.label(),
            to: to.label(),
            min_count: settings.public_stats.min_count,
            level: settings.public_stats.level.clone(),
            targets: self.published_targets(),
            months: months(from, to)
                .map(|month| {
                    let label = month.label();
                    let of_month = by_month.remove(label.as_str()).unwrap_or_default();
                    cells.month(label, &of_month)
                })
                .collect(),
        })
    }

    fn published_targets(&self) -> Vec<PublishedTarget> {
        let settings = self.settings();
        settings
            .categories
            .codes()
            .into_iter()
            .map(|code| {
                let target = settings.targets.of(code);
                PublishedTarget {
                    category: code.to_owned(),
                    acknowledge_within_secs: target.acknowledge_within.num_seconds(),
                    resolve_within_secs: target.resolve_within.num_seconds(),
                }
            })
            .collect()
    }
}

/// The months from `from` to `to`; none when `from` comes after `to`.
fn months(from: Month, to: Month) -> impl Iterator<Item = Month> {
    std::iter::successors(Some(from).filter(|first| *first <= to), move |month| {
        Some(month.plus(1)).filter(|next| *next <= to)
    })
}

/// How one month's reports are cut into cells.
struct Cells<'a> {
    /// Every category of the office: each has its cell, empty or not, so a listed category
    /// says nothing by being listed.
    categories: Vec<&'a str>,
    now_ms: i64,
    min: usize,
}

impl Cells<'_> {
    /// The figures of month `label` from its reports, `of_month`.
    fn month(&self, label: String, of_month: &[&AnswerTimes]) -> MonthFigures {
        let mut by_category: BTreeMap<&str, Vec<&AnswerTimes>> = self
            .categories
            .iter()
            .map(|code| (*code, Vec::new()))
            .collect();
        let mut by_zone: BTreeMap<Option<&(String, String)>, Vec<&AnswerTimes>> = BTreeMap::new();
        for answer in of_month {
            by_category
                .entry(&answer.category)
                .or_default()
                .push(answer);
            by_zone
                .entry(answer.zone.as_ref())
                .or_default()
                .push(answer);
        }
        let mut categories: Vec<CategoryFigures> = by_category
            .into_iter()
            .map(|(category, answers)| CategoryFigures {
                category: category.to_owned(),
                figures: self.figures(&answers),
            })
            .collect();
        protect(categories.iter_mut().map(|cell| &mut cell.figures));
        let mut zones = self.zones(by_zone);
        protect(zones.iter_mut().map(|cell| &mut cell.figures));
        MonthFigures {
            month: label,
            all: match of_month.is_empty() {
                true => Figures::none(),
                false => self.figures(of_month),
            },
            by_category: categories,
            by_zone: zones,
        }
    }

    /// Zones with at least `min` reports by name, busiest first; the rest as one cell.
    fn zones(
        &self,
        by_zone: BTreeMap<Option<&(String, String)>, Vec<&AnswerTimes>>,
    ) -> Vec<ZoneFigures> {
        let mut named = Vec::new();
        let mut others = Vec::new();
        for (zone, answers) in by_zone {
            match zone {
                Some(zone) if answers.len() >= self.min => named.push((zone, answers)),
                _ => others.extend(answers),
            }
        }
        named.sort_by_key(|(_, answers)| std::cmp::Reverse(answers.len()));
        let mut cells: Vec<ZoneFigures> = named
            .into_iter()
            .map(|((id, name), answers)| ZoneFigures {
                zone_id: Some(id.clone()),
                name: Some(name.clone()),
                figures: self.figures(&answers),
            })
            .collect();
        if !others.is_empty() {
            cells.push(ZoneFigures {
                zone_id: None,
                name: None,
                figures: self.figures(&others),
            });
        }
        cells
    }

    fn figures(&self, answers: &[&AnswerTimes]) -> Figures {
        Figures::of(answers, self.now_ms, self.min)
    }
}
