//! HTTP routes: the JSON API under `/api/v1`, Open311, health, and the WebSocket upgrade.

mod archive;
mod audit;
mod auth;
mod cap;
mod cap_sources;
mod chat;
mod compress;
mod error;
mod extract;
mod field;
mod health;
mod incidents;
mod meta;
mod metrics;
mod notices;
mod open311;
mod pages;
mod params;
mod permit;
mod public_stats;
mod refusals;
mod reports;
mod revalidate;
mod server;
mod stats;
mod subscriptions;
mod tiles;
mod triage;
mod users;
mod webhooks;
mod ws;
mod zones;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::IntoResponse;
use axum::routing::{get, patch, post};
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};

pub use auth::bearer;
pub use error::ApiError;
pub use extract::PeerAddr;
pub use metrics::listener_router as metrics_router;
pub use open311::parse_request_form;
pub use revalidate::matches as etag_matches;
pub use server::{SocketOptions, serve};

use crate::hub::Hub;
use crate::problem::{ErrorCode, Problem};

/// The whole HTTP surface of the hub.
pub fn router(hub: Hub) -> Router {
    let public = Router::new()
        .merge(report_routes())
        .merge(incident_and_team_routes())
        .merge(account_routes())
        .merge(notice_routes(&hub))
        .merge(published_routes())
        .merge(open311::router())
        .merge(pages::router())
        .merge(tiles::router())
        .fallback(error::not_found)
        .layer(DefaultBodyLimit::max(hub.config.intake.max_body_bytes));
    let public = with_rate_limit(
        public,
        hub.config.limits.http_requests_per_second_per_ip,
        &hub,
    );
    let config = &hub.config;
    let request_timeout = Duration::from_secs(config.http.request_timeout_secs);
    let (max_body, max_uri) = (config.intake.max_body_bytes, config.http.max_uri_bytes);
    // Health checks stay outside the rate limit: monitoring must always get through.
    let routes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::for_staff))
        .merge(public)
        .layer(from_fn(revalidate::with_etag))
        .layer(compress::compression())
        .layer(from_fn(compress::only_known_encodings))
        // The path only: a query may carry a token (a subscription link, Meta's handshake).
        .layer(TraceLayer::new_for_http().make_span_with(
            |request: &axum::http::Request<axum::body::Body>| {
                tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
            },
        )
        // A 503 is the answer to overload (busy password checks, shutdown), not a fault; an
        // internal error is logged at ERROR with its cause where it happens.
        .on_failure(DefaultOnFailure::new().level(tracing::Level::WARN)))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .layer(from_fn_with_state(
            max_body,
            refusals::check_declared_length,
        ))
        .layer(from_fn_with_state(max_uri, refusals::check_uri_length))
        .with_state(hub);
    // Around the routes as a whole: a layer on each route sees a wrong method's 405 before
    // the router adds the Allow header that the error names.
    Router::new()
        .fallback_service(routes)
        .layer(from_fn(refusals::speak_json))
}

/// Reports, their triage, statistics and open data.
fn report_routes() -> Router<Hub> {
    Router::new()
        .route("/api/v1/reports", get(reports::list).post(reports::create))
        .route("/api/v1/reports/{id}", get(reports::show))
        .route("/api/v1/reports/{id}/photo", get(reports::photo))
        .route("/api/v1/reports/{id}/status", post(triage::change))
        .route("/api/v1/reports/{id}/history", get(triage::history))
        .route("/api/v1/reports/{id}/conversation", get(chat::conversation))
        .route(
            "/api/v1/reports/{id}/publication",
            post(triage::publication),
        )
        .route("/api/v1/reports/{id}/updates", get(triage::updates))
        .route("/api/v1/reports/{id}/escalate", post(triage::escalate))
        .route("/api/v1/reports/{id}/dispatch", post(triage::dispatch))
        .route("/api/v1/reports/export.geojson", get(stats::export_geojson))
        .route("/api/v1/reports/export.csv", get(stats::export_csv))
        .route("/api/v1/stats", get(stats::stats))
        .route("/api/v1/public/stats", get(public_stats::figures))
}

/// Incidents, field teams, their devices and tasks.
fn incident_and_team_routes() -> Router<Hub> {
    Router::new()
        .route("/api/v1/incidents", get(incidents::list))
        .route("/api/v1/incidents/{id}", get(incidents::show))
        .route("/api/v1/incidents/{id}/merge", post(incidents::merge))
        .route("/api/v1/incidents/{id}/split", post(incidents::split))
        .route("/api/v1/incidents/{id}/resolve", post(incidents::resolve))
        .route("/api/v1/incidents/{id}/escalate", post(incidents::escalate))
        .route("/api/v1/incidents/{id}/dispatch", post(incidents::dispatch))
        .route("/api/v1/teams", get(field::teams).post(field::create_team))
        .route(
            "/api/v1/teams/{id}",
            get(field::team).put(field::replace_team),
        )
        .route("/api/v1/devices", get(field::devices))
        .route("/api/v1/devices/{id}", get(field::device))
        .route("/api/v1/tasks", get(field::tasks))
        .route("/api/v1/tasks/{id}", get(field::task))
}

