//! A `subscribe` frame read into what the session wants of the notices.

use crate::auth::Staff;
use crate::channels::frames::SubscribeFrame;
use crate::notices::Interest;
use crate::problem::{ErrorCode, Problem};
use crate::reports::Location;
use crate::zones::ZoneIndex;

const MAX_ZONES: usize = 100;

/// Checks a `subscribe` frame; `staff` is the session's login, if any.
pub(super) fn parse(
    frame: &SubscribeFrame,
    staff: Option<&Staff>,
    zones: &ZoneIndex,
) -> Result<Interest, Problem> {
    let chosen = [
        frame.zones.is_some(),
        frame.point.is_some(),
        frame.all.is_some(),
    ]
    .iter()
    .filter(|given| **given)
    .count();
    if chosen != 1 {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            "zones",
            "subscribe to exactly one of: `zones` (a list of zone ids), `point` ({lat, lon}) or `all` (staff only)",
        ));
    }
    if let Some(ids) = &frame.zones {
        return zone_subscription(ids, zones);
    }
    if let Some(point) = &frame.point {
        return Ok(Interest::Point(Location::parse(
            point.lat,
            point.lon,
            "point.lat",
            "point.lon",
        )?));
    }
    if frame.all != Some(true) {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            "all",
            "`all` can only be true",
        ));
    }
    let Some(staff) = staff else {
        return Err(Problem::new(
            ErrorCode::Unauthorized,
            "only staff may subscribe to every notice: send an auth frame with your token first",
        ));
    };
    Interest::everything(staff)
}

fn zone_subscription(ids: &[String], zones: &ZoneIndex) -> Result<Interest, Problem> {
    if ids.is_empty() || ids.len() > MAX_ZONES {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            "zones",
            format!("`zones` needs 1 to {MAX_ZONES} zone ids"),
        ));
    }
    for (n, id) in ids.iter().enumerate() {
        if zones.get(id).is_none() {
            return Err(Problem::with_field(
                ErrorCode::InvalidField,
                format!("zones[{n}]"),
                format!(
                    "there is no zone `{}`; GET /api/v1/zones lists them",
                    id.chars().take(64).collect::<String>()
                ),
            ));
        }
    }
    let mut distinct = ids.to_vec();
    distinct.sort();
    distinct.dedup();
    Ok(Interest::Zones(distinct))
}
