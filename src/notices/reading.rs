//! What is read of notices: one, a filtered list, those in force (with the frames they went
//! out in), and a notice with what it replaces and how far it reached.

use super::cap_element::Element;
use super::deliveries::DeliveryTotals;
use super::model::{Notice, NoticeOrigin};
use super::service::Notices;
use crate::auth::{Action, Staff};
use crate::problem::{ErrorCode, Problem};
use crate::store::StoreError;
use crate::store::notice_upstream as upstream_rows;
use crate::store::notices as notice_rows;

pub use crate::model::NoticeFilter;

impl Notices {
    /// One notice, drafts included, for staff who read notices.
    pub async fn read(&self, staff: &Staff, id: &str) -> Result<Notice, Problem> {
        staff.require(Action::Read)?;
        self.get(id).await
    }

    /// Notices newest first, drafts included, for staff who read notices.
    pub async fn list_for(
        &self,
        staff: &Staff,
        filter: NoticeFilter,
    ) -> Result<Vec<Notice>, Problem> {
        staff.require(Action::Read)?;
        self.list(filter).await
    }

    pub async fn get(&self, id: &str) -> Result<Notice, Problem> {
        let lookup = id.to_owned();
        self.inner
            .store
            .read(move |conn| notice_rows::get(conn, &lookup))
            .await?
            .ok_or_else(|| Problem::new(ErrorCode::NotFound, format!("notice {id} does not exist")))
    }

    /// What a notice's CAP document says beyond the notice: the `references` of every earlier
    /// message of its chain, oldest first (or those an imported notice came with when the hub
    /// never received the original), the
    /// `senderName` (the office's for its own notices, the sender's for a relay), and for a
    /// relay the sender's document as received.
    pub async fn cap_relay(&self, notice: &Notice) -> Result<CapRelay, Problem> {
        let (id, original_id) = (notice.id.clone(), notice.references_id.clone());
        let imported = notice.origin == NoticeOrigin::Imported;
        let office = self.inner.settings.sender_name.clone();
        let (upstream, references) = self
            .inner
            .store
            .read(move |conn| -> Result<_, StoreError> {
                let upstream = upstream_rows::upstream(conn, &id)?.unwrap_or_default();
                let references = chain_references(conn, original_id, upstream.refs.clone())?;
                Ok((upstream, references))
            })
            .await?;
        Ok(CapRelay {
            references,
            sender_name: if imported {
                upstream.sender_name
            } else {
                Some(office)
            },
            // Notices imported before the hub kept the sender's document are written as its own.
            upstream: upstream
                .alert
                .and_then(|alert| serde_json::from_str(&alert).ok()),
        })
    }

    /// Which of `notices` (a page of the list) a source's rule marked for fast review.
    pub async fn fast_review_marks(
        &self,
        notices: &[Notice],
    ) -> Result<std::collections::HashSet<String>, Problem> {
        self.read_of_relays(notices, upstream_rows::marked_for_fast_review)
            .await
    }

    /// The `senderName` of each relay among `notices` whose sender gave one: the authority a
    /// feed names as an entry's author.
    pub async fn relay_sender_names(
        &self,
        notices: &[Notice],
    ) -> Result<std::collections::HashMap<String, String>, Problem> {
        self.read_of_relays(notices, upstream_rows::sender_names)
            .await
    }

