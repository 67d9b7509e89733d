//! The notices service: drafting and editing under the four-eyes rule, and the checks every
//! step of the workflow shares.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::area::{AreaSpec, NoticeArea, RawArea};
use super::cap::MsgType;
use super::content::{NoticeContent, RawNotice};
use super::deliveries::Deliveries;
use super::model::{Notice, NoticeOrigin, NoticeState};
use super::signing::Signer;
use crate::auth::{Action, Staff};
use crate::clock::SharedClock;
use crate::model::ZoneRef;
use crate::problem::{ErrorCode, Problem};
use crate::store::notices as notice_rows;
use crate::store::{Store, WriteCtx, audit};
use crate::zones::{ZoneDirectory, ZoneIndex};

/// Office settings the notices need.
#[derive(Debug, Clone)]
pub struct NoticeSettings {
    pub office: String,
    /// CAP `sender`: unique to this office, e.g. an e-mail address.
    pub sender: String,
    /// CAP `senderName`: the office as people know it.
    pub sender_name: String,
    pub max_import_bytes: usize,
    /// How long an imported alert without `<expires>` is taken as valid.
    pub import_default_validity: chrono::Duration,
    /// See `notices.wide_area_zones`.
    pub wide_area_zones: usize,
    /// Upstream sources whose polling state is kept.
    pub cap_sources: Vec<crate::config::CapSource>,
    /// Certificates whose signatures on imported CAP are trusted.
    pub trust: super::TrustStore,
}

#[derive(Clone)]
pub struct Notices {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) store: Store,
    pub(super) zones: ZoneDirectory,
    pub(super) clock: SharedClock,
    pub(super) signer: Arc<Signer>,
    pub(super) cap_signer: Arc<super::CapSigner>,
    pub(super) deliveries: Deliveries,
    pub(super) settings: NoticeSettings,
    pub(super) sources: super::sources::SourceBoard,
}

