//! HTTP to a chat service's API: a client that follows no redirect and takes no proxy, errors
//! described without their URL (it may hold a token), and downloads cut off at a limit.

use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A client for an API the admin configured, answering within `timeout`.
pub fn client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("vedetta/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// What went wrong, without the URL.
pub fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "no answer in time".into()
    } else if err.is_connect() {
        "cannot connect".into()
    } else {
        "the request failed".into()
    }
}

/// Why a download was not taken.
pub enum DownloadError {
    /// The service answered this status.
    Status(u16),
    /// Longer than the limit, however the service labelled it.
    TooLarge,
    /// The transfer broke, described.
    Broken(String),
}

/// The body of a successful answer, refused past `max_bytes` as it arrives.
pub async fn read_limited(
    mut answer: reqwest::Response,
    max_bytes: usize,
) -> Result<Vec<u8>, DownloadError> {
    if !answer.status().is_success() {
        return Err(DownloadError::Status(answer.status().as_u16()));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = answer
        .chunk()
        .await
        .map_err(|err| DownloadError::Broken(describe(&err)))?
    {
        if bytes.len() + chunk.len() > max_bytes {
            return Err(DownloadError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