/// Logging in and out, accounts, the audit log.
fn account_routes() -> Router<Hub> {
    Router::new()
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/auth/me", get(auth::me))
        .route("/api/v1/users", get(users::list).post(users::create))
        .route("/api/v1/users/{name}", patch(users::update))
        .route("/api/v1/audit", get(audit::list))
        .route(
            "/api/v1/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route(
            "/api/v1/webhooks/{id}",
            patch(webhooks::update).delete(webhooks::remove),
        )
}

/// Notices: drafting, four eyes, updates and cancellations, CAP import.
fn notice_routes(hub: &Hub) -> Router<Hub> {
    Router::new()
        .route("/api/v1/notices", get(notices::list).post(notices::create))
        .route("/api/v1/notices/import", import_route(hub))
        .route("/api/v1/cap-sources", get(cap_sources::list))
        .route("/api/v1/public/notices", get(archive::list))
        .route("/api/v1/public/notices/{id}", get(archive::show))
        .route("/api/v1/notices/area-preview", post(notices::preview_area))
        .route(
            "/api/v1/notices/{id}",
            get(notices::show).put(notices::edit),
        )
        .route("/api/v1/notices/{id}/approve", post(notices::approve))
        .route("/api/v1/notices/{id}/reject", post(notices::reject))
        .route("/api/v1/notices/{id}/update", post(notices::start_update))
        .route("/api/v1/notices/{id}/cancel", post(notices::start_cancel))
        .route(
            "/api/v1/notices/{id}/deliveries/retry",
            post(notices::retry_deliveries),
        )
}

/// What the hub publishes and describes: CAP, feeds, zones, categories, the API, the WebSocket.
fn published_routes() -> Router<Hub> {
    Router::new()
        .route("/api/v1/keys", get(cap::keys))
        .route("/cap/{file}", get(cap::document))
        .route("/feeds/cap.atom", get(cap::atom))
        .route("/feeds/cap.rss", get(cap::rss))
        .route("/feeds/archivio.atom", get(archive::atom))
        .route("/feeds/zones/{file}", get(cap::zone_atom))
        .route("/api/v1/zones", get(zones::list))
        .route("/api/v1/zones/lookup", get(zones::lookup))
        .route("/api/v1/places", get(zones::places))
        .route("/api/v1/categories", get(meta::categories))
        .route("/api/v1/openapi.json", get(meta::openapi))
        .route("/ws", get(ws::upgrade))
        .route("/api/v1/push/key", get(subscriptions::push_key))
        .route(
            "/api/v1/subscriptions/push",
            post(subscriptions::subscribe_push),
        )
        .route(
            "/api/v1/subscriptions/push/remove",
            post(subscriptions::unsubscribe_push),
        )
        .route(
            "/api/v1/subscriptions/email",
            post(subscriptions::subscribe_email),
        )
        .route("/chat/telegram/webhook", post(chat::telegram_webhook))
        .route(
            "/chat/whatsapp/webhook",
            get(chat::whatsapp_handshake).post(chat::whatsapp_webhook),
        )
        .route(
            "/subscriptions/{id}/{action}",
            get(subscriptions::link_page).post(subscriptions::link_action),
        )
}

/// CAP import takes smaller bodies than the rest; it says so before reading one.
fn import_route(hub: &Hub) -> axum::routing::MethodRouter<Hub> {
    let limit = hub.config.notices.max_import_bytes;
    post(notices::import)
        .layer(DefaultBodyLimit::max(limit))
        .layer(from_fn_with_state(limit, refusals::check_declared_length))
}

/// Caps requests per second from one peer IP, bursting to twice that; 0 leaves it off.
fn with_rate_limit(router: Router<Hub>, per_second: u32, hub: &Hub) -> Router<Hub> {
    if per_second == 0 {
        return router;
    }
    let config = GovernorConfigBuilder::default()
        .period(Duration::from_secs(1) / per_second)
        .burst_size(per_second.saturating_mul(2))
        .finish()
        .expect("a positive period and burst");
    let limiter = config.limiter().clone();
    let (shutdown, metrics) = (hub.shutdown.clone(), hub.metrics.clone());
    hub.tasks.spawn(async move {
        crate::clock::every(Duration::from_secs(60), &shutdown, || {
            limiter.retain_recent();
            std::future::ready(())
        })
        .await;
    });
    let refuse = move |_| {
        metrics.limited("http_per_ip");
        too_many_requests()
    };
    router.layer(GovernorLayer::new(Arc::new(config)).error_handler(refuse))
}

fn too_many_requests() -> axum::response::Response {
    let problem = Problem::new(
        ErrorCode::RateLimited,
        "too many requests from this address; slow down and retry in a few seconds",
    )
    .retry_after(1);
    ApiError(problem).into_response()
}
