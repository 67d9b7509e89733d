//! Importing a CAP alert from another authority: stored as a draft, relayed after approval.
//! Staff import by hand; configured sources (`channels::cap_sources`) import what they poll.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::area::NoticeArea;
use super::cap::MsgType;
use super::cap_import::{ImportRules, ImportedAlert, parse_cap};
use super::cap_trust::SignatureCheck;
use super::content::NoticeContent;
use super::follow_up::cancellation_of;
use super::model::{Notice, NoticeOrigin, NoticeState};
use super::service::{Notices, bump, record};
use crate::auth::{Action, Staff};
use crate::config::CapSource;
use crate::problem::{ErrorCode, Problem};
use crate::store::WriteCtx;
use crate::store::notice_upstream::{UpstreamRow, set_upstream};
use crate::store::notices as notice_rows;
use crate::zones::ZoneRef;

/// An imported alert, stored as a draft, and what of the document was not read.
#[derive(Debug)]
pub struct Imported {
    pub notice: Notice,
    /// `{namespace}name` of elements of other namespaces, set aside unread (and not relayed).
    pub set_aside: Vec<String>,
    /// What the operator should know about how the document was read.
    pub warnings: Vec<String>,
    /// A Cancel of an alert never relayed: `notice` is that alert's draft, withdrawn.
    pub withdrawn: bool,
    /// What the office found of the sender's XML signature.
    pub signature: SignatureCheck,
}

/// What became of a received alert.
#[derive(Debug)]
pub enum Received {
    Taken(Box<Imported>),
    /// The hub already holds this alert (same sender and identifier): nothing was written.
    AlreadyHeld {
        notice_id: String,
    },
}

impl Notices {
    /// Stores a CAP alert from another authority as a draft to be relayed after approval.
    pub async fn import(&self, staff: &Staff, xml: Vec<u8>) -> Result<Imported, Problem> {
        staff.require(Action::Draft)?;
        match self.receive(staff.name.clone(), None, xml).await? {
            Received::Taken(imported) => Ok(*imported),
            Received::AlreadyHeld { notice_id } => Err(Problem::new(
                ErrorCode::InvalidState,
                format!(
                    "the hub already holds this alert (same sender and identifier) as notice {notice_id}"
                ),
            )),
        }
    }

    /// Stores an alert a configured source published, once: the source is its importer, and
    /// an approver relays it.
    pub async fn receive_from_source(
        &self,
        source: &CapSource,
        xml: Vec<u8>,
    ) -> Result<Received, Problem> {
        let actor = format!("source:{}", source.name);
        self.receive(actor, Some(source), xml).await
    }

    async fn receive(
        &self,
        importer: String,
        source: Option<&CapSource>,
        xml: Vec<u8>,
    ) -> Result<Received, Problem> {
        let now = self.now();
        let (mut alert, read, signature) = self.read_alert(xml, now).await?;
        let rule = source.and_then(|source| source.fast_review.as_ref());
        let fast_review = rule
            .zip(read.as_ref())
            .is_some_and(|(rule, (content, covered))| {
                rule.marks(
                    content.severity.as_str(),
                    content.urgency.as_str(),
                    !covered.is_empty(),
                )
            });
        if fast_review {
            alert
                .warnings
                .push("marked for fast review by its source's rule".into());
        }
        let source = source.map(|source| source.name.clone());
        let office = self.inner.settings.office.clone();
        self.inner
            .store
            .write(move |ctx| {
                if let Some(held) =
                    notice_rows::find_by_cap_key(ctx.conn(), &alert.sender, &alert.identifier)?
                {
                    return Ok(Received::AlreadyHeld { notice_id: held.id });
                }
                let mut original = referenced(ctx, &alert.references)?;
                // A Cancel without <info> says what and where by the alert it cancels.
                let Some((content, covered)) =
                    read.or_else(|| original.as_ref().map(cancellation_of))
                else {
                    return Err(never_received());
                };
                let mut draft = Draft {
                    alert,
                    content,
                    covered,
                    signature,
                    fast_review,
                    importer,
                    source,
                    now,
                };
                // An original never relayed is not a thread to join: the sender replaced it first.
                if let Some(unrelayed) = original.take_if(|o| o.approver.is_none())
                    && let Some(withdrawn) = withdraw(ctx, unrelayed, &mut draft)?
                {
                    return Ok(Received::Taken(Box::new(withdrawn)));
                }
                if draft.alert.msg_type == MsgType::Cancel && original.is_none() {
                    return Err(never_received());
                }
                if let Some(original) = &original {
                    warn_if_another_sender(&mut draft.alert, original);
                }
                let imported = store_draft(ctx, draft, original, &office)?;
                Ok(Received::Taken(Box::new(imported)))
            })
            .await
    }

    /// Reads and checks the document off the async threads.
    async fn read_alert(
        &self,
        xml: Vec<u8>,
        now: DateTime<Utc>,
    ) -> Result<(ImportedAlert, Option<ReadContent>, SignatureCheck), Problem> {
        let settings = &self.inner.settings;
        let (zones, trust) = (self.zones(), settings.trust.clone());
        let rules = ImportRules {
            max_bytes: settings.max_import_bytes,
            default_validity: settings.import_default_validity,
            now,
        };
        tokio::task::spawn_blocking(move || {
            let mut alert = parse_cap(&xml, rules, &zones)?;
            // One that arrived expired is judged as of when it was sent: it is kept as history.
            let judged_at = if alert.expired { alert.sent } else { now };
            let read = match alert.raw.take() {
                Some(raw) => {
                    let content =
                        NoticeContent::parse_received(raw, judged_at, &zones, alert.msg_type)?;
                    let covered = NoticeArea::of(&content.area, &zones).covered_zones(&zones);
                    Some((content, covered))
                }
                None => None,
            };
            let signature = super::cap_trust::check(&super::cap_encoding::as_utf8(&xml)?, &trust);
            alert.warnings.push(signature.said());
            Ok((alert, read, signature))
        })
        .await
        .map_err(|err| Problem::internal(&err))?
    }
}

