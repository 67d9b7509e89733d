//! A thin typed client of the WhatsApp Business Cloud API (the Graph API's `/messages` and media
//! endpoints) over reqwest, and Meta's error answers. The API address is the admin's, so it is
//! not held to the outbound address rules; a media download (whose address comes in Meta's
//! answer, and which carries the token) goes only there or to Meta's media host over https.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::channels::service_api::{self, DownloadError, describe};

const TIMEOUT: Duration = Duration::from_secs(20);
/// Where Meta serves media (`lookaside.fbsbx.com`).
const MEDIA_HOST: &str = "fbsbx.com";

/// The Cloud API of one business number.
#[derive(Clone)]
pub struct CloudApi {
    http: reqwest::Client,
    /// `{api_url}/{version}`.
    base: String,
    origin: String,
    phone_number_id: String,
    /// The access token: a secret, so never logged.
    token: String,
}

/// Why a call did not succeed.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// Meta answered with a Graph error.
    Refused {
        status: u16,
        code: u64,
        message: String,
    },
    /// No usable answer (network, timeout, not the Graph API's JSON).
    Unreachable(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Refused {
                status,
                code,
                message,
            } => write!(f, "WhatsApp answered {status} (#{code}): {message}"),
            ApiError::Unreachable(why) => write!(f, "WhatsApp could not be reached: {why}"),
        }
    }
}

#[derive(Deserialize)]
struct GraphErrorBody {
    error: GraphError,
}

#[derive(Deserialize)]
struct GraphError {
    #[serde(default)]
    code: u64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    error_data: Option<ErrorData>,
}

#[derive(Deserialize)]
struct ErrorData {
    #[serde(default)]
    details: String,
}

/// Where a media object (a photo a person sent) can be downloaded.
#[derive(Debug, Deserialize)]
pub struct MediaInfo {
    pub url: String,
    pub file_size: Option<u64>,
}

impl CloudApi {
    pub fn new(
        api_url: &str,
        version: &str,
        phone_number_id: &str,
        token: &str,
    ) -> anyhow::Result<CloudApi> {
        let http = service_api::client(TIMEOUT)?;
        let api_url = url::Url::parse(api_url)?;
        let base = format!("{}/{version}", api_url.as_str().trim_end_matches('/'));
        Ok(CloudApi {
            http,
            base,
            origin: api_url.origin().ascii_serialization(),
            phone_number_id: phone_number_id.to_owned(),
            token: token.to_owned(),
        })
    }

    async fn answer(request: reqwest::RequestBuilder) -> Result<Value, ApiError> {
        let answer = request
            .send()
            .await
            .map_err(|err| ApiError::Unreachable(describe(&err)))?;
        let status = answer.status().as_u16();
        let body = answer
            .bytes()
            .await
            .map_err(|err| ApiError::Unreachable(describe(&err)))?;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&body).map_err(|_| {
                ApiError::Unreachable(format!("answer {status} is not the Graph API's JSON"))
            });
        }
        match serde_json::from_slice::<GraphErrorBody>(&body) {
            Ok(GraphErrorBody { error }) => {
                let details = error.error_data.map(|data| data.details);
                Err(ApiError::Refused {
                    status,
                    code: error.code,
                    message: match details.filter(|d| !d.is_empty()) {
                        Some(details) => format!("{} ({details})", error.message),
                        None => error.message,
                    },
                })
            }
            Err(_) => Err(ApiError::Unreachable(format!(
                "answer {status} is not the Graph API's JSON"
            ))),
        }
    }

    /// Sends one message (its JSON without `messaging_product`); returns Meta's id for it.
    pub async fn send(&self, mut message: Value) -> Result<String, ApiError> {
        message["messaging_product"] = json!("whatsapp");
        let url = format!("{}/{}/messages", self.base, self.phone_number_id);
        let answer =
            Self::answer(self.http.post(url).bearer_auth(&self.token).json(&message)).await?;
        Ok(answer["messages"][0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// Shows the person the blue ticks: the office has their message.
    pub async fn mark_read(&self, message_id: &str) -> Result<(), ApiError> {
        let body = json!({
            "messaging_product": "whatsapp", "status": "read", "message_id": message_id,
        });
        let url = format!("{}/{}/messages", self.base, self.phone_number_id);
        Self::answer(self.http.post(url).bearer_auth(&self.token).json(&body))
            .await
            .map(drop)
    }

    pub async fn media(&self, media_id: &str) -> Result<MediaInfo, ApiError> {
        let url = format!("{}/{}", self.base, percent_safe(media_id));
        let answer = Self::answer(self.http.get(url).bearer_auth(&self.token)).await?;
        serde_json::from_value(answer)
            .map_err(|_| ApiError::Unreachable("the media answer has no url".into()))
    }

    /// Downloads a media object, refusing one longer than `max_bytes` however it is labelled,
    /// and one anywhere but the API's own origin or Meta's media host over https.
    pub async fn download(&self, url: &str, max_bytes: usize) -> Result<Vec<u8>, ApiError> {
        let parsed = url::Url::parse(url)
            .map_err(|_| ApiError::Unreachable("the media url is not a URL".into()))?;
        let same_origin = parsed.origin().ascii_serialization() == self.origin;
        let metas_media_host = parsed.scheme() == "https"
            && parsed.host_str().is_some_and(|host| {
                host == MEDIA_HOST || host.ends_with(&format!(".{MEDIA_HOST}"))
            });
        if !same_origin && !metas_media_host {
            return Err(ApiError::Unreachable(
                "the media url is neither on the Graph API nor on Meta's media host".into(),
            ));
        }
        let answer = self
            .http
            .get(parsed)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|err| ApiError::Unreachable(describe(&err)))?;
        let refused = |status, message: &str| ApiError::Refused {
            status,
            code: 0,
            message: message.into(),
        };
        service_api::read_limited(answer, max_bytes)
            .await
            .map_err(|err| match err {
                DownloadError::Status(status) => {
                    refused(status, "the media could not be downloaded")
                }
                DownloadError::TooLarge => {
                    refused(413, "the media is larger than a report's photo may be")
                }
                DownloadError::Broken(why) => ApiError::Unreachable(why),
            })
    }
}

/// A media id goes into the path: anything but digits and letters makes it no id.
fn percent_safe(id: &str) -> &str {
    if id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        id
    } else {
        "invalid"
    }
}
