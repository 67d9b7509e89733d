//! Citizens' subscriptions: Web Push from the page, e-mail with double opt-in, and the
//! confirm and unsubscribe links every message carries (small pages, for people).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{JsonBody, KnownQuery, PeerAddr};
use crate::hub::Hub;
use crate::model::{Location, Target};

/// A point as the page sends it.
#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub(super) struct PointBody {
    lat: f64,
    lon: f64,
}
use crate::outbox::{NewSubscription, Place, SubscriptionView};
use crate::problem::{ErrorCode, Problem};

/// `schemas/push-subscription.schema.json`: the browser's `PushSubscription.toJSON()` and
/// the place to hear about.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PushRequest {
    subscription: BrowserSubscription,
    point: Option<PointBody>,
    zone: Option<String>,
    language: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct BrowserSubscription {
    endpoint: String,
    keys: BrowserKeys,
}

#[derive(Deserialize)]
pub(super) struct BrowserKeys {
    p256dh: String,
    auth: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PushRemoval {
    endpoint: String,
}

/// `schemas/email-subscription.schema.json`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EmailRequest {
    address: String,
    point: Option<PointBody>,
    zone: Option<String>,
    language: Option<String>,
}

fn place(point: Option<PointBody>, zone: Option<String>) -> Result<Place, ApiError> {
    match (point, zone) {
        (Some(point), None) => Ok(Place::Point(Location {
            lat: point.lat,
            lon: point.lon,
        })),
        (None, Some(zone)) => Ok(Place::Zone(zone)),
        _ => Err(ApiError(Problem::with_field(
            ErrorCode::InvalidField,
            "point",
            "send either `point` ({\"lat\":…,\"lon\":…}) or `zone` (a zone id), not both and not neither",
        ))),
    }
}

/// `GET /api/v1/push/key`: the office's VAPID key, for `pushManager.subscribe`.
pub(super) async fn push_key(State(hub): State<Hub>) -> Result<Json<Value>, ApiError> {
    let key = hub.push_key.as_ref().ok_or_else(|| {
        ApiError(Problem::new(
            ErrorCode::NotFound,
            "this office does not send push notifications (outbox.push.enabled = false)",
        ))
    })?;
    Ok(Json(json!({ "public_key": key.public_key() })))
}

pub(super) async fn subscribe_push(
    State(hub): State<Hub>,
    PeerAddr(peer): PeerAddr,
    JsonBody(request): JsonBody<PushRequest>,
) -> Result<(StatusCode, Json<SubscriptionView>), ApiError> {
    if hub.push_key.is_none() {
        return Err(ApiError(Problem::new(
            ErrorCode::NotFound,
            "this office does not send push notifications",
        )));
    }
    let new = NewSubscription {
        target: Target::WebPush {
            endpoint: request.subscription.endpoint,
            p256dh: request.subscription.keys.p256dh,
            auth: request.subscription.keys.auth,
        },
        place: place(request.point, request.zone)?,
        language: request.language,
    };
    Ok((
        StatusCode::CREATED,
        Json(
            hub.outbox
                .subscribe_push(new, peer.map(|peer| peer.ip()))
                .await?,
        ),
    ))
}

pub(super) async fn unsubscribe_push(
    State(hub): State<Hub>,
    JsonBody(removal): JsonBody<PushRemoval>,
) -> Result<StatusCode, ApiError> {
    hub.outbox.unsubscribe_push(&removal.endpoint).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn subscribe_email(
    State(hub): State<Hub>,
    PeerAddr(peer): PeerAddr,
    JsonBody(request): JsonBody<EmailRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let new = NewSubscription {
        target: Target::Email {
            address: request.address,
        },
        place: place(request.point, request.zone)?,
        language: request.language,
    };
    hub.outbox
        .subscribe_email(new, peer.map(|peer| peer.ip()))
        .await?;
    let message = "if the address can receive mail, a message with a confirmation link is on its way; nothing is sent before you confirm";
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "status": "confirmation_sent", "message": message })),
    ))
}

/// The page behind a confirm or unsubscribe link: one button, so that a mail scanner
/// following links cannot act for the person.
/// Errors are JSON like every other answer of the hub (a browser shows them readably).
pub(super) async fn link_page(
    Path((id, action)): Path<(String, String)>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let words = LinkWords::of(&action)?;
    let token = link_token(&uri)?;
    let action_url = format!(
        "/subscriptions/{}/{action}?token={}",
        escape(&id),
        escape(&token)
    );
    let form = format!(
        "<form method=\"post\" action=\"{action_url}\"><button type=\"submit\">{}</button></form>",
        words.button
    );
    Ok(page(words.title, &form))
}

fn link_token(uri: &Uri) -> Result<String, ApiError> {
    let query = KnownQuery::from_uri(uri, &["token"])?;
    let token = query.get("token").ok_or_else(|| {
        ApiError(Problem::with_field(
            ErrorCode::MissingField,
            "token",
            "this link is incomplete: open the whole link from the message",
        ))
    })?;
    let well_formed = token.len() <= 100
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(ApiError(Problem::with_field(
            ErrorCode::InvalidField,
            "token",
            "this link was changed or cut short: open the whole link from the message",
        )));
    }
    Ok(token.to_owned())
}

/// A confirm or unsubscribe link acted on (also RFC 8058 one-click from a mail client).
pub(super) async fn link_action(
    State(hub): State<Hub>,
    Path((id, action)): Path<(String, String)>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let words = LinkWords::of(&action)?;
    let token = link_token(&uri)?;
    if action == "confirm" {
        hub.outbox.confirm(&id, &token).await?;
    } else {
        hub.outbox.unsubscribe(&id, &token).await?;
    }
    Ok(page(words.title, words.done))
}

struct LinkWords {
    title: &'static str,
    button: &'static str,
    done: &'static str,
}

impl LinkWords {
    fn of(action: &str) -> Result<LinkWords, ApiError> {
        match action {
            "confirm" => Ok(LinkWords {
                title: "Conferma l'iscrizione / Confirm the subscription",
                button: "Conferma / Confirm",
                done: "Iscrizione confermata: riceverai gli avvisi per e-mail. / Subscription confirmed: you will receive notices by e-mail.",
            }),
            "unsubscribe" => Ok(LinkWords {
                title: "Annulla l'iscrizione / Unsubscribe",
                button: "Annulla l'iscrizione / Unsubscribe",
                done: "Iscrizione annullata: non riceverai altri messaggi e il tuo indirizzo è stato cancellato. / Unsubscribed: you will receive no more messages and your address was deleted.",
            }),
            _ => Err(ApiError::not_found(
                "a subscription link (they end in /confirm or /unsubscribe)",
            )),
        }
    }
}

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"it\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body style=\"font-family:sans-serif;max-width:36em;margin:2em auto;padding:0 1em\"><main><h1>{title}</h1><p>{body}</p></main></body></html>"
    );
    Html(html).into_response()
}

fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}