    /// `read` of the relays among `notices`, by id; nothing is read when there are none.
    async fn read_of_relays<T: Default + Send + 'static>(
        &self,
        notices: &[Notice],
        read: fn(&rusqlite::Connection, &[String]) -> Result<T, StoreError>,
    ) -> Result<T, Problem> {
        let imported: Vec<String> = notices
            .iter()
            .filter(|notice| notice.origin == NoticeOrigin::Imported)
            .map(|notice| notice.id.clone())
            .collect();
        if imported.is_empty() {
            return Ok(T::default());
        }
        Ok(self.store().read(move |conn| read(conn, &imported)).await?)
    }

    /// What the approver is told of an imported notice; the default for the office's own.
    pub async fn import_review(&self, notice: &Notice) -> Result<ImportReview, Problem> {
        let id = notice.id.clone();
        let row = self
            .store()
            .read(move |conn| upstream_rows::review(conn, &id))
            .await?;
        let Some(row) = row else {
            return Ok(ImportReview::default());
        };
        Ok(ImportReview {
            sender_signature: row
                .signature
                .and_then(|check| serde_json::from_str(&check).ok()),
            fast_review: row.fast_review,
            warnings: row
                .warnings
                .and_then(|said| serde_json::from_str(&said).ok())
                .unwrap_or_default(),
        })
    }

    pub async fn list(&self, filter: NoticeFilter) -> Result<Vec<Notice>, Problem> {
        Ok(self
            .inner
            .store
            .read(move |conn| notice_rows::list(conn, &filter))
            .await?)
    }

    /// Every notice in force with the frame it went out in, oldest first.
    pub async fn in_force_with_frames(&self) -> Result<Vec<(Notice, Vec<u8>)>, Problem> {
        Ok(self.store().read(notice_rows::active_with_frames).await?)
    }

    /// The notice in force in a thread, with its frame.
    pub async fn in_force_in_thread(
        &self,
        thread_id: &str,
    ) -> Result<Option<(Notice, Vec<u8>)>, Problem> {
        let thread = thread_id.to_owned();
        Ok(self
            .store()
            .read(move |conn| notice_rows::active_in_thread(conn, &thread))
            .await?)
    }

    /// The notice an Update or Cancel replaces, if any, and how many sessions and topics
    /// `notice` reached: the stored count or the live one, whichever is further.
    pub async fn original_and_reach(
        &self,
        notice: &Notice,
    ) -> Result<(Option<Notice>, DeliveryTotals), Problem> {
        let (id, original_id) = (notice.id.clone(), notice.references_id.clone());
        let (stored, original) = self
            .store()
            .read(move |conn| {
                let original = original_id
                    .map(|id| notice_rows::get(conn, &id))
                    .transpose()?
                    .flatten();
                Ok::<_, crate::store::StoreError>((notice_rows::deliveries(conn, &id)?, original))
            })
            .await?;
        let mut reach = stored;
        if let Some(live) = self.deliveries().existing(&notice.id) {
            reach.raise_all(&live.totals());
        }
        Ok((original, reach))
    }
}

/// The longest chain of updates a CAP document lists: the oldest beyond it are left out.
const MAX_REFERENCED: usize = 100;

/// The CAP `references` of a notice whose original is `original_id`: every earlier message
/// of its chain, oldest first, so a consumer that held the alert but missed an update still
/// ties a cancel to it. The chain starts with what its first held message referenced when the
/// hub never received that message's original (`own_refs`, for a notice that is such a one).
fn chain_references(
    conn: &rusqlite::Connection,
    mut original_id: Option<String>,
    own_refs: Option<String>,
) -> Result<Option<String>, StoreError> {
    let mut earlier = Vec::new();
    let mut first_refs = own_refs;
    while let Some(id) = original_id.take() {
        let Some(notice) = notice_rows::get(conn, &id)? else {
            break;
        };
        original_id = notice.references_id.clone();
        first_refs = match original_id {
            Some(_) => None,
            None => upstream_rows::upstream(conn, &notice.id)?.and_then(|upstream| upstream.refs),
        };
        earlier.extend(notice.cap_reference());
        if earlier.len() == MAX_REFERENCED {
            break;
        }
    }
    let listed: Vec<String> = first_refs
        .into_iter()
        .chain(earlier.into_iter().rev())
        .collect();
    Ok((!listed.is_empty()).then(|| listed.join(" ")))
}

/// See [`Notices::cap_relay`].
pub struct CapRelay {
    pub references: Option<String>,
    pub sender_name: Option<String>,
    /// For a relay, the sender's `<alert>` as received.
    pub upstream: Option<Element>,
}

/// See [`Notices::import_review`].
#[derive(Debug, Default)]
pub struct ImportReview {
    /// What the office found of the sender's XML signature.
    pub sender_signature: Option<super::SignatureCheck>,
    /// A source's rule marked it for fast review.
    pub fast_review: bool,
    /// What the operator was told about how it was read.
    pub warnings: Vec<String>,
}
