//! The hub's model: the value types every layer shares (reports, incidents, field teams,
//! notices and their events, listing filters), importing nothing but errors, zones and the CAP
//! vocabulary. The store, the bus and the domain services all depend on it; it depends on none
//! of them.

pub(crate) mod chat;
pub(crate) mod deliveries;
pub(crate) mod field;
pub(crate) mod filters;
pub(crate) mod notice;
pub(crate) mod notice_area;
pub(crate) mod notice_content;
pub(crate) mod notice_event;
pub(crate) mod outbox;
pub(crate) mod report;
mod target;
mod text;
pub(crate) mod triage;

pub use crate::cap::MsgType;
pub use crate::zones::{Location, ZoneRef};
pub use chat::{
    ChatButton, ChatInput, ChatMessage, ChatRef, ChatService, IncomingChat, PhotoRefusal,
};
pub use deliveries::{Deliveries, DeliveryCount, DeliveryTotals, Destination};
pub use field::{Device, DeviceState, Position, Task, TaskStatus, Team};
pub use filters::{AuditFilter, AuditRecord, NoticeFilter, ReportFilter, StatsScope};
pub use notice::{Notice, NoticeOrigin, NoticeState, page_url as notice_page_url};
pub use notice_area::{AreaSpec, Circle, LatLon, NoticeArea, RawArea};
pub use notice_content::{InfoText, NoticeContent, RawInfo, RawNotice, canonical_language};
pub use notice_event::{NoticeEvent, NoticeEventKind};
pub use outbox::{
    Delivery, DeliveryKind, DeliveryState, OutboundChannel, OutboxStatus, Outcome, QueueGauge,
    Recipient, Subscription, SubscriptionState, Target,
};
pub use report::{
    ClientRef, Contact, DeviceId, Photo, Receipt, Report, ReportStatus, Source, TriageState,
};
pub use text::{
    bounded_text, parse_email, refuse_what_xml_cannot_hold, with_lf_line_breaks, xml_forbidden_char,
};
pub use triage::{
    ChangeKind, Followed, HistoryEntry, Incident, IncidentFilter, IncidentStatus, Overdue,
    OverdueStep, RejectionReason, ReportChange, ReporterUpdate,
};
