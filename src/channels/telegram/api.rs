//! A thin typed client of the Telegram Bot API (the few methods the bot uses) over reqwest,
//! and what each error answer means. The API address is the admin's (Telegram's, or the
//! office's own `telegram-bot-api`), so it is not held to the outbound address rules.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::updates::Update;
use crate::channels::service_api::{self, DownloadError, describe};

/// Longest wait for an answer beyond a long poll's own timeout.
const ANSWER_MARGIN: Duration = Duration::from_secs(10);

/// The Bot API of one bot.
#[derive(Clone)]
pub struct BotApi {
    http: reqwest::Client,
    /// `{api_url}/bot{token}`: the token is a secret, so this is never logged.
    methods: String,
    files: String,
}

/// Why a call did not succeed.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// The API answered `ok: false`.
    Refused {
        code: u16,
        description: String,
        retry_after: Option<u64>,
    },
    /// No usable answer (network, timeout, not the Bot API's JSON).
    Unreachable(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Refused {
                code, description, ..
            } => write!(f, "Telegram answered {code}: {description}"),
            ApiError::Unreachable(why) => write!(f, "Telegram could not be reached: {why}"),
        }
    }
}

#[derive(Deserialize)]
struct Answer<T> {
    ok: bool,
    result: Option<T>,
    error_code: Option<u16>,
    description: Option<String>,
    parameters: Option<Parameters>,
}

#[derive(Deserialize)]
struct Parameters {
    retry_after: Option<u64>,
}

/// A file the API holds (a photo), before it is downloaded.
#[derive(Debug, Deserialize)]
pub struct TelegramFile {
    pub file_path: Option<String>,
    pub file_size: Option<u64>,
}

/// A message to send, with its keyboard.
#[derive(Debug, Serialize)]
pub struct OutgoingMessage<'a> {
    pub chat_id: &'a str,
    pub text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<Value>,
    pub link_preview_options: Value,
}

impl BotApi {
    pub fn new(api_url: &str, token: &str, poll_timeout: Duration) -> anyhow::Result<BotApi> {
        let http = service_api::client(poll_timeout + ANSWER_MARGIN)?;
        let base = api_url.trim_end_matches('/');
        Ok(BotApi {
            http,
            methods: format!("{base}/bot{token}"),
            files: format!("{base}/file/bot{token}"),
        })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        body: &impl Serialize,
    ) -> Result<T, ApiError> {
        let answer = self
            .http
            .post(format!("{}/{method}", self.methods))
            .json(body)
            .send()
            .await
            .map_err(|err| ApiError::Unreachable(describe(&err)))?;
        let status = answer.status().as_u16();
        let answer: Answer<T> = answer.json().await.map_err(|_| {
            ApiError::Unreachable(format!("answer {status} is not the Bot API's JSON"))
        })?;
        match (answer.ok, answer.result) {
            (true, Some(result)) => Ok(result),
            _ => Err(ApiError::Refused {
                code: answer.error_code.unwrap_or(status),
                description: answer.description.unwrap_or_default(),
                retry_after: answer.parameters.and_then(|p| p.retry_after),
            }),
        }
    }

    /// Updates from `offset` on, waiting up to `timeout` for the first; confirms those before.
    pub async fn get_updates(
        &self,
        offset: Option<i64>,
        timeout: Duration,
    ) -> Result<Vec<Update>, ApiError> {
        let body = json!({
            "offset": offset,
            "timeout": timeout.as_secs(),
            "allowed_updates": ["message", "callback_query"],
        });
        self.call("getUpdates", &body).await
    }

    pub async fn send_message(&self, message: &OutgoingMessage<'_>) -> Result<(), ApiError> {
        self.call::<Value>("sendMessage", message).await.map(drop)
    }

    /// Stops the spinner on a pressed button.
    pub async fn answer_callback(&self, callback_query_id: &str) -> Result<(), ApiError> {
        let body = json!({ "callback_query_id": callback_query_id });
        self.call::<Value>("answerCallbackQuery", &body)
            .await
            .map(drop)
    }

    pub async fn get_file(&self, file_id: &str) -> Result<TelegramFile, ApiError> {
        self.call("getFile", &json!({ "file_id": file_id })).await
    }

    /// Downloads a file, refusing one longer than `max_bytes` however the server labels it.
    pub async fn download(&self, file_path: &str, max_bytes: usize) -> Result<Vec<u8>, ApiError> {
        let answer = self
            .http
            .get(format!("{}/{file_path}", self.files))
            .send()
            .await
            .map_err(|err| ApiError::Unreachable(describe(&err)))?;
        service_api::read_limited(answer, max_bytes)
            .await
            .map_err(|err| match err {
                DownloadError::Status(code) => ApiError::Refused {
                    code,
                    description: "the file could not be downloaded".into(),
                    retry_after: None,
                },
                DownloadError::TooLarge => ApiError::Refused {
                    code: 413,
                    description: "the file is larger than a report's photo may be".into(),
                    retry_after: None,
                },
                DownloadError::Broken(why) => ApiError::Unreachable(why),
            })
    }

    /// Asks Telegram to post updates to `url` with `secret` in every request.
    pub async fn set_webhook(&self, url: &str, secret: &str) -> Result<(), ApiError> {
        let body = json!({
            "url": url,
            "secret_token": secret,
            "allowed_updates": ["message", "callback_query"],
        });
        self.call::<Value>("setWebhook", &body).await.map(drop)
    }

    /// Long polling and a webhook exclude each other: polling starts by removing any webhook.
    pub async fn delete_webhook(&self) -> Result<(), ApiError> {
        self.call::<Value>("deleteWebhook", &json!({}))
            .await
            .map(drop)
    }
}
