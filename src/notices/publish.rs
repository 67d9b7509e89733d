//! Publication and expiry: the two moments a notice event goes to every channel.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::area::NoticeArea;
use super::cap::{CapStatus, MsgType};
use super::events::{NoticeEvent, NoticeEventKind, expired_frame, published_frame, signed_payload};
use super::model::{Notice, NoticeState};
use super::service::{
    Inner, Notices, bump, check_draft, check_four_eyes, check_in_force, check_version, load, record,
};
use super::wide_area::{WideArea, check_confirmed, wide_area};
use crate::auth::{Action, Staff};
use crate::bus::Event;
use crate::outbox::{self, NoticeDispatch};
use crate::problem::{ErrorCode, Problem};
use crate::store::WriteCtx;
use crate::store::notices as notice_rows;
use crate::zones::ZoneIndex;

impl Notices {
    /// A second person approves a draft, which publishes it: signed, stored as an event, and
    /// handed to every channel once committed. `confirm_status` must repeat the notice's status,
    /// so nobody approves a real alert believing it is a test.
    pub async fn approve(
        &self,
        staff: &Staff,
        id: &str,
        version: i64,
        confirm_status: &str,
        confirm_wide_area: bool,
    ) -> Result<Notice, Problem> {
        staff.require(Action::Approve)?;
        let confirmed = CapStatus::parse(confirm_status, "confirm_status")?;
        let draft = self.get(id).await?;
        let zones = self.zones();
        let limit = self.settings().wide_area_zones;
        let (area, covered, wide) = {
            let (zones, spec) = (zones.clone(), draft.content.area.clone());
            tokio::task::spawn_blocking(move || {
                let area = NoticeArea::of(&spec, &zones);
                let covered = area.covered_zones(&zones);
                let wide = wide_area(&covered, &zones, limit);
                (Arc::new(area), covered, wide)
            })
            .await
            .map_err(|err| Problem::internal(&err))?
        };
        let (now, approver, inner, id) = (
            self.now(),
            staff.name.clone(),
            self.inner.clone(),
            id.to_owned(),
        );
        self.inner
            .store
            .write(move |ctx| {
                let mut notice = load(ctx, &id)?;
                check_approvable(&notice, version, &approver, confirmed, now)?;
                check_confirmed(wide.as_ref(), confirm_wide_area)?;
                let original = notice
                    .references_id
                    .as_deref()
                    .map(|original| load(ctx, original))
                    .transpose()?;
                let previous = supersede(ctx, original, notice.msg_type, now)?;
                notice.state = NoticeState::Published;
                notice.approver = Some(approver.clone());
                notice.covered_zones = covered;
                notice.sent = notice.sent.or(Some(now));
                bump(&mut notice, now);
                notice_rows::save(ctx.conn(), &notice)?;
                record(
                    ctx,
                    &approver,
                    "approve",
                    &notice,
                    json!({ "status": notice.content.status, "msg_type": notice.msg_type }),
                )?;
                publish(ctx, &inner, &notice, area, previous.as_ref(), &zones)?;
                Ok(notice)
            })
            .await
    }

    /// What makes a notice's area wide, if it is: the approver must confirm it.
    pub fn wide_area_of(&self, notice: &Notice) -> Option<WideArea> {
        wide_area(
            &notice.covered_zones,
            &self.zones(),
            self.settings().wide_area_zones,
        )
    }

    /// Expires every published notice whose time has come; returns how many.
    pub async fn expire_due(&self) -> Result<usize, Problem> {
        let (now, zones, inner) = (self.now(), self.zones(), self.inner.clone());
        self.inner
            .store
            .write(move |ctx| {
                let due = notice_rows::due_to_expire(ctx.conn(), now.timestamp_millis())?;
                for mut notice in due.iter().cloned() {
                    notice.state = NoticeState::Expired;
                    bump(&mut notice, now);
                    notice_rows::save(ctx.conn(), &notice)?;
                    record(
                        ctx,
                        "system",
                        "expire",
                        &notice,
                        json!({ "expires": notice.content.expires }),
                    )?;
                    // A cancellation is shown until then too: its end is announced alike.
                    announce_expiry(ctx, &inner, &notice, &zones, now)?;
                }
                Ok(due.len())
            })
            .await
    }

    /// When the next published notice expires.
    pub async fn next_expiry(&self) -> Result<Option<DateTime<Utc>>, Problem> {
        let next = self.inner.store.read(notice_rows::next_expiry).await?;
        Ok(next.map(crate::store::reports::from_millis))
    }
}

