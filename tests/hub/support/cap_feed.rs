//! Another authority's CAP feed, served over local HTTP as such feeds are: an Atom feed whose
//! entries link to CAP documents, with an `ETag` that changes when an entry is added, and
//! `304 Not Modified` to a poller that already has the current one.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;

#[derive(Default)]
struct Published {
    /// Entry ids and the links to their CAP documents, oldest first; the documents by file name.
    entries: Vec<(String, String)>,
    documents: BTreeMap<String, String>,
    version: u32,
    /// Every request: the path and the `If-None-Match` it carried.
    requests: Vec<(String, Option<String>)>,
    not_modified: usize,
    /// Served instead of the feed when set: what a hostile or broken source sends.
    raw: Option<String>,
}

pub struct CapFeed {
    pub url: String,
    shared: Arc<Mutex<Published>>,
}

impl CapFeed {
    /// Serves an empty feed on `listener` (bound by the caller, so a test can pick the port).
    pub fn serve(listener: TcpListener) -> CapFeed {
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Mutex::new(Published::default()));
        let app = Router::new()
            .route("/feed.atom", get(feed))
            .route("/cap/{file}", get(document))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        CapFeed {
            url: format!("http://{addr}/feed.atom"),
            shared,
        }
    }

    pub async fn start() -> CapFeed {
        CapFeed::serve(TcpListener::bind("127.0.0.1:0").await.unwrap())
    }

    /// Adds an entry linking `document`; the feed's `ETag` changes.
    pub fn publish(&self, identifier: &str, document: String) {
        self.publish_linked(identifier, document, &format!("/cap/{identifier}.xml"));
    }

    /// Adds an entry whose link is `href` (served here at `/cap/<identifier>.xml`).
    pub fn publish_linked(&self, identifier: &str, document: String, href: &str) {
        let mut published = self.shared.lock().unwrap();
        published
            .entries
            .push((identifier.to_owned(), href.to_owned()));
        published
            .documents
            .insert(format!("{identifier}.xml"), document);
        published.version += 1;
    }

    /// Serves `body` as the feed from now on, whatever it is.
    pub fn serve_instead(&self, body: String) {
        self.shared.lock().unwrap().raw = Some(body);
    }

    /// Serves the feed again after `serve_instead`, with the `ETag` it had.
    pub fn serve_feed_again(&self) {
        self.shared.lock().unwrap().raw = None;
    }

    /// How many times a path was requested.
    pub fn requests_of(&self, path: &str) -> usize {
        let published = self.shared.lock().unwrap();
        published.requests.iter().filter(|(p, _)| p == path).count()
    }

    pub fn requests(&self) -> usize {
        self.shared.lock().unwrap().requests.len()
    }

    /// Polls answered `304 Not Modified`, having sent the current `ETag`.
    pub fn not_modified(&self) -> usize {
        self.shared.lock().unwrap().not_modified
    }
}

async fn feed(State(shared): State<Arc<Mutex<Published>>>, headers: HeaderMap) -> Response {
    let mut published = shared.lock().unwrap();
    let etag = format!("\"v{}\"", published.version);
    let asked = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    published
        .requests
        .push(("/feed.atom".into(), asked.clone()));
    if let Some(raw) = &published.raw {
        return (
            [(header::CONTENT_TYPE, "application/atom+xml")],
            raw.clone(),
        )
            .into_response();
    }
    if asked.as_deref() == Some(etag.as_str()) {
        published.not_modified += 1;
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let entries: String = published
        .entries
        .iter()
        .rev()
        .map(|(id, href)| {
            format!(
                r#"<entry><id>urn:cap:{id}</id><title>{id}</title><updated>2026-11-29T06:00:00Z</updated>
<link rel="alternate" type="application/cap+xml" href="{href}"/></entry>"#
            )
        })
        .collect();
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:feed</id><title>Allerte</title>
<updated>2026-11-29T06:00:00Z</updated>{entries}</feed>"#
    );
    (
        [
            (header::CONTENT_TYPE, "application/atom+xml".to_owned()),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response()
}

async fn document(
    State(shared): State<Arc<Mutex<Published>>>,
    Path(file): Path<String>,
) -> Response {
    let mut published = shared.lock().unwrap();
    published.requests.push((format!("/cap/{file}"), None));
    match published.documents.get(&file) {
        Some(xml) => ([(header::CONTENT_TYPE, "application/cap+xml")], xml.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
