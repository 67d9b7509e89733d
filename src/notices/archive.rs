//! The public archive: every notice that went out (never a draft or a rejected one), grouped
//! by its Alert -> Update -> Cancel chain, newest chain first, for anyone to read.

use chrono::{DateTime, Utc};

use super::cap::Severity;
use super::model::Notice;
use super::service::Notices;
use crate::problem::{ErrorCode, Problem};
use crate::store::notice_archive::{self, ArchiveQuery};

/// What a reader of the archive asks for.
#[derive(Debug, Default, Clone)]
pub struct ArchiveFilter {
    /// Chains with a notice sent at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// ... and before this one.
    pub until: Option<DateTime<Utc>>,
    /// Covering this zone.
    pub zone: Option<String>,
    pub severity: Option<Severity>,
    /// Words of the event, in any language, case aside.
    pub event: Option<String>,
    /// The previous page's cursor.
    pub before: Option<i64>,
    pub limit: usize,
}

/// One chain as it went out, oldest first, and the cursor that follows it.
#[derive(Debug)]
pub struct ArchivedChain {
    pub thread_id: String,
    pub notices: Vec<Notice>,
    pub cursor: i64,
}

impl Notices {
    /// A page of the archive; public, so it holds only what the office published.
    pub async fn archive(&self, filter: ArchiveFilter) -> Result<Vec<ArchivedChain>, Problem> {
        let query = ArchiveQuery {
            sent_from_ms: filter.since.map(|at| at.timestamp_millis()),
            sent_until_ms: filter.until.map(|at| at.timestamp_millis()),
            zone: filter.zone,
            severity: filter.severity.map(|s| s.as_str().to_owned()),
            event: filter.event.map(|words| words.to_lowercase()),
            before_seq: filter.before,
            limit: filter.limit,
        };
        Ok(self
            .store()
            .read(move |conn| {
                let threads = notice_archive::threads(conn, &query)?;
                threads
                    .into_iter()
                    .map(|(thread_id, cursor)| {
                        let notices = notice_archive::chain(conn, &thread_id)?;
                        Ok(ArchivedChain {
                            thread_id,
                            notices,
                            cursor,
                        })
                    })
                    .collect::<Result<Vec<_>, crate::store::StoreError>>()
            })
            .await?)
    }
}

impl Notices {
    /// The chain of a notice that went out, for its public page; a draft or a rejected notice
    /// is as unknown as an id never used.
    pub async fn archived_chain(&self, id: &str) -> Result<ArchivedChain, Problem> {
        let asked = id.to_owned();
        let chain = self
            .store()
            .read(move |conn| {
                let Some((thread_id, cursor)) = notice_archive::thread_of(conn, &asked)? else {
                    return Ok(None);
                };
                let notices = notice_archive::chain(conn, &thread_id)?;
                Ok::<_, crate::store::StoreError>(Some(ArchivedChain {
                    thread_id,
                    notices,
                    cursor,
                }))
            })
            .await?;
        chain.ok_or_else(|| {
            Problem::new(
                ErrorCode::NotFound,
                format!("no published notice `{id}`; GET /api/v1/public/notices lists them"),
            )
        })
    }
}
