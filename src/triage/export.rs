//! Open data: reports with everything personal removed, for publication. No contact details,
//! no device ids, no report ids (they unlock a report's updates), no free text (people write
//! names and phone numbers in it), no photos, and positions rounded to `open_data.precision_decimals`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::service::Triage;
use crate::auth::{Action, Staff};
use crate::model::ReportFilter;
use crate::model::{Report, ReportStatus};
use crate::problem::{ErrorCode, Problem};
use crate::store::reports as report_rows;

/// One published report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OpenRecord {
    pub category: String,
    pub status: ReportStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    pub lat: f64,
    pub lon: f64,
    /// The smallest zone it fell in.
    pub zone_id: Option<String>,
    pub zone_name: Option<String>,
    pub incident_id: Option<String>,
    pub received_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// A page of the export, newest first.
pub struct OpenData {
    pub records: Vec<OpenRecord>,
    pub next_cursor: Option<i64>,
}

impl OpenRecord {
    fn of(report: &Report, decimals: u32) -> OpenRecord {
        let zone = report.zones.first();
        OpenRecord {
            category: report.category.clone(),
            status: report.status,
            rejection_reason: report.triage.rejection_reason.clone(),
            lat: round(report.location.lat, decimals),
            lon: round(report.location.lon, decimals),
            zone_id: zone.map(|zone| zone.id.clone()),
            zone_name: zone.map(|zone| zone.name.clone()),
            incident_id: report.triage.incident_id.clone(),
            received_at: report.received_at,
            acknowledged_at: report.triage.acknowledged_at,
            closed_at: report.triage.closed_at,
        }
    }

    pub fn feature(&self) -> Value {
        let mut properties = json!(self);
        if let Some(properties) = properties.as_object_mut() {
            properties.remove("lat");
            properties.remove("lon");
        }
        json!({
            "type": "Feature",
            "geometry": { "type": "Point", "coordinates": [self.lon, self.lat] },
            "properties": properties,
        })
    }
}

/// `value` to `decimals` places; the output carries no more digits than that.
pub fn round(value: f64, decimals: u32) -> f64 {
    let scale = 10f64.powi(decimals as i32);
    let rounded = (value * scale).round() / scale;
    format!("{rounded:.*}", decimals as usize)
        .parse()
        .unwrap_or(rounded)
}

impl Triage {
    /// A page of open data for `filter`; `filter.limit` bounds it. `reader` is the caller's
    /// login, which the office may require (`open_data.public = false`).
    pub async fn open_data(
        &self,
        reader: Option<&Staff>,
        filter: ReportFilter,
    ) -> Result<OpenData, Problem> {
        if !self.settings().open_data_public {
            let staff = reader.ok_or_else(|| {
                Problem::new(
                    ErrorCode::Unauthorized,
                    "the open-data export needs a staff login here (open_data.public = false)",
                )
            })?;
            staff.require(Action::Read)?;
        }
        let decimals = self.settings().open_data_decimals;
        let limit = filter.limit;
        let reports = self
            .store()
            .read(move |conn| report_rows::list(conn, &filter))
            .await?;
        let next_cursor = (reports.len() == limit)
            .then(|| reports.last().map(|report| report.seq))
            .flatten();
        Ok(OpenData {
            records: reports
                .iter()
                .map(|report| OpenRecord::of(report, decimals))
                .collect(),
            next_cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::round;

    #[test]
    fn rounding_keeps_only_the_configured_decimals() {
        assert_eq!(round(44.494_887, 3), 44.495);
        assert_eq!(round(11.342_616, 2), 11.34);
        assert_eq!(round(-0.000_4, 3), -0.0);
    }
}
