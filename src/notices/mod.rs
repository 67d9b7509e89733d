//! Emergency notices: CAP 1.2 content, the four-eyes workflow, signing, and what channels send.

use crate::cap;
use crate::model::notice_area as area;
mod cap_import;
mod cap_tree;
pub mod cap_xml;
use crate::model::deliveries;
use crate::model::notice_content as content;
pub mod events;
mod expiry;
mod follow_up;
mod import;
mod interest;
use crate::model::notice as model;
mod publish;
mod readiness;
mod reading;
mod service;
mod signing;
mod view;
mod wide_area;

pub use area::{AreaSpec, Circle, LatLon, NoticeArea, RawArea};
pub use cap::{CapCategory, CapStatus, Certainty, MsgType, Severity, Urgency};
pub use cap_import::{ImportedAlert, parse_cap};
pub use content::{InfoText, NoticeContent, RawInfo, RawNotice};
pub use deliveries::{Deliveries, DeliveryCount, DeliveryTotals, Destination};
pub use events::{NoticeEvent, NoticeEventKind};
pub use expiry::{flush_deliveries_periodically, run_expiry};
pub use import::Imported;
pub use interest::{Backlog, Interest, OwedFrame};
pub use model::{Notice, NoticeOrigin, NoticeState};
pub use readiness::{check_words_ready, placeholder};
pub use reading::NoticeFilter;
pub use service::{NoticeSettings, Notices};
pub use signing::{KEY_FILE, PublicKeyView, SignatureView, Signer};
pub use view::{Change, NoticeView, changes_between};
pub use wide_area::{WideArea, wide_area};
