//! Webhooks: each delivery is a POST of the signed notice frame with links to its CAP document
//! and page, signed per the Standard Webhooks specification (`v1` HMAC-SHA256 with the
//! endpoint's secret, `v1a` Ed25519 with the office's notice key), so receivers can verify it
//! with any Standard Webhooks library.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::value::RawValue;
use sha2::Sha256;

use super::http_client::{OutboundHttp, outcome_of, outcome_of_error};
use crate::model::{Notice, OutboundChannel, Outcome, Target};
use crate::notices::Signer;
use crate::outbox::{Content, Courier, Parcel};

pub struct WebhookCourier {
    http: OutboundHttp,
    /// The office's notice key, for the `v1a` signature.
    signer: Arc<Signer>,
    /// Part of `webhook-id`, so ids stay unique across offices.
    office: String,
    concurrency: usize,
    /// Std mutex: held only to find or add a message, never across an `.await`.
    messages: Mutex<VecDeque<Arc<Message>>>,
}

/// The body of one webhook: the Standard Webhooks `type` / `timestamp` / `data` envelope.
#[derive(serde::Serialize)]
struct Envelope<'a> {
    #[serde(rename = "type")]
    kind: String,
    timestamp: String,
    data: Data<'a>,
}

#[derive(serde::Serialize)]
struct Data<'a> {
    notice_id: &'a str,
    thread_id: &'a str,
    /// The notice frame exactly as every channel sends it, with its Ed25519 signature.
    frame: &'a RawValue,
    cap_url: Option<&'a str>,
    page_url: Option<&'a str>,
}

impl Courier for WebhookCourier {
    fn channel(&self) -> OutboundChannel {
        OutboundChannel::Webhook
    }

    fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Its client sets no timeout of its own: the worker ends a send here.
    fn deadline(&self) -> std::time::Duration {
        super::http_client::REQUEST_TIMEOUT
    }

    async fn send(&self, parcel: &Parcel) -> Outcome {
        let Target::Webhook { url, secret } = &parcel.target else {
            return Outcome::Failed {
                error: "not a webhook destination".into(),
            };
        };
        let Content::Notice { notice, frame } = &parcel.content else {
            return Outcome::Failed {
                error: "webhooks carry notices only".into(),
            };
        };
        let message = match self.message(parcel, notice, frame) {
            Ok(message) => message,
            Err(failed) => return failed,
        };
        let Some(v1) = hmac_signature(secret, &message) else {
            return Outcome::Failed {
                error: "the webhook's secret is not a whsec_ secret".into(),
            };
        };
        let Ok(url) = reqwest::Url::parse(url) else {
            return Outcome::Failed {
                error: "the webhook URL does not parse".into(),
            };
        };
        let client = match self.http.client_for(&url, parcel.allow_private) {
            Ok(client) => client,
            Err(refused) => return refused,
        };
        let sent = client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", message.id.as_str())
            .header("webhook-timestamp", message.timestamp.to_string())
            .header("webhook-signature", format!("v1,{v1} v1a,{}", message.v1a))
            .body(message.body.clone())
            .send()
            .await;
        match sent {
            Ok(answer) => outcome_of(answer.status(), answer.headers()),
            Err(err) => outcome_of_error(&err),
        }
    }
}

/// One event's message as every destination gets it within the same second: its body and the
/// office's `v1a` signature, made once however many destinations there are. `webhook-id` names
/// the event, as Standard Webhooks intends: the same to every endpoint and on every retry.
struct Message {
    seq: i64,
    id: String,
    timestamp: i64,
    body: bytes::Bytes,
    v1a: String,
}

/// Messages kept for reuse: the events being delivered right now.
const MESSAGES_KEPT: usize = 8;

impl WebhookCourier {
    pub fn new(
        http: OutboundHttp,
        signer: Arc<Signer>,
        office: String,
        concurrency: usize,
    ) -> WebhookCourier {
        WebhookCourier {
            http,
            signer,
            office,
            concurrency,
            messages: Mutex::new(VecDeque::new()),
        }
    }

    fn message(
        &self,
        parcel: &Parcel,
        notice: &Notice,
        frame: &[u8],
    ) -> Result<Arc<Message>, Outcome> {
        let seq = parcel.delivery.event_seq.unwrap_or_default();
        let now = chrono::Utc::now();
        let mut kept = self.messages.lock().expect("webhook messages lock");
        if let Some(found) = kept
            .iter()
            .find(|m| m.seq == seq && m.timestamp == now.timestamp())
        {
            return Ok(found.clone());
        }
        let Ok(frame) = serde_json::from_slice::<&RawValue>(frame) else {
            return Err(Outcome::Failed {
                error: "the stored frame is not JSON".into(),
            });
        };
        let body = serde_json::to_vec(&Envelope {
            kind: format!("notice.{}", parcel.delivery.kind.as_str()),
            timestamp: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            data: Data {
                notice_id: &notice.id,
                thread_id: &notice.thread_id,
                frame,
                cap_url: parcel.links.cap_document.as_deref(),
                page_url: parcel.links.notice_page.as_deref(),
            },
        })
        .expect("the envelope serializes");
        let id = format!("msg_{}_{seq}", self.office);
        let v1a = self
            .signer
            .sign(&signed_content(&id, now.timestamp(), &body))
            .value;
        let message = Arc::new(Message {
            seq,
            id,
            timestamp: now.timestamp(),
            body: body.into(),
            v1a,
        });
        if kept.len() == MESSAGES_KEPT {
            kept.pop_front();
        }
        kept.push_back(message.clone());
        Ok(message)
    }
}

/// What both signatures cover: `{id}.{timestamp}.{body}`.
fn signed_content(id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut signed = format!("{id}.{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    signed
}

/// The `v1` signature: HMAC-SHA256 with the endpoint's own secret, base64.
fn hmac_signature(secret: &str, message: &Message) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{}.{}.", message.id, message.timestamp).as_bytes());
    mac.update(&message.body);
    Some(STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_v1_signature_matches_the_standard_webhooks_test_vector() {
        let message = Message {
            seq: 1,
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek".into(),
            timestamp: 1614265330,
            body: bytes::Bytes::from_static(br#"{"test": 2432232314}"#),
            v1a: String::new(),
        };
        let v1 = hmac_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &message).unwrap();
        assert_eq!(v1, "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