fn check_approvable(
    notice: &Notice,
    version: i64,
    approver: &str,
    confirmed: CapStatus,
    now: DateTime<Utc>,
) -> Result<(), Problem> {
    check_draft(notice, "approved")?;
    check_version(notice, version)?;
    check_four_eyes(notice, approver, "approve")?;
    super::readiness::check_words_ready(&notice.content)?;
    if confirmed != notice.content.status {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            "confirm_status",
            format!(
                "this is an {} notice; approve it by sending confirm_status = \"{}\" (you sent \"{}\")",
                notice.content.status.as_str(),
                notice.content.status.as_str(),
                confirmed.as_str()
            ),
        ));
    }
    if notice.content.expires <= now {
        return Err(Problem::new(
            ErrorCode::InvalidState,
            "this notice's expires time has passed; edit it before approving",
        ));
    }
    Ok(())
}

/// Takes the original of an Update or Cancel out of force; returns it as it was.
fn supersede(
    ctx: &WriteCtx<'_>,
    original: Option<Notice>,
    msg_type: MsgType,
    now: DateTime<Utc>,
) -> Result<Option<Notice>, Problem> {
    let Some(original) = original else {
        return Ok(None);
    };
    check_in_force(&original, msg_type)?;
    let mut replaced = original.clone();
    replaced.state = if msg_type == MsgType::Cancel {
        NoticeState::Cancelled
    } else {
        NoticeState::Superseded
    };
    bump(&mut replaced, now);
    notice_rows::save(ctx.conn(), &replaced)?;
    Ok(Some(original))
}

fn zone_ids(notice: &Notice) -> Vec<String> {
    notice
        .covered_zones
        .iter()
        .map(|zone| zone.id.clone())
        .collect()
}

/// Signs the notice, stores the event and queues it for the bus.
fn publish(
    ctx: &mut WriteCtx<'_>,
    inner: &Inner,
    notice: &Notice,
    area: Arc<NoticeArea>,
    previous: Option<&Notice>,
    zones: &ZoneIndex,
) -> Result<(), Problem> {
    let seq = notice_rows::next_event_seq(ctx.conn())?;
    let references = previous.and_then(Notice::cap_reference);
    let payload = signed_payload(notice, &inner.settings.office, references.as_deref());
    let frame = published_frame(seq, &inner.signer.sign(payload.as_bytes()), &payload);
    let (ids, previous_ids) = (zone_ids(notice), previous.map(zone_ids).unwrap_or_default());
    let concerned: Vec<String> = ids.iter().chain(&previous_ids).cloned().collect();
    let at = notice.updated_at.timestamp_millis();
    notice_rows::insert_event(
        ctx.conn(),
        seq,
        notice,
        "published",
        &concerned,
        frame.as_bytes(),
        at,
    )?;
    record(
        ctx,
        notice.approver.as_deref().unwrap_or("system"),
        "publish",
        notice,
        json!({ "cursor": seq, "msg_type": notice.msg_type, "zones": ids.len() }),
    )?;
    let previous_area =
        previous.map(|previous| Arc::new(NoticeArea::of(&previous.content.area, zones)));
    outbox::enqueue_notice(
        ctx,
        &NoticeDispatch {
            notice,
            msg_type: Some(notice.msg_type),
            seq,
            zones: &concerned,
            area: &area,
            previous_area: previous_area.as_deref(),
        },
        notice.updated_at,
    )?;
    ctx.emit(Event::Notice(Arc::new(NoticeEvent {
        seq,
        kind: NoticeEventKind::Published(notice.msg_type),
        notice: Arc::new(notice.clone()),
        frame: frame.into(),
        zones: ids,
        previous_zones: previous_ids,
        area,
        previous_area,
        deliveries: inner.deliveries.counter(&notice.id, None),
    })));
    Ok(())
}

fn announce_expiry(
    ctx: &mut WriteCtx<'_>,
    inner: &Inner,
    notice: &Notice,
    zones: &ZoneIndex,
    now: DateTime<Utc>,
) -> Result<(), Problem> {
    let seq = notice_rows::next_event_seq(ctx.conn())?;
    let frame = expired_frame(seq, notice);
    let ids = zone_ids(notice);
    notice_rows::insert_event(
        ctx.conn(),
        seq,
        notice,
        "expired",
        &ids,
        frame.as_bytes(),
        now.timestamp_millis(),
    )?;
    let area = Arc::new(NoticeArea::of(&notice.content.area, zones));
    outbox::enqueue_notice(
        ctx,
        &NoticeDispatch {
            notice,
            msg_type: None,
            seq,
            zones: &ids,
            area: &area,
            previous_area: None,
        },
        now,
    )?;
    ctx.emit(Event::Notice(Arc::new(NoticeEvent {
        seq,
        kind: NoticeEventKind::Expired,
        notice: Arc::new(notice.clone()),
        frame: frame.into(),
        zones: ids,
        previous_zones: Vec::new(),
        area,
        previous_area: None,
        deliveries: inner.deliveries.counter(&notice.id, None),
    })));
    Ok(())
}
