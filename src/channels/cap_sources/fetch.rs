//! Fetching a source's documents: conditional GETs (`ETag`, `Last-Modified`), redirects
//! followed only to addresses the source may reach, and bodies cut off at a limit.

use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION};
use reqwest::{StatusCode, Url};

use crate::channels::http_client::OutboundHttp;
use crate::channels::service_api::{DownloadError, describe, read_limited};
use crate::model::Outcome;

/// Redirects followed at most per fetch.
const MAX_REDIRECTS: usize = 5;

/// What a server said a document's version was, sent back to ask only for a newer one.
#[derive(Debug, Default, Clone)]
pub(super) struct Validators {
    pub(super) etag: Option<String>,
    pub(super) last_modified: Option<String>,
}

/// Why a fetch failed, and whether asking again could help.
#[derive(Debug)]
pub(super) struct FetchError {
    pub(super) message: String,
    /// Refused for what it is (a client error, too large, a forbidden address): not asked again.
    pub(super) lasting: bool,
}

impl FetchError {
    fn passing(message: impl Into<String>) -> FetchError {
        FetchError {
            message: message.into(),
            lasting: false,
        }
    }

    fn lasting(message: impl Into<String>) -> FetchError {
        FetchError {
            message: message.into(),
            lasting: true,
        }
    }
}

pub(super) enum Fetched {
    NotModified,
    Body {
        bytes: Vec<u8>,
        /// Where the document was found, redirects followed: relative links resolve against it.
        at: Url,
        validators: Validators,
    },
}

/// GETs `url`, following redirects each checked like the first request. `private_host` is the
/// one host an admin allowed on a private network: the source's own, not wherever it points.
pub(super) async fn fetch(
    http: &OutboundHttp,
    url: &Url,
    private_host: Option<&str>,
    validators: &Validators,
    max_bytes: usize,
) -> Result<Fetched, FetchError> {
    let mut at = url.clone();
    for _ in 0..=MAX_REDIRECTS {
        let client = http
            .client_for(
                &at,
                private_host.is_some_and(|host| at.host_str() == Some(host)),
            )
            .map_err(|refused| match refused {
                Outcome::Failed { error } => FetchError::lasting(error),
                _ => FetchError::lasting("the address may not be reached"),
            })?;
        let mut request = client.get(at.clone());
        if let Some(etag) = &validators.etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &validators.last_modified {
            request = request.header(IF_MODIFIED_SINCE, modified);
        }
        let answer = request.send().await.map_err(|err| refused_or(&err))?;
        let status = answer.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if status.is_redirection() {
            at = redirect_target(&at, &answer).map_err(FetchError::lasting)?;
            continue;
        }
        let validators = Validators {
            etag: header(&answer, ETAG),
            last_modified: header(&answer, LAST_MODIFIED),
        };
        let bytes = read_limited(answer, max_bytes)
            .await
            .map_err(|err| match err {
                DownloadError::Status(code) => {
                    let said = format!("the source answered {code}");
                    match code {
                        400..=499 if code != 408 && code != 429 => FetchError::lasting(said),
                        _ => FetchError::passing(said),
                    }
                }
                DownloadError::TooLarge => {
                    FetchError::lasting(format!("the document is over {max_bytes} bytes"))
                }
                DownloadError::Broken(why) => FetchError::passing(why),
            })?;
        return Ok(Fetched::Body {
            bytes,
            at,
            validators,
        });
    }
    Err(FetchError::lasting(format!(
        "more than {MAX_REDIRECTS} redirects"
    )))
}

fn redirect_target(from: &Url, answer: &reqwest::Response) -> Result<Url, String> {
    let location = header(answer, LOCATION)
        .ok_or_else(|| format!("a redirect ({}) without a Location", answer.status()))?;
    let target = from
        .join(&location)
        .map_err(|_| "a redirect to an address that is not a URL".to_owned())?;
    if !matches!(target.scheme(), "http" | "https") {
        return Err("a redirect to something other than http or https".into());
    }
    Ok(target)
}

fn header(answer: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<String> {
    answer
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// The resolver's refusal of a private address reads as such, not as a failed connection.
fn refused_or(err: &reqwest::Error) -> FetchError {
    let refused = std::iter::successors(Some(err as &dyn std::error::Error), |e| e.source())
        .any(|e| e.to_string().contains("private"));
    if refused {
        FetchError::lasting(
            "the address is loopback, link-local or private, and the source is not allowed there",
        )
    } else {
        FetchError::passing(describe(err))
    }
}
