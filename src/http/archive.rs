//! The public archive of notices, for citizens, journalists and auditors: its API
//! (`/api/v1/public/notices`, one chain at `/api/v1/public/notices/{id}`) and its Atom feed
//! (`/feeds/archivio.atom`); no login, and nothing of the workflow (who drafted, approved or
//! rejected).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::KnownQuery;
use super::params::timestamp;
use crate::channels::feeds;
use crate::hub::Hub;
use crate::notices::{ArchiveFilter, ArchivedChain, Notice, Severity};

const DEFAULT_PAGE: i64 = 20;
const MAX_PAGE: i64 = 100;
const MAX_EVENT_WORDS: usize = 100;

const FILTERS: [&str; 7] = [
    "since", "until", "zone", "severity", "event", "limit", "cursor",
];

/// `GET /api/v1/public/notices`: a page of chains, newest first.
pub(super) async fn list(State(hub): State<Hub>, uri: Uri) -> Result<Json<Value>, ApiError> {
    let query = KnownQuery::from_uri(&uri, &FILTERS)?;
    let page = query.page(DEFAULT_PAGE, MAX_PAGE)?;
    let chains = hub.notices.archive(filter_of(&query, &page)?).await?;
    let next_cursor = page.next_cursor(&chains, |chain| chain.cursor);
    let chains: Vec<Value> = chains
        .iter()
        .map(|chain| public_chain(chain, &hub.public_url))
        .collect();
    Ok(Json(
        json!({ "chains": chains, "next_cursor": next_cursor }),
    ))
}

/// `GET /api/v1/public/notices/{id}`: the chain a notice belongs to, for its page.
pub(super) async fn show(
    State(hub): State<Hub>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let chain = hub.notices.archived_chain(&id).await?;
    Ok(Json(public_chain(&chain, &hub.public_url)))
}

/// `GET /feeds/archivio.atom`: the archive's notices, newest first, with its filters.
pub(super) async fn atom(State(hub): State<Hub>, uri: Uri) -> Result<Response, ApiError> {
    let query = KnownQuery::from_uri(&uri, &FILTERS)?;
    let page = query.page(DEFAULT_PAGE, MAX_PAGE)?;
    let chains = hub.notices.archive(filter_of(&query, &page)?).await?;
    // Newest first; within a second (CAP times have no finer grain) a chain's later notice first.
    let mut notices: Vec<Notice> = chains
        .into_iter()
        .flat_map(|chain| chain.notices.into_iter().rev())
        .collect();
    notices.sort_by_key(|notice| std::cmp::Reverse(notice.sent));
    // Each filtered feed is a feed of its own: its id and self link keep the filters.
    let path = match uri.query() {
        Some(query) => format!("/feeds/archivio.atom?{query}"),
        None => "/feeds/archivio.atom".to_owned(),
    };
    let title = format!(
        "{} - archivio degli avvisi",
        hub.notices.settings().sender_name
    );
    let context = super::cap::feed_context(&hub, &notices, &path, title).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        feeds::atom(&notices, &context),
    )
        .into_response())
}

fn filter_of(query: &KnownQuery, page: &super::extract::Page) -> Result<ArchiveFilter, ApiError> {
    Ok(ArchiveFilter {
        since: query
            .get("since")
            .map(|v| timestamp("since", v))
            .transpose()?,
        until: query
            .get("until")
            .map(|v| timestamp("until", v))
            .transpose()?,
        zone: query.get("zone").map(str::to_owned),
        severity: query
            .get("severity")
            .map(|v| Severity::parse(v, "severity"))
            .transpose()?,
        event: query
            .get("event")
            .map(|words| words.chars().take(MAX_EVENT_WORDS).collect()),
        before: page.before,
        limit: page.limit,
    })
}

fn public_chain(chain: &ArchivedChain, public_url: &str) -> Value {
    json!({
        "thread_id": chain.thread_id,
        "notices": chain.notices.iter().map(|n| public(n, public_url)).collect::<Vec<_>>(),
    })
}

/// A notice as the public may read it: what it said, where and when, and its signed CAP.
fn public(notice: &Notice, public_url: &str) -> Value {
    json!({
        "id": notice.id,
        "msg_type": notice.msg_type.as_str(),
        "status": notice.content.status.as_str(),
        "state": notice.state.as_str(),
        "origin": notice.origin.as_str(),
        "identifier": notice.identifier,
        "sender": notice.sender,
        "sent": notice.sent,
        "references_id": notice.references_id,
        "content": notice.content,
        "covered_zones": notice.covered_zones,
        "cap_url": notice.cap_url(public_url),
        "page_url": notice.page_url(public_url),
    })
}
