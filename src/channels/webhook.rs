//! Webhooks: each delivery is a POST of the signed notice frame with links to its CAP document
//! and page, signed per the Standard Webhooks specification (`v1` HMAC-SHA256 with the
//! endpoint's secret, `v1a` Ed25519 with the office's notice key), so receivers can verify it
//! with any Standard Webhooks library.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

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
        let Some(signature) = signature_header(secret, &message) else {
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
            .headers(message.headers.clone())
            .header(WEBHOOK_SIGNATURE, signature)
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
/// the event, as Standard Webhooks intends: the same to every endpoint and on every retry, and
/// never the same for two events.
struct Message {
    seq: i64,
    timestamp: i64,
    body: bytes::Bytes,
    v1a: String,
    /// `{id}.{timestamp}.`, which both signatures cover before the body.
    signed_prefix: Vec<u8>,
    /// Every header but the signature, which is the endpoint's own.
    headers: HeaderMap,
}

const WEBHOOK_SIGNATURE: HeaderName = HeaderName::from_static("webhook-signature");

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
        let now = chrono::Utc::now().timestamp();
        let mut kept = self.messages.lock().expect("webhook messages lock");
        // Within one process a cursor names one event (a backup is restored with the hub
        // stopped), so the digest is taken only for a message not made yet.
        if let Some(found) = kept.iter().find(|m| m.seq == seq && m.timestamp == now) {
            return Ok(found.clone());
        }
        let id = webhook_id(&self.office, seq, frame);
        let Ok(frame) = serde_json::from_slice::<&RawValue>(frame) else {
            return Err(Outcome::Failed {
                error: "the stored frame is not JSON".into(),
            });
        };
        let body = serde_json::to_vec(&Envelope {
            kind: format!("notice.{}", parcel.delivery.kind.as_str()),
            // When the event happened, so that a retry carries the same bytes.
            timestamp: parcel
                .delivery
                .created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            data: Data {
                notice_id: &notice.id,
                thread_id: &notice.thread_id,
                frame,
                cap_url: parcel.links.cap_document.as_deref(),
                page_url: parcel.links.notice_page.as_deref(),
            },
        })
        .expect("the envelope serializes");
        let Some(headers) = message_headers(&id, now) else {
            return Err(Outcome::Failed {
                error: "the office's name cannot go in a webhook-id header".into(),
            });
        };
        let signed_prefix = format!("{id}.{now}.").into_bytes();
        let mut signed = signed_prefix.clone();
        signed.extend_from_slice(&body);
        let v1a = self.signer.sign(&signed).value;
        let message = Arc::new(Message {
            seq,
            timestamp: now,
            body: body.into(),
            v1a,
            signed_prefix,
            headers,
        });
        if kept.len() == MESSAGES_KEPT {
            kept.pop_front();
        }
        kept.push_back(message.clone());
        Ok(message)
    }
}

/// The office, the event's cursor and a digest of its stored frame: a cursor alone comes back
/// for another event once a backup is restored, and a receiver would drop that as a repeat.
fn webhook_id(office: &str, event_seq: i64, frame: &[u8]) -> String {
    let digest = Sha256::digest(frame);
    let short: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("msg_{office}_{event_seq}_{short}")
}

/// `None` when the office's name cannot go in a header.
fn message_headers(id: &str, timestamp: i64) -> Option<HeaderMap> {
    let mut headers = HeaderMap::with_capacity(3);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        HeaderName::from_static("webhook-id"),
        HeaderValue::from_str(id).ok()?,
    );
    headers.insert(
        HeaderName::from_static("webhook-timestamp"),
        timestamp.into(),
    );
    Some(headers)
}

/// `webhook-signature`: the endpoint's `v1` and the office's `v1a`.
fn signature_header(secret: &str, message: &Message) -> Option<HeaderValue> {
    // "v1," and 44 characters of base64, " v1a," and the office's signature.
    let mut value = String::with_capacity(52 + message.v1a.len());
    value.push_str("v1,");
    hmac_signature(secret, message, &mut value)?;
    value.push_str(" v1a,");
    value.push_str(&message.v1a);
    HeaderValue::try_from(value).ok()
}

/// The `v1` signature, HMAC-SHA256 with the endpoint's own secret in base64, added to `out`.
fn hmac_signature(secret: &str, message: &Message, out: &mut String) -> Option<()> {
    let key = STANDARD.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(&message.signed_prefix);
    mac.update(&message.body);
    STANDARD.encode_string(mac.finalize().into_bytes(), out);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_v1_signature_matches_the_standard_webhooks_test_vector() {
        let message = Message {
            seq: 1,
            timestamp: 1614265330,
            body: bytes::Bytes::from_static(br#"{"test": 2432232314}"#),
            v1a: String::new(),
            signed_prefix: b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.".to_vec(),
            headers: HeaderMap::new(),
        };
        let mut v1 = String::new();
        hmac_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &message, &mut v1).unwrap();
        assert_eq!(v1, "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn a_message_carries_its_id_and_time_and_each_endpoint_both_signatures() {
        let (id, timestamp) = ("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330);
        let headers = message_headers(id, timestamp).unwrap();
        let header = |name: &str| headers[name].to_str().unwrap().to_owned();
        assert_eq!(header("content-type"), "application/json");
        assert_eq!(header("webhook-id"), id);
        assert_eq!(header("webhook-timestamp"), "1614265330");
        let message = Message {
            seq: 1,
            timestamp,
            body: bytes::Bytes::from_static(br#"{"test": 2432232314}"#),
            v1a: "b2ZmaWNl".into(),
            signed_prefix: format!("{id}.{timestamp}.").into_bytes(),
            headers,
        };
        let signature = signature_header("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &message);
        assert_eq!(
            signature.unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1a,b2ZmaWNl"
        );
    }

    #[test]
    fn two_events_at_one_cursor_are_two_messages_and_one_event_is_always_one() {
        let before_restore = webhook_id("office", 7, br#"{"notice":"A"}"#);
        let after_restore = webhook_id("office", 7, br#"{"notice":"B"}"#);

        assert_ne!(before_restore, after_restore);
        assert_eq!(
            before_restore,
            webhook_id("office", 7, br#"{"notice":"A"}"#)
        );
        assert!(
            before_restore.starts_with("msg_office_7_"),
            "{before_restore}"
        );
    }
}
