//! What a subscriber wants of the notices (zones, a point, or everything), and the notice
//! frames a new subscriber is owed: every event since its cursor that concerns it, or the
//! notices in force.

use std::collections::HashMap;

use super::service::Notices;
use super::{NoticeArea, NoticeEvent};
use crate::auth::{Action, Staff};
use crate::model::Location;
use crate::problem::{ErrorCode, Problem};
use crate::store::StoreError;
use crate::store::notices::{self as notice_rows, StoredEvent};
use crate::zones::ZoneIndex;

/// A client further behind than this resubscribes without a cursor and gets the notices in
/// force instead: what it missed is then mostly history.
const MAX_REPLAY: usize = 1000;

/// One session's interest in notices.
#[derive(Debug, Clone)]
pub enum Interest {
    /// Distinct zone ids.
    Zones(Vec<String>),
    Point(Location),
    /// Everything: staff only.
    Everything,
}

impl Interest {
    /// Every notice, drafts' publications included as they happen: for staff who read notices.
    pub fn everything(staff: &Staff) -> Result<Interest, Problem> {
        staff.require(Action::Read)?;
        Ok(Interest::Everything)
    }

    /// Whether a live event concerns this subscriber.
    pub fn wants(&self, event: &NoticeEvent) -> bool {
        match self {
            Interest::Everything => true,
            Interest::Zones(zones) => event.concerns_any_zone(zones),
            Interest::Point(point) => event.concerns_point(*point),
        }
    }
}

/// The frames a new subscriber is owed, oldest first, and the cursor they bring it up to.
pub struct Backlog {
    pub events: Vec<OwedFrame>,
    pub position: i64,
}

/// One stored notice frame, as the hub signed and encoded it.
pub struct OwedFrame {
    pub notice_id: String,
    /// A publication (not an expiry or a withdrawal): it counts as a delivery.
    pub published: bool,
    pub frame: Vec<u8>,
}

impl From<StoredEvent> for OwedFrame {
    fn from(event: StoredEvent) -> OwedFrame {
        OwedFrame {
            published: event.kind == "published",
            notice_id: event.notice_id,
            frame: event.frame,
        }
    }
}

impl Notices {
    /// With a cursor: every event since, that concerns the subscriber. Without: the notices
    /// in force.
    pub async fn owed(&self, interest: Interest, cursor: Option<i64>) -> Result<Backlog, Problem> {
        let zones = self.zones();
        self.store().read(move |conn| {
            let position = notice_rows::latest_event_seq(conn)?;
            // A cursor from beyond the newest event was kept from before a restored backup:
            // the events it stands for are gone, so what is in force is sent instead.
            let candidates = match cursor.filter(|cursor| *cursor <= position) {
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
                if concerns(&interest, &event, conn, &zones, &mut areas)? {
                    events.push(event.into());
                }
            }
            Ok::<_, StoreError>(Ok(Backlog { events, position }))
        })
        .await?
    }
}

fn concerns(
    subscription: &Interest,
    event: &StoredEvent,
    conn: &rusqlite::Connection,
    zones: &ZoneIndex,
    areas: &mut AreaCache,
) -> Result<bool, StoreError> {
    Ok(match subscription {
        Interest::Everything => true,
        Interest::Zones(wanted) => event.zones.iter().any(|zone| wanted.contains(zone)),
        Interest::Point(point) => areas
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
