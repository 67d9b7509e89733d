//! Writing deliveries in the transaction of the event they carry: one row per destination,
//! each superseding what still waits for that destination in the same thread.

use chrono::{DateTime, Utc};

use crate::cap::{CapStatus, MsgType, Urgency};
use crate::model::{
    ChatRef, ChatService, DeliveryKind, Notice, NoticeArea, OutboundChannel, Report,
};
use crate::store::chats::chat_destination;
use crate::store::outbox::{self as outbox_rows, NewDelivery};
use crate::store::subscriptions::{self, Candidate};
use crate::store::{StoreError, WriteCtx};

/// A committed notice event, as the outbox needs to see it.
pub struct NoticeDispatch<'a> {
    pub notice: &'a Notice,
    /// `None` for an expiry.
    pub msg_type: Option<MsgType>,
    pub seq: i64,
    /// Zones the notice covers now and covered before this event.
    pub zones: &'a [String],
    pub area: &'a NoticeArea,
    pub previous_area: Option<&'a NoticeArea>,
}

impl NoticeDispatch<'_> {
    fn kind(&self) -> DeliveryKind {
        match self.msg_type {
            Some(MsgType::Alert) => DeliveryKind::Alert,
            Some(MsgType::Update) => DeliveryKind::Update,
            Some(MsgType::Cancel) => DeliveryKind::Cancel,
            None => DeliveryKind::Expired,
        }
    }

    /// Actual and Immediate first, then other real alerts, then exercises and tests.
    fn priority(&self) -> i64 {
        let content = &self.notice.content;
        match (content.status, content.urgency) {
            (CapStatus::Actual, Urgency::Immediate) => 0,
            (CapStatus::Actual, _) => 1,
            _ => 3,
        }
    }

    fn wanted_by(&self, candidate: &Candidate, kind: DeliveryKind) -> bool {
        let severity = self.notice.content.severity.as_str();
        let kind_wanted = match &candidate.events {
            Some(events) => events.iter().any(|event| event == kind.as_str()),
            // People are told of alerts, updates and cancellations; the end of a notice was
            // announced with it (its expiry time), so only systems that ask hear of it.
            None => kind != DeliveryKind::Expired || candidate.channel == OutboundChannel::Webhook,
        };
        let severity_wanted = candidate
            .severities
            .as_ref()
            .is_none_or(|wanted| wanted.iter().any(|s| s == severity));
        let place_covered = candidate.point.is_none_or(|point| {
            self.area.contains(point) || self.previous_area.is_some_and(|area| area.contains(point))
        });
        kind_wanted && severity_wanted && place_covered
    }
}

/// Queues the event for every destination that wants it; returns how many rows.
pub fn enqueue_notice(
    ctx: &WriteCtx<'_>,
    dispatch: &NoticeDispatch<'_>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let conn = ctx.conn();
    let notice = dispatch.notice;
    let kind = dispatch.kind();
    let mut candidates = subscriptions::candidates(conn, dispatch.zones)?;
    if kind == DeliveryKind::Expired {
        // What never left is not sent now; only destinations that heard of the notice hear
        // of its end.
        outbox_rows::expire_thread(conn, &notice.thread_id)?;
        let reached = outbox_rows::reached_in_thread(conn, &notice.thread_id)?;
        candidates.retain(|candidate| reached.contains(&candidate.id));
    }
    let mut first_new = None;
    let mut queued = 0;
    for candidate in candidates.iter().filter(|c| dispatch.wanted_by(c, kind)) {
        let id = outbox_rows::insert(
            conn,
            &NewDelivery {
                channel: candidate.channel,
                destination: &candidate.id,
                thread: &notice.thread_id,
                kind,
                notice_id: Some(&notice.id),
                event_seq: Some(dispatch.seq),
                report_id: None,
                update_cursor: None,
                message_id: None,
                priority: dispatch.priority(),
            },
            now.timestamp_millis(),
        )?;
        first_new.get_or_insert(id);
        queued += 1;
    }
    if let Some(first_new) = first_new {
        outbox_rows::supersede_older(conn, &notice.thread_id, first_new)?;
    }
    Ok(queued)
}

/// The destination of a reporter's own address.
pub fn reporter_destination(report_id: &str) -> String {
    format!("report:{report_id}")
}

/// Where a reporter hears back outside the hub.
struct ReporterAddress {
    channel: OutboundChannel,
    destination: String,
    thread: String,
}

/// The chat they reported from (while it has not asked to be forgotten), in the chat's own
/// thread, so that news never overtakes an answer written before it (one held back by the
/// service's pace, say); else the e-mail address they gave.
fn reporter_address(report: &Report) -> Option<ReporterAddress> {
    let service = ChatService::parse(report.source.as_str());
    if let (Some(service), Some(chat_id)) = (service, &report.device_id) {
        let chat = chat_destination(&ChatRef {
            service,
            chat_id: chat_id.as_str().to_owned(),
        });
        return Some(ReporterAddress {
            channel: service.channel(),
            destination: chat.clone(),
            thread: chat,
        });
    }
    let email = report
        .contact
        .as_ref()
        .and_then(|contact| contact.email.as_ref());
    email.map(|_| ReporterAddress {
        channel: OutboundChannel::Email,
        destination: reporter_destination(&report.id),
        thread: report.id.clone(),
    })
}

/// Queues a reporter's status update for their chat or e-mail address, if they can be reached.
pub fn enqueue_report_update(
    ctx: &WriteCtx<'_>,
    report: &Report,
    update_cursor: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let Some(address) = reporter_address(report) else {
        return Ok(false);
    };
    outbox_rows::insert(
        ctx.conn(),
        &NewDelivery {
            channel: address.channel,
            destination: &address.destination,
            thread: &address.thread,
            kind: DeliveryKind::ReportUpdate,
            notice_id: None,
            event_seq: None,
            report_id: Some(&report.id),
            update_cursor: Some(update_cursor),
            message_id: None,
            priority: 2,
        },
        now.timestamp_millis(),
    )?;
    Ok(true)
}

/// Queues a conversation's answer (stored as chat message `message_id`) for its chat. A person
/// is waiting for it, so it goes before everything else, a notice's broadcast included; its
/// thread is the chat, so the answers arrive in the order they were written.
pub fn enqueue_chat_message(
    ctx: &WriteCtx<'_>,
    chat: &ChatRef,
    message_id: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let destination = chat_destination(chat);
    outbox_rows::insert(
        ctx.conn(),
        &NewDelivery {
            channel: chat.service.channel(),
            destination: &destination,
            thread: &destination,
            kind: DeliveryKind::ChatMessage,
            notice_id: None,
            event_seq: None,
            report_id: None,
            update_cursor: None,
            message_id: Some(message_id),
            priority: -1,
        },
        now.timestamp_millis(),
    )?;
    Ok(())
}