impl Notices {
    pub fn new(
        store: Store,
        zones: ZoneDirectory,
        clock: SharedClock,
        signers: (Signer, super::CapSigner),
        settings: NoticeSettings,
    ) -> Notices {
        let (signer, cap_signer) = signers;
        Notices {
            inner: Arc::new(Inner {
                store,
                zones,
                clock: clock.clone(),
                signer: Arc::new(signer),
                cap_signer: Arc::new(cap_signer),
                deliveries: Deliveries::default(),
                sources: super::sources::SourceBoard::new(&settings.cap_sources, clock.clone()),
                settings,
            }),
        }
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The office's notice key, shared with channels that sign on their own (webhooks).
    pub fn signer_handle(&self) -> Arc<Signer> {
        self.inner.signer.clone()
    }

    pub fn signer(&self) -> &Signer {
        &self.inner.signer
    }

    pub fn deliveries(&self) -> &Deliveries {
        &self.inner.deliveries
    }

    pub fn settings(&self) -> &NoticeSettings {
        &self.inner.settings
    }

    pub fn zones(&self) -> Arc<ZoneIndex> {
        self.inner.zones.snapshot()
    }

    pub(super) fn now(&self) -> DateTime<Utc> {
        let now = self.inner.clock.now();
        DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
    }

    /// A new Alert, drafted by `staff`.
    pub async fn draft(&self, staff: &Staff, raw: RawNotice) -> Result<Notice, Problem> {
        staff.require(Action::Draft)?;
        let now = self.now();
        let (content, covered) = self.checked_content(raw, now, MsgType::Alert).await?;
        let notice = self.new_draft(staff, MsgType::Alert, content, covered, None, now);
        self.insert_new(notice, "draft").await
    }

    /// Parses content and finds the zones its area covers (CPU work, off the async workers).
    async fn checked_content(
        &self,
        raw: RawNotice,
        now: DateTime<Utc>,
        msg_type: MsgType,
    ) -> Result<(NoticeContent, Vec<ZoneRef>), Problem> {
        let zones = self.zones();
        tokio::task::spawn_blocking(move || {
            let content = NoticeContent::parse(raw, now, &zones, msg_type)?;
            let covered = NoticeArea::of(&content.area, &zones).covered_zones(&zones);
            Ok((content, covered))
        })
        .await
        .map_err(|err| Problem::internal(&err))?
    }

    /// The zones an area would cover, for a map drawing an area before it is saved.
    pub async fn preview_area(&self, staff: &Staff, raw: RawArea) -> Result<Vec<ZoneRef>, Problem> {
        staff.require(Action::Draft)?;
        let zones = self.zones();
        tokio::task::spawn_blocking(move || {
            let spec = AreaSpec::parse(raw, &zones)?;
            Ok(NoticeArea::of(&spec, &zones).covered_zones(&zones))
        })
        .await
        .map_err(|err| Problem::internal(&err))?
    }

    /// A draft by `staff`; one that `follows` a notice (an update or cancel) joins its thread.
    pub(super) fn new_draft(
        &self,
        staff: &Staff,
        msg_type: MsgType,
        content: NoticeContent,
        covered_zones: Vec<ZoneRef>,
        follows: Option<&Notice>,
        now: DateTime<Utc>,
    ) -> Notice {
        let id = uuid::Uuid::now_v7().to_string();
        Notice {
            seq: 0,
            identifier: format!("vedetta.{}.{id}", self.inner.settings.office),
            thread_id: follows.map_or_else(|| id.clone(), |original| original.thread_id.clone()),
            references_id: follows.map(|original| original.id.clone()),
            id,
            state: NoticeState::Draft,
            origin: NoticeOrigin::Local,
            msg_type,
            content,
            covered_zones,
            sender: self.inner.settings.sender.clone(),
            sent: None,
            author: staff.name.clone(),
            editors: vec![staff.name.clone()],
            approver: None,
            rejection_reason: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    pub(super) async fn insert_new(
        &self,
        mut notice: Notice,
        action: &'static str,
    ) -> Result<Notice, Problem> {
        self.inner
            .store
            .write(move |ctx| {
                notice.seq = notice_rows::insert(ctx.conn(), &notice)?;
                record(
                    ctx,
                    &notice.author.clone(),
                    action,
                    &notice,
                    json!({ "status": notice.content.status, "msg_type": notice.msg_type }),
                )?;
                Ok(notice)
            })
            .await
    }

    /// Replaces the content of a draft (or a rejected notice, which becomes a draft again).
    pub async fn edit(
        &self,
        staff: &Staff,
        id: &str,
        version: i64,
        raw: RawNotice,
    ) -> Result<Notice, Problem> {
        staff.require(Action::Draft)?;
        let current = self.get(id).await?;
        if current.origin == NoticeOrigin::Imported {
            return Err(Problem::new(
                ErrorCode::InvalidState,
                "an imported notice is relayed as received; reject it, or draft a notice of your own",
            ));
        }
        let now = self.now();
        let (content, covered) = self.checked_content(raw, now, current.msg_type).await?;
        let (id, editor) = (id.to_owned(), staff.name.clone());
        self.inner
            .store
            .write(move |ctx| {
                let mut notice = load(ctx, &id)?;
                check_editable(&notice)?;
                check_version(&notice, version)?;
                notice.content = content;
                notice.covered_zones = covered;
                if !notice.editors.contains(&editor) {
                    notice.editors.push(editor.clone());
                }
                notice.state = NoticeState::Draft;
                notice.rejection_reason = None;
                bump(&mut notice, now);
                notice_rows::save(ctx.conn(), &notice)?;
                record(
                    ctx,
                    &editor,
                    "edit",
                    &notice,
                    json!({ "version": notice.version }),
                )?;
                Ok(notice)
            })
            .await
    }

    /// Sends a draft back to its authors with a reason.
    pub async fn reject(
        &self,
        staff: &Staff,
        id: &str,
        version: i64,
        reason: &str,
    ) -> Result<Notice, Problem> {
        staff.require(Action::Approve)?;
        let reason = crate::model::bounded_text(Some(reason.to_owned()), "reason", 1000)?
            .ok_or_else(|| {
                Problem::with_field(
                    ErrorCode::MissingField,
                    "reason",
                    "say why the notice is rejected, so its author can fix it",
                )
            })?;
        let (now, id, approver) = (self.now(), id.to_owned(), staff.name.clone());
        self.inner
            .store
            .write(move |ctx| {
                let mut notice = load(ctx, &id)?;
                check_draft(&notice, "rejected")?;
                check_version(&notice, version)?;
                check_four_eyes(&notice, &approver, "reject")?;
                notice.state = NoticeState::Rejected;
                notice.rejection_reason = Some(reason.clone());
                bump(&mut notice, now);
                notice_rows::save(ctx.conn(), &notice)?;
                record(
                    ctx,
                    &approver,
                    "reject",
                    &notice,
                    json!({ "reason": reason }),
                )?;
                Ok(notice)
            })
            .await
    }
}

pub(super) fn load(ctx: &WriteCtx<'_>, id: &str) -> Result<Notice, Problem> {
    notice_rows::get(ctx.conn(), id)?
        .ok_or_else(|| Problem::new(ErrorCode::NotFound, format!("notice {id} does not exist")))
}

pub(super) fn bump(notice: &mut Notice, now: DateTime<Utc>) {
    notice.version += 1;
    notice.updated_at = now;
}

/// Appends the audit line of a notice action, in the action's own transaction.
pub(super) fn record(
    ctx: &WriteCtx<'_>,
    actor: &str,
    action: &str,
    notice: &Notice,
    detail: serde_json::Value,
) -> Result<(), Problem> {
    let at = notice.updated_at.timestamp_millis();
    audit::append(
        ctx.conn(),
        at,
        actor,
        action,
        Some(&format!("notice:{}", notice.id)),
        &detail,
    )?;
    Ok(())
}

pub(super) fn check_version(notice: &Notice, version: i64) -> Result<(), Problem> {
    if notice.version == version {
        return Ok(());
    }
    Err(Problem::with_field(
        ErrorCode::StaleVersion,
        "version",
        format!(
            "the notice changed since you loaded it (you have version {version}, it is at {}); reload it and check it again",
            notice.version
        ),
    ))
}

fn check_editable(notice: &Notice) -> Result<(), Problem> {
    if notice.state.is_editable() {
        return Ok(());
    }
    Err(Problem::new(
        ErrorCode::InvalidState,
        format!(
            "only drafts and rejected notices can be edited; this one is {}. To change a published notice, start an update",
            notice.state.as_str()
        ),
    ))
}

pub(super) fn check_draft(notice: &Notice, verb: &str) -> Result<(), Problem> {
    match notice.state {
        NoticeState::Draft => Ok(()),
        NoticeState::Rejected => Err(Problem::new(
            ErrorCode::InvalidState,
            format!("a rejected notice must be edited before it can be {verb}"),
        )),
        other => Err(Problem::new(
            ErrorCode::InvalidState,
            format!(
                "only a draft can be {verb}; this notice is {}",
                other.as_str()
            ),
        )),
    }
}

/// Four eyes: nobody who wrote any part of a notice may approve or reject it.
pub(super) fn check_four_eyes(notice: &Notice, reviewer: &str, verb: &str) -> Result<(), Problem> {
    if !notice.editors.iter().any(|editor| editor == reviewer) {
        return Ok(());
    }
    Err(Problem::new(
        ErrorCode::FourEyes,
        format!(
            "you wrote or edited this notice, so you cannot {verb} it: a second person with the approver role must review it"
        ),
    ))
}

pub(super) fn check_in_force(original: &Notice, msg_type: MsgType) -> Result<(), Problem> {
    if original.is_active() {
        return Ok(());
    }
    let verb = if msg_type == MsgType::Update {
        "updated"
    } else {
        "cancelled"
    };
    Err(Problem::new(
        ErrorCode::InvalidState,
        format!(
            "only a notice in force can be {verb}; this one is {}{}",
            original.state.as_str(),
            if original.msg_type == MsgType::Cancel {
                " (a cancellation)"
            } else {
                ""
            }
        ),
    ))
}