/// CAP lets any sender reference any alert (a national office may cancel a regional one), so
/// another sender's Update or Cancel joins the chain; the approver is told plainly whose alert
/// it replaces, since approving it withdraws that alert on every channel.
fn warn_if_another_sender(alert: &mut ImportedAlert, original: &Notice) {
    if original.sender == alert.sender {
        return;
    }
    let what = match alert.msg_type {
        MsgType::Cancel => "cancels",
        _ => "updates",
    };
    alert.warnings.push(format!(
        "this {} comes from {}, but the alert it {what} was sent by {}: approving it replaces \
         that sender's alert on every channel; check with them first",
        alert.msg_type.as_str(),
        alert.sender,
        original.sender
    ));
}

fn never_received() -> Problem {
    Problem::new(
        ErrorCode::InvalidState,
        "this cancels an alert this hub never received or relayed: there is nothing to withdraw",
    )
}

/// What an alert's `<info>` blocks say, and the zones its area covers.
type ReadContent = (NoticeContent, Vec<ZoneRef>);

/// A received alert on its way into the store.
struct Draft {
    alert: ImportedAlert,
    content: NoticeContent,
    covered: Vec<ZoneRef>,
    signature: SignatureCheck,
    fast_review: bool,
    importer: String,
    source: Option<String>,
    now: DateTime<Utc>,
}

fn store_draft(
    ctx: &WriteCtx<'_>,
    draft: Draft,
    original: Option<Notice>,
    office: &str,
) -> Result<Imported, Problem> {
    let Draft {
        alert,
        content,
        covered,
        signature,
        fast_review,
        importer,
        source,
        now,
    } = draft;
    let id = uuid::Uuid::now_v7().to_string();
    let upstream = upstream_row(&alert, original.is_none(), source, &signature, fast_review);
    let mut notice = Notice {
        seq: 0,
        thread_id: original
            .as_ref()
            .map_or(id.clone(), |o| o.thread_id.clone()),
        references_id: original.map(|o| o.id),
        id,
        state: if alert.expired {
            NoticeState::Expired
        } else {
            NoticeState::Draft
        },
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
    let detail = json!({ "sender": notice.sender, "identifier": notice.identifier, "office": office, "set_aside": alert.foreign, "warnings": alert.warnings, "signature": signature });
    record(ctx, &importer, "import", &notice, detail)?;
    Ok(Imported {
        notice,
        set_aside: alert.foreign,
        warnings: alert.warnings,
        signature,
        withdrawn: false,
    })
}

/// Withdraws the draft of an alert its sender updated or cancelled before it was relayed.
/// For a Cancel that is all (the withdrawn draft is the answer); an Update goes on as a new
/// alert of its own.
fn withdraw(
    ctx: &WriteCtx<'_>,
    mut unrelayed: Notice,
    draft: &mut Draft,
) -> Result<Option<Imported>, Problem> {
    // Only the sender may take back its own alert, and only while no one has acted on it:
    // an office's draft, another sender's or one already rejected stays as it is.
    let senders_own =
        unrelayed.origin == NoticeOrigin::Imported && unrelayed.sender == draft.alert.sender;
    if unrelayed.state != NoticeState::Draft || !senders_own {
        return Ok(None);
    }
    let how = if draft.alert.msg_type == MsgType::Cancel {
        "cancelled"
    } else {
        "updated"
    };
    unrelayed.state = NoticeState::Rejected;
    unrelayed.rejection_reason = Some(format!("the sender {how} it before it was relayed"));
    bump(&mut unrelayed, draft.now);
    notice_rows::save(ctx.conn(), &unrelayed)?;
    let detail = json!({ "by": draft.alert.identifier, "reason": unrelayed.rejection_reason });
    record(ctx, &draft.importer, "withdraw", &unrelayed, detail)?;
    let said = format!(
        "the sender {how} notice {}'s alert before it was relayed: that draft is withdrawn",
        unrelayed.id
    );
    draft.alert.warnings.push(said);
    if draft.alert.msg_type != MsgType::Cancel {
        return Ok(None);
    }
    Ok(Some(Imported {
        notice: unrelayed,
        set_aside: std::mem::take(&mut draft.alert.foreign),
        warnings: std::mem::take(&mut draft.alert.warnings),
        withdrawn: true,
        signature: draft.signature.clone(),
    }))
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
fn upstream_row(
    alert: &ImportedAlert,
    orphan: bool,
    source: Option<String>,
    signature: &SignatureCheck,
    fast_review: bool,
) -> UpstreamRow {
    UpstreamRow {
        refs: alert.references_text.clone().filter(|_| orphan),
        sender_name: alert.sender_name.clone(),
        alert: Some(serde_json::to_string(&alert.alert).expect("CAP elements serialize")),
        source,
        signature: Some(serde_json::to_string(signature).expect("a check serializes")),
        fast_review,
        warnings: Some(serde_json::to_string(&alert.warnings).expect("sentences serialize")),
    }
}
