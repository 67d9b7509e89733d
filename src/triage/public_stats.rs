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

/// The longest period one request may span.
const MAX_MONTHS: u32 = 36;
/// The period when the reader names none: the last twelve months, this one included.
const DEFAULT_MONTHS: u32 = 12;

/// What the office lets the public statistics show.
#[derive(Debug, Clone)]
pub struct PublicStatsSettings {
    pub min_count: u32,
    /// The zone level of the breakdown by zone, unless the reader asks for another.
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
            .filter(|_| text.len() == 7)
            .map(Month)
            .ok_or_else(|| {
                Problem::with_field(
                    ErrorCode::InvalidField,
                    field,
                    format!("`{field}` must be a month written YYYY-MM, such as 2026-11"),
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

/// What a reader asks for; every field may be left out.
#[derive(Debug, Default, Clone)]
pub struct PublicStatsRequest {
    /// First month; by default eleven months before `to`.
    pub from: Option<Month>,
    /// Last month; by default the current one.
    pub to: Option<Month>,
    pub category: Option<String>,
    pub zone: Option<String>,
    pub level: Option<String>,
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

/// A zone's figures; no zone means reports outside every zone of the level.
#[derive(Debug, Serialize)]
pub struct ZoneFigures {
    pub zone_id: Option<String>,
    pub name: Option<String>,
    #[serde(flatten)]
    pub figures: Figures,
}

impl Triage {
    /// The public figures; anyone may read them, so they hold counts and times only.
    pub async fn public_stats(&self, request: PublicStatsRequest) -> Result<PublicStats, Problem> {
        let now = self.now();
        let settings = self.settings();
        let to = request.to.unwrap_or_else(|| Month::of(now));
        let from = request.from.unwrap_or_else(|| to.minus(DEFAULT_MONTHS - 1));
        check_period(from, to)?;
        if let Some(category) = &request.category {
            self.category(category)?;
        }
        let scope = AnswerScope {
            from_ms: from.start_ms(),
            until_ms: to.plus(1).start_ms(),
            category: request.category,
            zone: request.zone,
            level: request
                .level
                .unwrap_or_else(|| settings.public_stats.level.clone()),
        };
        let level = scope.level.clone();
        let answers = self
            .store()
            .read(move |conn| {
                check_known(conn, &scope)?;
                Ok::<_, Problem>(rows::answer_times(conn, &scope)?)
            })
            .await?;
        let min = settings.public_stats.min_count as usize;
        Ok(PublicStats {
            generated_at: now,
            from: from.label(),
            to: to.label(),
            min_count: settings.public_stats.min_count,
            level,
            targets: self.published_targets(),
            months: months(from, to)
                .map(|month| month_figures(month, &answers, now.timestamp_millis(), min))
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

    fn category(&self, code: &str) -> Result<(), Problem> {
        match self.settings().categories.get(code) {
            Some(_) => Ok(()),
            None => Err(Problem::with_field(
                ErrorCode::InvalidField,
                "category",
                format!("there is no category `{code}`; GET /api/v1/categories lists them"),
            )),
        }
    }
}

/// Refuses a zone or a level the office does not have, rather than answer with nothing.
fn check_known(conn: &rusqlite::Connection, scope: &AnswerScope) -> Result<(), Problem> {
    let unknown = |field: &str, message: String| {
        Err(Problem::with_field(ErrorCode::InvalidField, field, message))
    };
    if let Some(zone) = &scope.zone
        && !rows::zone_exists(conn, zone)?
    {
        return unknown(
            "zone",
            format!("there is no zone `{zone}`; GET /api/v1/zones lists them"),
        );
    }
    if !rows::level_exists(conn, &scope.level)? {
        return unknown(
            "level",
            format!(
                "there are no zones of level `{}`; GET /api/v1/zones lists them",
                scope.level
            ),
        );
    }
    Ok(())
}

fn check_period(from: Month, to: Month) -> Result<(), Problem> {
    if from > to || from.plus(MAX_MONTHS) <= to {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            "from",
            format!(
                "`from` must be a month at most {MAX_MONTHS} months before `to`, or `to` itself"
            ),
        ));
    }
    Ok(())
}

fn months(from: Month, to: Month) -> impl Iterator<Item = Month> {
    std::iter::successors(Some(from), move |month| {
        Some(month.plus(1)).filter(|next| *next <= to)
    })
}

fn month_figures(month: Month, answers: &[AnswerTimes], now_ms: i64, min: usize) -> MonthFigures {
    let label = month.label();
    let of_month: Vec<&AnswerTimes> = answers.iter().filter(|a| a.month == label).collect();
    let mut by_category: BTreeMap<&str, Vec<&AnswerTimes>> = BTreeMap::new();
    let mut by_zone: BTreeMap<Option<&(String, String)>, Vec<&AnswerTimes>> = BTreeMap::new();
    for answer in &of_month {
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
            figures: Figures::of(&answers, now_ms, min),
        })
        .collect();
    protect(categories.iter_mut().map(|cell| &mut cell.figures));
    let mut zones: Vec<ZoneFigures> = by_zone
        .into_iter()
        .map(|(zone, answers)| ZoneFigures {
            zone_id: zone.map(|(id, _)| id.clone()),
            name: zone.map(|(_, name)| name.clone()),
            figures: Figures::of(&answers, now_ms, min),
        })
        .collect();
    protect(zones.iter_mut().map(|cell| &mut cell.figures));
    MonthFigures {
        month: label,
        all: Figures::of(&of_month, now_ms, min),
        by_category: categories,
        by_zone: zones,
    }
}
