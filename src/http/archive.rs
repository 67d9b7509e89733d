//! `GET /api/v1/public/notices`: the public archive of notices, for citizens, journalists and
//! auditors; no login, and nothing of the workflow (who drafted, approved or rejected).

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::KnownQuery;
use super::params::timestamp;
use crate::hub::Hub;
use crate::notices::{ArchiveFilter, Notice, Severity};

const DEFAULT_PAGE: i64 = 20;
const MAX_PAGE: i64 = 100;
const MAX_EVENT_WORDS: usize = 100;

pub(super) async fn list(State(hub): State<Hub>, uri: Uri) -> Result<Json<Value>, ApiError> {
    let query = KnownQuery::from_uri(
        &uri,
        &[
            "since", "until", "zone", "severity", "event", "limit", "cursor",
        ],
    )?;
    let page = query.page(DEFAULT_PAGE, MAX_PAGE)?;
    let filter = ArchiveFilter {
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
    };
    let chains = hub.notices.archive(filter).await?;
    let next_cursor = page.next_cursor(&chains, |chain| chain.cursor);
    let chains: Vec<Value> = chains
        .iter()
        .map(|chain| {
            json!({
                "thread_id": chain.thread_id,
                "notices": chain.notices.iter().map(|n| public(n, &hub.public_url)).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(
        json!({ "chains": chains, "next_cursor": next_cursor }),
    ))
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
    })
}
