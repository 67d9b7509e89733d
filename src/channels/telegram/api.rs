//! A thin typed client of the Telegram Bot API (the few methods the bot uses) over reqwest,
//! and what each error answer means. The API address is the admin's (Telegram's, or the
//! office's own `telegram-bot-api`), so it is not held to the outbound address rules.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::updates::Update;

/// Longest wait for an answer beyond a long poll's own timeout.
const ANSWER_MARGIN: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

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
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(poll_timeout + ANSWER_MARGIN)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("vedetta/", env!("CARGO_PKG_VERSION")))
            .build()?;
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
        let mut answer = self
            .http
            .get(format!("{}/{file_path}", self.files))
            .send()
            .await
            .map_err(|err| ApiError::Unreachable(describe(&err)))?;
        if !answer.status().is_success() {
            return Err(ApiError::Refused {
                code: answer.status().as_u16(),
                description: "the file could not be downloaded".into(),
                retry_after: None,
            });
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = answer
            .chunk()
            .await
            .map_err(|err| ApiError::Unreachable(describe(&err)))?
        {
            if bytes.len() + chunk.len() > max_bytes {
                return Err(ApiError::Refused {
                    code: 413,
                    description: "the file is larger than a report's photo may be".into(),
                    retry_after: None,
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
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

/// What went wrong, without the URL (it holds the token).
fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "no answer in time".into()
    } else if err.is_connect() {
        "cannot connect".into()
    } else {
        "the request failed".into()
    }
}
