//! Public notice documents: CAP 1.2 per notice, Atom and RSS feeds, and the signing key.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth::MaybeStaff;
use super::error::ApiError;
use crate::auth::Action;
use crate::channels::feeds::{self, FeedContext};
use crate::hub::Hub;
use crate::notices::cap_xml::{CapContext, to_cap_xml};
use crate::notices::{Notice, NoticeFilter, NoticeState};
use crate::problem::{ErrorCode, Problem};

const FEED_LIMIT: usize = 500;

/// `GET /cap/{id}.xml`. Anyone may read a notice that went out; drafts only staff who read
/// notices.
pub(super) async fn document(
    State(hub): State<Hub>,
    MaybeStaff(staff): MaybeStaff,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let id = file
        .strip_suffix(".xml")
        .ok_or_else(|| ApiError::not_found("a CAP document (they end in .xml)"))?;
    let notice = hub.notices.get(id).await?;
    // An alert that arrived expired is history that was never approved: not the office's word.
    let unpublished = matches!(notice.state, NoticeState::Draft | NoticeState::Rejected)
        || notice.approver.is_none();
    let reader = staff.is_some_and(|staff| staff.role.may(Action::Read));
    if unpublished && !reader {
        return Err(ApiError::not_found(&format!("notice {id}")));
    }
    let relay = hub.notices.cap_relay(&notice).await?;
    let zones = hub.notices.zones();
    let context = CapContext {
        sender_name: relay.sender_name.as_deref(),
        references: relay.references,
        upstream: relay.upstream.as_ref(),
        // The office signs what it approved, never a draft or history it did not relay.
        signer: notice.approver.is_some().then(|| hub.notices.cap_signer()),
        zones: &zones,
    };
    let xml = to_cap_xml(&notice, &context);
    Ok((
        [(header::CONTENT_TYPE, "application/cap+xml; charset=utf-8")],
        xml,
    )
        .into_response())
}

/// Notices for feeds: published, not yet expired, cancellations included.
async fn feed_notices(hub: &Hub, zone: Option<String>) -> Result<Vec<Notice>, ApiError> {
    let filter = NoticeFilter {
        states: vec![NoticeState::Published],
        expiring_after: Some(hub.clock.now().timestamp_millis()),
        zone,
        limit: FEED_LIMIT,
        ..NoticeFilter::default()
    };
    Ok(hub.notices.list(filter).await?)
}

/// What a feed of `notices` at `path` says of itself and of who wrote each.
pub(super) async fn feed_context<'a>(
    hub: &'a Hub,
    notices: &[Notice],
    path: &str,
    title: String,
) -> Result<FeedContext<'a>, ApiError> {
    Ok(FeedContext {
        public_url: &hub.public_url,
        self_url: format!("{}{path}", hub.public_url.trim_end_matches('/')),
        title,
        sender_name: &hub.notices.settings().sender_name,
        relay_senders: hub.notices.relay_sender_names(notices).await?,
        language: &hub.config.default_language,
        now: hub.clock.now(),
    })
}

/// `GET /feeds/cap.atom`.
pub(super) async fn atom(State(hub): State<Hub>) -> Result<Response, ApiError> {
    let notices = feed_notices(&hub, None).await?;
    let title = format!("{} - avvisi in vigore", hub.notices.settings().sender_name);
    let context = feed_context(&hub, &notices, "/feeds/cap.atom", title).await?;
    let body = feeds::atom(&notices, &context);
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        body,
    )
        .into_response())
}

/// `GET /feeds/cap.rss`.
pub(super) async fn rss(State(hub): State<Hub>) -> Result<Response, ApiError> {
    let notices = feed_notices(&hub, None).await?;
    let title = format!("{} - avvisi in vigore", hub.notices.settings().sender_name);
    // RSS items name no author: the relays' sender names are not read.
    let context = feed_context(&hub, &[], "/feeds/cap.rss", title).await?;
    let body = feeds::rss(&notices, &context);
    Ok((
        [(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")],
        body,
    )
        .into_response())
}

/// `GET /feeds/zones/{zone}.atom`: the notices covering one zone.
pub(super) async fn zone_atom(
    State(hub): State<Hub>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let zone_id = file
        .strip_suffix(".atom")
        .ok_or_else(|| ApiError::not_found("a zone feed (they end in .atom)"))?;
    let zone = hub
        .zones
        .snapshot()
        .get(zone_id)
        .map(|zone| zone.name.clone())
        .ok_or_else(|| {
            ApiError(Problem::new(
                ErrorCode::NotFound,
                format!("there is no zone `{zone_id}`; GET /api/v1/zones lists them"),
            ))
        })?;
    let notices = feed_notices(&hub, Some(zone_id.to_owned())).await?;
    let title = format!("{} - avvisi per {zone}", hub.notices.settings().sender_name);
    let context = feed_context(&hub, &notices, &format!("/feeds/zones/{file}"), title).await?;
    let body = feeds::atom(&notices, &context);
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        body,
    )
        .into_response())
}

/// `GET /api/v1/keys`: the public key that verifies notice signatures.
pub(super) async fn keys(State(hub): State<Hub>) -> Json<Value> {
    Json(json!({
        "keys": [hub.notices.signer().public_key()],
        "cap_certificate": hub.notices.cap_signer().certificate_pem(),
    }))
}
