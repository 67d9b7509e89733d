//! Open311 GeoReport v2 at `/open311/v2`: services, and service requests in JSON or XML.

mod form;
mod format;

pub use form::parse_request_form;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use chrono::Duration;

use self::format::{Audience, Format, Open311Error, ServiceView, SubmittedView};
use super::auth::MaybeStaff;
use super::error::ApiError;
use super::extract::{KnownQuery, PeerAddr, require_content_type};
use super::params;
use crate::auth::Action;
use crate::hub::Hub;
use crate::problem::{ErrorCode, Problem};
use crate::reports::{Origin, ReportFilter, Source};

/// The spec's defaults for `GET requests`: the last 90 days, at most 1000 requests.
const DEFAULT_WINDOW_DAYS: i64 = 90;
const MAX_REQUESTS: usize = 1000;

pub(super) fn router() -> Router<Hub> {
    Router::new()
        .route(
            "/open311/v2/services.json",
            get(|hub| services(hub, Format::Json)),
        )
        .route(
            "/open311/v2/services.xml",
            get(|hub| services(hub, Format::Xml)),
        )
        .route(
            "/open311/v2/requests.json",
            get(|hub, reader, uri| list_requests(hub, reader, uri, Format::Json)).post(
                |hub, peer, headers, body| create_request(hub, peer, headers, body, Format::Json),
            ),
        )
        .route(
            "/open311/v2/requests.xml",
            get(|hub, reader, uri| list_requests(hub, reader, uri, Format::Xml)).post(
                |hub, peer, headers, body| create_request(hub, peer, headers, body, Format::Xml),
            ),
        )
        .route("/open311/v2/requests/{file}", get(show_request))
}

/// A refusal as an Open311 error list: XML for `.xml` paths, JSON otherwise.
pub(super) fn error_response(path: &str, problem: Problem) -> Response {
    let format = match path.ends_with(".xml") {
        true => Format::Xml,
        false => Format::Json,
    };
    format.error(&Open311Error::from(problem))
}

async fn services(State(hub): State<Hub>, format: Format) -> Response {
    let language = hub.config.default_language.clone();
    let list: Vec<ServiceView> = hub
        .intake
        .rules()
        .catalog
        .all()
        .iter()
        .map(|category| ServiceView::of(category, &language))
        .collect();
    format.services(&list)
}

async fn create_request(
    State(hub): State<Hub>,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    body: Bytes,
    format: Format,
) -> Response {
    let submitted = async {
        require_content_type(&headers, "application/x-www-form-urlencoded").map_err(|err| err.0)?;
        let idempotency_key = idempotency_key(&headers)?;
        let raw = parse_request_form(&body, idempotency_key)?;
        let keyed_by_header =
            idempotency_key.is_some() && raw.client_ref.as_deref() == idempotency_key;
        let origin = Origin {
            source: Source::Open311,
            peer_ip: peer.map(|addr| addr.ip()),
            device_id: None,
        };
        let submitted = hub.intake.submit(origin, raw).await.map_err(open311_names);
        submitted.map_err(|problem| match keyed_by_header {
            true => idempotency_key_names(problem),
            false => problem,
        })
    };
    match submitted.await {
        Ok(receipt) => {
            let status = if receipt.duplicate {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            format.submitted(status, &SubmittedView::of(&receipt))
        }
        Err(problem) => format.error(&Open311Error::from(problem)),
    }
}

/// The `Idempotency-Key` header, if sent; one that is not visible ASCII is refused rather than
/// ignored, since ignoring it would store a retry twice.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, Problem> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    value.to_str().map(Some).map_err(|_| {
        Problem::with_field(
            ErrorCode::InvalidField,
            "Idempotency-Key",
            "`Idempotency-Key` must be 1 to 64 characters of letters, digits, '.', '_', '-' or ':'",
        )
    })
}

/// A refused key named as the client sent it: the `Idempotency-Key` header, not our field.
fn idempotency_key_names(mut problem: Problem) -> Problem {
    if problem.field.as_deref() != Some("client_ref") {
        return problem;
    }
    problem.field = Some("Idempotency-Key".to_owned());
    problem.message = match problem.code {
        ErrorCode::ClientRefConflict => "this `Idempotency-Key` was already used for a different \
            request; send a new key with a new request, and the same key only when retrying it"
            .to_owned(),
        _ => problem.message.replace("`client_ref`", "`Idempotency-Key`"),
    };
    problem
}

