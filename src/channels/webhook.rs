//! Webhooks: each delivery is a POST of the signed notice frame with links to its CAP document
//! and page, signed per the Standard Webhooks specification (`v1` HMAC-SHA256 with the
//! endpoint's secret, `v1a` Ed25519 with the office's notice key), so receivers can verify it
//! with any Standard Webhooks library.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::value::RawValue;
use sha2::Sha256;

use super::http_client::{OutboundHttp, outcome_of, outcome_of_error};
use crate::model::{OutboundChannel, Outcome, Target};
use crate::notices::Signer;
use crate::outbox::{Content, Courier, Parcel};

pub struct WebhookCourier {
    pub http: OutboundHttp,
    /// The office's notice key, for the `v1a` signature.
    pub signer: Arc<Signer>,
    /// Prefix of `webhook-id`, unique per office.
    pub office: String,
    pub concurrency: usize,
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

    async fn send(&self, parcel: Parcel) -> Outcome {
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
        let Ok(frame) = serde_json::from_slice::<&RawValue>(frame) else {
            return Outcome::Failed {
                error: "the stored frame is not JSON".into(),
            };
        };
        let now = chrono::Utc::now();
        let body = serde_json::to_vec(&Envelope {
            kind: format!("notice.{}", parcel.delivery.kind.as_str()),
            timestamp: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            data: Data {
                notice_id: &notice.id,
                thread_id: &notice.thread_id,
                frame,
                cap_url: parcel.links.cap_document.as_deref(),
                page_url: parcel.links.notice_page.as_deref(),
            },
        })
        .expect("the envelope serializes");
        let id = format!("msg_{}_{}", self.office, parcel.delivery.id);
        let Some(signature) = self.signature(secret, &id, now.timestamp(), &body) else {
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
            .header("webhook-id", id)
            .header("webhook-timestamp", now.timestamp().to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(answer) => outcome_of(answer.status(), answer.headers()),
            Err(err) => outcome_of_error(&err),
        }
    }
}

impl WebhookCourier {
    /// `v1,<HMAC-SHA256> v1a,<Ed25519>` over `{id}.{timestamp}.{body}`.
    fn signature(&self, secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
        let key = STANDARD.decode(secret.strip_prefix("whsec_")?).ok()?;
        let mut signed = format!("{id}.{timestamp}.").into_bytes();
        signed.extend_from_slice(body);
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
        mac.update(&signed);
        let v1 = STANDARD.encode(mac.finalize().into_bytes());
        let v1a = self.signer.sign(&signed).value;
        Some(format!("v1,{v1} v1a,{v1a}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_v1_signature_matches_the_standard_webhooks_test_vector() {
        let dir = tempfile::tempdir().unwrap();
        let courier = WebhookCourier {
            http: OutboundHttp::new(Default::default()).unwrap(),
            signer: Arc::new(Signer::load_or_create(dir.path()).unwrap()),
            office: "test".into(),
            concurrency: 1,
        };
        let signature = courier
            .signature(
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#,
            )
            .unwrap();
        assert!(
            signature.starts_with("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1a,"),
            "{signature}"
        );
    }
}
