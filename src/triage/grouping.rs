//! Where a new report belongs: the nearest open incident of its kind, or a new one, and
//! counting it in once it is stored.

use std::sync::Arc;

use chrono::Duration;
use geo::{Distance, Haversine, Point};

use crate::bus::Event;
use crate::model::Report;
use crate::store::incidents as incident_rows;
use crate::store::reports::NewReport;
use crate::store::{StoreError, WriteCtx};

/// Metres per degree of latitude, for the search box around a point.
const METRES_PER_DEGREE: f64 = 111_320.0;

/// When reports belong together: same category, this close, this recent.
#[derive(Debug, Clone, Copy)]
pub struct Grouping {
    pub radius_m: f64,
    pub window: Duration,
}

/// Where a new report belongs.
pub(crate) enum Home {
    /// An open incident near it.
    Open(String),
    /// A new incident of its own, created once the report is stored.
    New(String),
}

impl Home {
    pub(crate) fn id(&self) -> &str {
        match self {
            Home::Open(id) | Home::New(id) => id,
        }
    }
}

/// The nearest open incident a new report fits, or a new one of its own. Changes nothing, so
/// that a report not stored after this (a retry, a reused `client_ref`) leaves no incident
/// behind.
pub(crate) fn choose(
    conn: &rusqlite::Connection,
    report: &NewReport,
    grouping: &Grouping,
) -> Result<Home, StoreError> {
    let nearest = if grouping.radius_m > 0.0 {
        nearest_open(conn, report, grouping)?
    } else {
        None
    };
    Ok(match nearest {
        Some(id) => Home::Open(id),
        None => Home::New(uuid::Uuid::now_v7().to_string()),
    })
}

/// Counts a stored report into the incident chosen for it (made for it if new), and tells
/// staff.
pub(crate) fn joined(
    ctx: &mut WriteCtx<'_>,
    report: &Report,
    home: &Home,
) -> Result<(), StoreError> {
    let (conn, at) = (ctx.conn(), report.received_at);
    match home {
        Home::New(id) => {
            let incident =
                incident_rows::insert(conn, id, &report.category, report.location, at, 1)?;
            ctx.emit(Event::Incident(Arc::new(incident)));
        }
        Home::Open(id) => {
            incident_rows::add_report(conn, id, report.location, at)?;
            ctx.incident_changed(id);
        }
    }
    Ok(())
}

/// The id of the nearest open incident within the grouping radius, if any.
fn nearest_open(
    conn: &rusqlite::Connection,
    report: &NewReport,
    grouping: &Grouping,
) -> Result<Option<String>, StoreError> {
    let (lat, lon) = (report.location.lat, report.location.lon);
    let dlat = grouping.radius_m / METRES_PER_DEGREE;
    let dlon = dlat / lat.to_radians().cos().max(0.01);
    let bbox = [lon - dlon, lat - dlat, lon + dlon, lat + dlat];
    let since = report.received_at - grouping.window;
    let here = Point::new(lon, lat);
    let candidates = incident_rows::open_near(conn, &report.category, since, bbox)?;
    Ok(candidates
        .into_iter()
        .map(|(id, centre)| {
            (
                Haversine.distance(here, Point::new(centre.lon, centre.lat)),
                id,
            )
        })
        .filter(|(distance, _)| *distance <= grouping.radius_m)
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, id)| id))
}
