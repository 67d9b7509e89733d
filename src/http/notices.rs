//! `/api/v1/notices`: draft, edit, review, approve, update, cancel, import, and read them.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{JsonBody, KnownQuery};
use super::permit::{Approving, Drafting, Permitted};
use crate::auth::Staff;
use crate::hub::Hub;
use crate::notices::{
    Notice, NoticeFilter, NoticeOrigin, NoticeState, NoticeView, RawArea, RawNotice,
    changes_between,
};
use crate::problem::{ErrorCode, Problem};

const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EditRequest {
    version: i64,
    content: RawNotice,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Approval {
    version: i64,
    /// The notice's status, repeated: `Actual`, `Exercise` or `Test`.
    confirm_status: String,
    /// The approver has looked at an area that reaches into several regions or covers many
    /// zones, and means it (see the notice's `wide_area`).
    #[serde(default)]
    confirm_wide_area: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Rejection {
    version: i64,
    reason: String,
}

pub(super) type Created = (StatusCode, Json<Value>);

/// The notice as JSON, with what it reached and (for an update or cancel) what it changes.
async fn detailed(hub: &Hub, staff: &Staff, notice: &Notice) -> Result<Value, ApiError> {
    let mut view = NoticeView::of(notice, &hub.public_url);
    if notice.state != NoticeState::Draft && notice.state != NoticeState::Rejected {
        view.outbox = Some(hub.outbox.status_of_notice(staff, &notice.id).await?);
    }
    let (original, reach) = hub.notices.original_and_reach(notice).await?;
    view.deliveries = Some(reach.into());
    view.changes = original.map(|original| changes_between(&original.content, &notice.content));
    if notice.state == NoticeState::Draft {
        view.wide_area = hub.notices.wide_area_of(notice);
    }
    if notice.origin == NoticeOrigin::Imported {
        let review = hub.notices.import_review(notice).await?;
        view.sender_signature = review.sender_signature;
        view.fast_review = review.fast_review;
        view.warnings = review.warnings;
    }
    Ok(json!(view))
}

/// 201 with the notice: a new draft, from here or escalated from reports.
pub(super) fn created(hub: &Hub, notice: &Notice) -> Created {
    (
        StatusCode::CREATED,
        Json(json!(NoticeView::of(notice, &hub.public_url))),
    )
}

/// `review=fast`: only alerts a source's rule marked for fast review.
fn fast_review_only(review: Option<&str>) -> Result<bool, ApiError> {
    match review {
        None => Ok(false),
        Some("fast") => Ok(true),
        Some(_) => Err(ApiError(Problem::with_field(
            ErrorCode::InvalidField,
            "review",
            "`review` can only be `fast`: the alerts a source's rule marked for fast review",
        ))),
    }
}

/// `GET /api/v1/notices?state=draft,published&zone=&review=fast&limit=&cursor=`, newest first.
pub(super) async fn list(
    State(hub): State<Hub>,
    staff: Staff,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let query = KnownQuery::from_uri(&uri, &["state", "zone", "review", "limit", "cursor"])?;
    let page = query.page(DEFAULT_PAGE, MAX_PAGE)?;
    let filter = NoticeFilter {
        states: query
            .get("state")
            .map(parse_states)
            .transpose()?
            .unwrap_or_default(),
        zone: query.get("zone").map(str::to_owned),
        fast_review: fast_review_only(query.get("review"))?,
        before_seq: page.before,
        limit: page.limit,
        ..NoticeFilter::default()
    };
    let notices = hub.notices.list_for(&staff, filter).await?;
    let next_cursor = page.next_cursor(&notices, |notice| notice.seq);
    let fast = hub.notices.fast_review_marks(&notices).await?;
    let views: Vec<NoticeView> = notices
        .iter()
        .map(|notice| NoticeView {
            fast_review: fast.contains(&notice.id),
            ..NoticeView::of(notice, &hub.public_url)
        })
        .collect();
    Ok(Json(
        json!({ "notices": views, "next_cursor": next_cursor }),
    ))
}

fn parse_states(value: &str) -> Result<Vec<NoticeState>, Problem> {
    value
        .split(',')
        .map(|state| {
            NoticeState::parse(state.trim()).ok_or_else(|| {
                let known: Vec<&str> = NoticeState::ALL.iter().map(|s| s.as_str()).collect();
                Problem::with_field(
                    ErrorCode::InvalidField,
                    "state",
                    format!(
                        "`state` takes a comma-separated list of: {}",
                        known.join(", ")
                    ),
                )
            })
        })
        .collect()
}

pub(super) async fn create(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<Drafting>,
    JsonBody(raw): JsonBody<RawNotice>,
) -> Result<Created, ApiError> {
    let notice = hub.notices.draft(&staff, raw).await?;
    Ok(created(&hub, &notice))
}

pub(super) async fn show(
    State(hub): State<Hub>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let notice = hub.notices.read(&staff, &id).await?;
    Ok(Json(detailed(&hub, &staff, &notice).await?))
}

pub(super) async fn edit(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<Drafting>,
    Path(id): Path<String>,
    JsonBody(edit): JsonBody<EditRequest>,
) -> Result<Json<Value>, ApiError> {
    let notice = hub
        .notices
        .edit(&staff, &id, edit.version, edit.content)
        .await?;
    Ok(Json(detailed(&hub, &staff, &notice).await?))
}

pub(super) async fn approve(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<Approving>,
    Path(id): Path<String>,
    JsonBody(approval): JsonBody<Approval>,
) -> Result<Json<Value>, ApiError> {
    let notice = hub
        .notices
        .approve(
            &staff,
            &id,
            approval.version,
            &approval.confirm_status,
            approval.confirm_wide_area,
        )
        .await?;
    Ok(Json(detailed(&hub, &staff, &notice).await?))
}

pub(super) async fn reject(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<Approving>,
    Path(id): Path<String>,
    JsonBody(rejection): JsonBody<Rejection>,
) -> Result<Json<Value>, ApiError> {
    let notice = hub
        .notices
        .reject(&staff, &id, rejection.version, &rejection.reason)
        .await?;
    Ok(Json(detailed(&hub, &staff, &notice).await?))
}

/// `POST /api/v1/notices/{id}/update`: a draft Update, prefilled from the notice in force.
pub(super) async fn start_update(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<Drafting>,
    Path(id): Path<String>,
) -> Result<Created, ApiError> {
    let notice = hub.notices.start_update(&staff, &id).await?;
    Ok(created(&hub, &notice))
}

/// `POST /api/v1/notices/{id}/cancel`: a draft Cancel, prefilled from the notice in force.
pub(super) async fn start_cancel(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<Drafting>,
    Path(id): Path<String>,
) -> Result<Created, ApiError> {
    let notice = hub.notices.start_cancel(&staff, &id).await?;
    Ok(created(&hub, &notice))
}

/// `POST /api/v1/notices/import` with a CAP 1.2 document as the body.
pub(super) async fn import(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<Drafting>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Created, ApiError> {
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !matches!(
        essence.as_str(),
        "application/cap+xml" | "application/xml" | "text/xml"
    ) {
        return Err(ApiError(Problem::new(
            ErrorCode::UnsupportedMediaType,
            "send the CAP document with Content-Type: application/cap+xml (or application/xml)",
        )));
    }
    let imported = hub.notices.import(&staff, body.to_vec()).await?;
    let (mut status, Json(mut view)) = created(&hub, &imported.notice);
    if imported.withdrawn {
        // Nothing was created: the cancelled alert's draft was withdrawn.
        status = axum::http::StatusCode::OK;
    }
    view["set_aside"] = json!(imported.set_aside);
    view["warnings"] = json!(imported.warnings);
    view["sender_signature"] = json!(imported.signature);
    Ok((status, Json(view)))
}

/// `POST /api/v1/notices/area-preview`: the zones an area would cover, while it is being drawn.
pub(super) async fn preview_area(
    State(hub): State<Hub>,
    Permitted(staff, ..): Permitted<Drafting>,
    JsonBody(area): JsonBody<RawArea>,
) -> Result<Json<Value>, ApiError> {
    let zones = hub.notices.preview_area(&staff, area).await?;
    Ok(Json(json!({ "zones": zones })))
}

/// `POST /api/v1/notices/{id}/deliveries/retry`: failed and dead deliveries go back in the
/// outbox (operators; audited).
pub(super) async fn retry_deliveries(
    State(hub): State<Hub>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let notice = hub.notices.read(&staff, &id).await?;
    let requeued = hub.outbox.retry_failed(&staff, &notice.id).await?;
    let outbox = hub.outbox.status_of_notice(&staff, &notice.id).await?;
    Ok(Json(json!({ "requeued": requeued, "outbox": outbox })))
}
