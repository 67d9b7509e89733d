//! What a WebSocket session subscribed to, and the notice frames it is owed on subscribing.

use std::collections::HashMap;

use crate::auth::{Action, Staff};
use crate::channels::frames::SubscribeFrame;
use crate::notices::{NoticeArea, NoticeEvent};
use crate::problem::{ErrorCode, Problem};
use crate::reports::Location;
use crate::store::notices::{self as notice_rows, StoredEvent};
use crate::store::{Store, StoreError};
use crate::zones::ZoneIndex;

const MAX_ZONES: usize = 100;
/// A client further behind than this resubscribes without a cursor and gets the notices in
/// force instead: what it missed is then mostly history.
const MAX_REPLAY: usize = 1000;

/// One session's interest in notices.
#[derive(Debug, Clone)]
pub enum Subscription {
    /// Distinct zone ids.
    Zones(Vec<String>),
    Point(Location),
    /// Everything: staff only.
    Everything,
}

impl Subscription {
    /// Checks a `subscribe` frame; `staff` is the session's login, if any.
    pub fn parse(
        frame: &SubscribeFrame,
        staff: Option<&Staff>,
        zones: &ZoneIndex,
    ) -> Result<Subscription, Problem> {
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
            return Ok(Subscription::Point(Location::parse(
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
        staff.require(Action::Read)?;
        Ok(Subscription::Everything)
    }

    /// Whether a live event concerns this subscriber.
    pub fn wants(&self, event: &NoticeEvent) -> bool {
        match self {
            Subscription::Everything => true,
            Subscription::Zones(zones) => event.concerns_any_zone(zones),
            Subscription::Point(point) => event.concerns_point(*point),
        }
    }
}

fn zone_subscription(ids: &[String], zones: &ZoneIndex) -> Result<Subscription, Problem> {
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
    Ok(Subscription::Zones(distinct))
}

/// The frames a new subscriber is owed, oldest first, and the cursor they bring it up to.
pub struct Backlog {
    pub events: Vec<StoredEvent>,
    pub position: i64,
}

/// With a cursor: every event since, that concerns the subscriber. Without: the notices in force.
pub async fn backlog(
    store: &Store,
    zones: std::sync::Arc<ZoneIndex>,
    subscription: Subscription,
    cursor: Option<i64>,
) -> Result<Backlog, Problem> {
    store
        .read(move |conn| {
            let position = notice_rows::latest_event_seq(conn)?;
            let candidates = match cursor {
                Some(cursor) => notice_rows::events_after(conn, cursor, MAX_REPLAY + 1)?,
                None => notice_rows::active_frames(conn)?,
            };
            if candidates.len() > MAX_REPLAY {
                return Ok(Err(Problem::with_field(
                    ErrorCode::InvalidField,
                    "cursor",
                    format!("more than {MAX_REPLAY} notice events happened since this cursor; subscribe without a cursor to get the notices in force"),
                )));
            }
            let mut areas = AreaCache::default();
            let mut events = Vec::new();
            for event in candidates.into_iter().filter(|event| event.seq <= position) {
                if concerns(&subscription, &event, conn, &zones, &mut areas)? {
                    events.push(event);
                }
            }
            Ok::<_, StoreError>(Ok(Backlog { events, position }))
        })
        .await?
}

fn concerns(
    subscription: &Subscription,
    event: &StoredEvent,
    conn: &rusqlite::Connection,
    zones: &ZoneIndex,
    areas: &mut AreaCache,
) -> Result<bool, StoreError> {
    Ok(match subscription {
        Subscription::Everything => true,
        Subscription::Zones(wanted) => event.zones.iter().any(|zone| wanted.contains(zone)),
        Subscription::Point(point) => areas
            .of_event(conn, &event.notice_id, zones)?
            .iter()
            .any(|area| area.contains(*point)),
    })
}

/// Areas of notices (and of the notices they replaced), built once per replay.
#[derive(Default)]
struct AreaCache {
    by_notice: HashMap<String, Vec<NoticeArea>>,
}

impl AreaCache {
    fn of_event(
        &mut self,
        conn: &rusqlite::Connection,
        notice_id: &str,
        zones: &ZoneIndex,
    ) -> Result<&[NoticeArea], StoreError> {
        if !self.by_notice.contains_key(notice_id) {
            let mut areas = Vec::new();
            if let Some(notice) = notice_rows::get(conn, notice_id)? {
                areas.push(NoticeArea::of(&notice.content.area, zones));
                if let Some(original) = notice
                    .references_id
                    .as_deref()
                    .map(|id| notice_rows::get(conn, id))
                    .transpose()?
                    .flatten()
                {
                    areas.push(NoticeArea::of(&original.content.area, zones));
                }
            }
            self.by_notice.insert(notice_id.to_owned(), areas);
        }
        Ok(&self.by_notice[notice_id])
    }
}
