//! Importing a CAP alert from another authority: stored as a draft, relayed after approval.

use serde_json::json;

use super::area::NoticeArea;
use super::cap::MsgType;
use super::cap_import::{ImportRules, ImportedAlert, parse_cap};
use super::content::NoticeContent;
use super::model::{Notice, NoticeOrigin, NoticeState};
use super::service::{Notices, record};
use crate::auth::{Action, Staff};
use crate::problem::{ErrorCode, Problem};
use crate::store::WriteCtx;
use crate::store::notice_upstream::{UpstreamRow, set_upstream};
use crate::store::notices as notice_rows;

/// An imported alert, stored as a draft, and what of the document was not read.
#[derive(Debug)]
pub struct Imported {
    pub notice: Notice,
    /// `{namespace}name` of elements of other namespaces, set aside unread (and not relayed).
    pub set_aside: Vec<String>,
    /// What the operator should know about how the document was read.
    pub warnings: Vec<String>,
}

impl Notices {
    /// Stores a CAP alert from another authority as a draft to be relayed after approval.
    pub async fn import(&self, staff: &Staff, xml: Vec<u8>) -> Result<Imported, Problem> {
        staff.require(Action::Draft)?;
        let settings = &self.inner.settings;
        let (now, zones) = (self.now(), self.zones());
        let rules = ImportRules {
            max_bytes: settings.max_import_bytes,
            default_validity: settings.import_default_validity,
            now,
        };
        let (alert, content, covered) = tokio::task::spawn_blocking(move || {
            let mut alert = parse_cap(&xml, rules, &zones)?;
            let raw = std::mem::take(&mut alert.raw);
            // One that arrived expired is judged as of when it was sent: it is kept as history.
            let judged_at = if alert.expired { alert.sent } else { now };
            let content = NoticeContent::parse_received(raw, judged_at, &zones, alert.msg_type)?;
            let covered = NoticeArea::of(&content.area, &zones).covered_zones(&zones);
            Ok::<_, Problem>((alert, content, covered))
        })
        .await
        .map_err(|err| Problem::internal(&err))??;
        let importer = staff.name.clone();
        let office = self.inner.settings.office.clone();
        self.inner
            .store
            .write(move |ctx| {
                if let Some(existing) = notice_rows::find_by_cap_key(ctx.conn(), &alert.sender, &alert.identifier)? {
                    return Err(Problem::new(ErrorCode::InvalidState, format!("this alert was already imported as notice {}", existing.id)));
                }
                let original = referenced(ctx, &alert.references)?;
                if alert.msg_type == MsgType::Cancel && original.is_none() {
                    return Err(Problem::new(ErrorCode::InvalidState, "this cancels an alert this hub never received: there is nothing to withdraw"));
                }
                let id = uuid::Uuid::now_v7().to_string();
                // An update of an alert never received still says what it updates.
                let upstream = upstream_row(&alert, original.is_none());
                let mut notice = Notice {
                    seq: 0,
                    thread_id: original.as_ref().map_or(id.clone(), |o| o.thread_id.clone()),
                    references_id: original.map(|o| o.id),
                    id,
                    state: if alert.expired { NoticeState::Expired } else { NoticeState::Draft },
                    origin: NoticeOrigin::Imported,
                    msg_type: alert.msg_type,
                    content,
                    covered_zones: covered,
                    identifier: alert.identifier,
                    sender: alert.sender,
                    sent: Some(alert.sent),
                    author: importer.clone(),
                    editors: vec![importer.clone()],
                    approver: None,
                    rejection_reason: None,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                };
                notice.seq = notice_rows::insert(ctx.conn(), &notice)?;
                set_upstream(ctx.conn(), &notice.id, &upstream)?;
                let detail = json!({ "sender": notice.sender, "identifier": notice.identifier, "office": office, "set_aside": alert.foreign, "warnings": alert.warnings });
                record(ctx, &importer, "import", &notice, detail)?;
                Ok(Imported { notice, set_aside: alert.foreign, warnings: alert.warnings })
            })
            .await
    }
}

/// The notice an imported Update or Cancel refers to, if this hub has it.
fn referenced(
    ctx: &WriteCtx<'_>,
    references: &[(String, String)],
) -> Result<Option<Notice>, Problem> {
    for (sender, identifier) in references.iter().rev() {
        if let Some(notice) = notice_rows::find_by_cap_key(ctx.conn(), sender, identifier)? {
            return Ok(Some(notice));
        }
    }
    Ok(None)
}

/// What the relay needs of the sender's document. An update of an alert never received still
/// says what it updates.
fn upstream_row(alert: &ImportedAlert, orphan: bool) -> UpstreamRow {
    UpstreamRow {
        refs: alert.references_text.clone().filter(|_| orphan),
        sender_name: alert.sender_name.clone(),
        alert: Some(serde_json::to_string(&alert.alert).expect("CAP elements serialize")),
    }
}