/// Our field names, as an Open311 client knows them.
fn open311_names(mut problem: Problem) -> Problem {
    const RENAMES: [(&str, &str); 6] = [
        ("lon", "long"),
        ("category", "service_code"),
        ("text", "description"),
        ("contact.email", "email"),
        ("contact.phone", "phone"),
        ("contact.name", "first_name"),
    ];
    for (ours, theirs) in RENAMES {
        if problem.field.as_deref() == Some(ours) {
            problem.field = Some(theirs.to_owned());
            problem.message = problem
                .message
                .replace(&format!("`{ours}`"), &format!("`{theirs}`"));
        }
    }
    problem
}

/// What a reader of requests is shown: staff by their role, anyone else the public view.
type Reader = Result<MaybeStaff, ApiError>;

fn audience(hub: &Hub, reader: Reader) -> Result<Audience, Problem> {
    let MaybeStaff(staff) = reader.map_err(|err| err.0)?;
    match staff {
        // Staff who do not read reports (admins) see what the public sees.
        Some(staff) if staff.role.may(Action::Read) => Ok(Audience::Staff {
            sees_media: staff.sees_reporters(),
        }),
        _ if hub.config.open311.publish_all => Ok(Audience::PublicFull),
        _ => Ok(Audience::Public),
    }
}

async fn list_requests(
    State(hub): State<Hub>,
    reader: Reader,
    uri: Uri,
    format: Format,
) -> Response {
    let listed = async {
        let audience = audience(&hub, reader)?;
        Ok::<_, Problem>((audience, query_requests(&hub, &uri).await?))
    };
    match listed.await {
        Ok((audience, reports)) => format.requests(&hub, &reports, audience),
        Err(problem) => format.error(&Open311Error::from(problem)),
    }
}

async fn query_requests(hub: &Hub, uri: &Uri) -> Result<Vec<crate::reports::Report>, Problem> {
    const KNOWN: &[&str] = &[
        "service_request_id",
        "service_code",
        "start_date",
        "end_date",
        "status",
        "jurisdiction_id",
    ];
    let query = KnownQuery::from_uri(uri, KNOWN).map_err(|err| err.0)?;
    // Every parameter is checked, even those that `service_request_id` makes moot.
    let start = query
        .get("start_date")
        .map(|v| params::timestamp("start_date", v))
        .transpose()?;
    let closed = query.get("status").map(parse_open_closed).transpose()?;
    let until = query
        .get("end_date")
        .map(|v| params::timestamp("end_date", v))
        .transpose()?;
    if let Some(ids) = query.get("service_request_id") {
        return hub.triage.find_reports(request_ids(ids)?).await;
    }
    let filter = ReportFilter {
        category: query.get("service_code").map(str::to_owned),
        closed,
        since: Some(start.unwrap_or_else(|| hub.clock.now() - Duration::days(DEFAULT_WINDOW_DAYS))),
        until,
        limit: MAX_REQUESTS,
        ..ReportFilter::default()
    };
    hub.triage.list_reports(filter).await
}

/// The comma-separated ids of `service_request_id`, at most as many as one answer lists.
fn request_ids(ids: &str) -> Result<Vec<String>, Problem> {
    let ids: Vec<String> = ids.split(',').map(|id| id.trim().to_owned()).collect();
    if ids.len() > MAX_REQUESTS {
        let message = format!(
            "`service_request_id` names {} requests; ask for at most {MAX_REQUESTS} at a time",
            ids.len()
        );
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            "service_request_id",
            message,
        ));
    }
    Ok(ids)
}

/// `open` or `closed`, as `true` for closed.
fn parse_open_closed(value: &str) -> Result<bool, Problem> {
    match value {
        "open" => Ok(false),
        "closed" => Ok(true),
        _ => Err(Problem::with_field(
            ErrorCode::InvalidField,
            "status",
            "`status` must be open or closed",
        )),
    }
}

/// `GET /open311/v2/requests/{id}.json` (or `.xml`).
async fn show_request(
    State(hub): State<Hub>,
    reader: Reader,
    Path(file): Path<String>,
) -> Response {
    let Some((id, format)) = Format::split_extension(&file) else {
        return Format::Json.error(&Open311Error::not_found("requests end in .json or .xml"));
    };
    let audience = match audience(&hub, reader) {
        Ok(audience) => audience,
        Err(problem) => return format.error(&Open311Error::from(problem)),
    };
    match hub.triage.find_reports(vec![id.to_owned()]).await {
        Ok(found) if found.is_empty() => format.error(&Open311Error::not_found(&format!(
            "service request {id} does not exist"
        ))),
        Ok(found) => format.requests(&hub, &found, audience),
        Err(problem) => format.error(&Open311Error::from(problem)),
    }
}
