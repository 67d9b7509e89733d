//! Web Push to closed browsers: RFC 8030 delivery, RFC 8291 `aes128gcm` encryption and RFC
//! 8292 VAPID (through `web-push-native`), with a TTL until the notice expires, `Urgency` from
//! its CAP urgency, and a `Topic` per thread so the push service itself replaces an undelivered
//! alert with its update.

use std::path::Path;
use std::time::SystemTime;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::HeaderValue;
use sha2::{Digest, Sha256};
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256KeyPair};
use web_push_native::vapid::VapidSignature;
use web_push_native::{Auth, WebPushBuilder, p256};

use super::http_client::{OutboundHttp, outcome_of, outcome_of_error};
use crate::cap::Urgency;
use crate::model::{DeliveryKind, Notice, OutboundChannel, Outcome, Target};
use crate::outbox::{Content, Courier, Parcel};

/// File of the office's VAPID key, in the data directory.
pub const VAPID_KEY_FILE: &str = "vapid-key.pem";
/// How long a VAPID token is valid; push services refuse more than a day.
const VAPID_VALIDITY: std::time::Duration = std::time::Duration::from_secs(12 * 3600);
/// The longest TTL push services keep a message (four weeks).
const LONGEST_TTL_SECS: i64 = 28 * 24 * 3600;
/// Notification text beyond this is cut: push payloads stay well under the 4 KB limit.
const MAX_BODY_CHARS: usize = 600;

/// The office's VAPID key pair, made on first start.
pub struct VapidKey {
    pair: ES256KeyPair,
}

impl VapidKey {
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<VapidKey> {
        let path = data_dir.join(VAPID_KEY_FILE);
        if path.exists() {
            let pem = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let pair = ES256KeyPair::from_pem(&pem)
                .map_err(|err| anyhow::anyhow!("{} is not a P-256 key: {err}", path.display()))?;
            return Ok(VapidKey { pair });
        }
        let pair = ES256KeyPair::generate();
        let pem = pair
            .to_pem()
            .map_err(|err| anyhow::anyhow!("cannot encode the VAPID key: {err}"))?;
        crate::secret::write_private_file(&path, pem.as_bytes())?;
        tracing::info!(path = %path.display(), "created the Web Push (VAPID) key; back it up with the database");
        Ok(VapidKey { pair })
    }

    /// The public key as browsers take it (`applicationServerKey`): uncompressed, base64url.
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.pair.public_key().public_key().to_bytes_uncompressed())
    }
}

pub struct PushCourier {
    http: OutboundHttp,
    vapid: std::sync::Arc<VapidKey>,
    /// VAPID `sub`: how a push service reaches the office (`mailto:` or `https:`).
    contact: String,
    concurrency: usize,
    tokens: VapidTokens,
}

/// VAPID tokens per push service: RFC 8292 lets one token serve every request to its
/// audience while it is valid, and signing one costs about half what encrypting the message
/// does (`cargo bench --bench outbox`).
#[derive(Default)]
struct VapidTokens {
    /// Audience (`scheme://host`) to the `Authorization` value and when it was signed.
    signed: std::sync::Mutex<std::collections::HashMap<String, (SystemTime, HeaderValue)>>,
}

/// A token is signed again once it has used half its validity, so none sent is near expiry.
const VAPID_REUSE: std::time::Duration = std::time::Duration::from_secs(6 * 3600);
/// Push services whose tokens are kept: the few big ones, with room for many more. Past it,
/// the oldest is dropped; at worst a busy service's token is signed again.
const VAPID_AUDIENCES: usize = 256;

impl Courier for PushCourier {
    fn channel(&self) -> OutboundChannel {
        OutboundChannel::WebPush
    }

    fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Its client sets no timeout of its own: the worker ends a send here.
    fn deadline(&self) -> std::time::Duration {
        super::http_client::REQUEST_TIMEOUT
    }

    async fn send(&self, parcel: &Parcel) -> Outcome {
        let Target::WebPush {
            endpoint,
            p256dh,
            auth,
        } = &parcel.target
        else {
            return Outcome::Failed {
                error: "not a push destination".into(),
            };
        };
        let Content::Notice { notice, .. } = &parcel.content else {
            return Outcome::Failed {
                error: "push carries notices only".into(),
            };
        };
        let payload = payload(
            notice,
            parcel.delivery.kind,
            &parcel.language,
            parcel.links.notice_page.as_deref(),
        );
        // The address is checked before anything is signed for its push service.
        let client = match reqwest::Url::parse(endpoint) {
            Ok(url) => match self.http.client_for(&url, parcel.allow_private) {
                Ok(client) => client,
                Err(refused) => return refused,
            },
            Err(_) => {
                let error = "the push subscription's endpoint is unusable".into();
                return Outcome::Gone { error };
            }
        };
        let request = match self.encrypt(endpoint, p256dh, auth, &payload, notice) {
            Ok(request) => request,
            Err(error) => return Outcome::Gone { error },
        };
        match client.execute(request).await {
            Ok(answer) => {
                if matches!(answer.status().as_u16(), 401 | 403) {
                    // The push service refused our token: the next send signs a new one.
                    let uri = endpoint.parse::<axum::http::Uri>().ok();
                    if let Some(audience) = uri.as_ref().and_then(audience_of) {
                        self.tokens.forget(&audience);
                    }
                }
                outcome_of(answer.status(), answer.headers())
            }
            Err(err) => outcome_of_error(&err),
        }
    }
}

impl PushCourier {
    pub fn new(
        http: OutboundHttp,
        vapid: std::sync::Arc<VapidKey>,
        contact: String,
        concurrency: usize,
    ) -> PushCourier {
        PushCourier {
            http,
            vapid,
            contact,
            concurrency,
            tokens: VapidTokens::default(),
        }
    }

    /// The encrypted, VAPID-signed request; an error means the subscription is unusable.
    fn encrypt(
        &self,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        payload: &[u8],
        notice: &Notice,
    ) -> Result<reqwest::Request, String> {
        let unusable = |what: &str| format!("the push subscription's {what} is unusable");
        let key = URL_SAFE_NO_PAD
            .decode(p256dh.trim_end_matches('='))
            .map_err(|_| unusable("key"))?;
        let key = p256::PublicKey::from_sec1_bytes(&key).map_err(|_| unusable("key"))?;
        let secret = URL_SAFE_NO_PAD
            .decode(auth.trim_end_matches('='))
            .map_err(|_| unusable("auth secret"))?;
        if secret.len() != 16 {
            return Err(unusable("auth secret"));
        }
        let uri: axum::http::Uri = endpoint.parse().map_err(|_| unusable("endpoint"))?;
        let authorization = self
            .authorization(&uri)
            .ok_or_else(|| unusable("endpoint"))?;
        let mut request = WebPushBuilder::new(uri, key, Auth::clone_from_slice(&secret))
            .build(payload.to_vec())
            .map_err(|_| unusable("key"))?;
        let ttl = (notice.content.expires - chrono::Utc::now())
            .num_seconds()
            .clamp(0, LONGEST_TTL_SECS);
        let headers = request.headers_mut();
        headers.insert(reqwest::header::AUTHORIZATION, authorization);
        headers.insert("ttl", HeaderValue::from(ttl));
        headers.insert(
            "urgency",
            HeaderValue::from_static(urgency(notice.content.urgency)),
        );
        headers.insert(
            "topic",
            HeaderValue::try_from(topic(&notice.thread_id)).expect("base64url is a valid header"),
        );
        reqwest::Request::try_from(request).map_err(|_| unusable("endpoint"))
    }

    /// The `Authorization` value for `endpoint`'s push service: signed once, then reused.
    fn authorization(&self, endpoint: &axum::http::Uri) -> Option<HeaderValue> {
        let audience = audience_of(endpoint)?;
        if let Some(value) = self.tokens.fresh(&audience) {
            return Some(value);
        }
        let signature =
            VapidSignature::sign(endpoint, VAPID_VALIDITY, &self.contact, &self.vapid.pair).ok()?;
        let value = HeaderValue::from(signature);
        self.tokens.keep(audience, value.clone());
        Some(value)
    }
}

impl VapidTokens {
    /// The token kept for `audience`, unless it has served its time. The age is read on the
    /// wall clock the token's `exp` was set by, not on a monotonic clock that stops while the
    /// machine is suspended.
    fn fresh(&self, audience: &str) -> Option<HeaderValue> {
        let signed = self.signed.lock().expect("VAPID tokens lock");
        let (at, value) = signed.get(audience)?;
        let age = SystemTime::now().duration_since(*at).ok()?;
        (age < VAPID_REUSE).then(|| value.clone())
    }

    /// Keeps a token, making room by dropping the oldest.
    fn keep(&self, audience: String, value: HeaderValue) {
        let mut signed = self.signed.lock().expect("VAPID tokens lock");
        if signed.len() >= VAPID_AUDIENCES && !signed.contains_key(&audience) {
            let oldest = signed.iter().min_by_key(|(_, (at, _))| *at);
            if let Some(oldest) = oldest.map(|(audience, _)| audience.clone()) {
                signed.remove(&oldest);
            }
        }
        signed.insert(audience, (SystemTime::now(), value));
    }

    /// Drops the token of a push service.
    fn forget(&self, audience: &str) {
        self.signed
            .lock()
            .expect("VAPID tokens lock")
            .remove(audience);
    }
}

/// The push service an endpoint belongs to, as `VapidSignature::sign` names it in `aud`.
fn audience_of(endpoint: &axum::http::Uri) -> Option<String> {
    Some(format!("{}://{}", endpoint.scheme_str()?, endpoint.host()?))
}

/// RFC 8030 §5.3 urgency from the CAP urgency.
fn urgency(urgency: Urgency) -> &'static str {
    match urgency {
        Urgency::Immediate => "high",
        Urgency::Expected | Urgency::Unknown => "normal",
        Urgency::Future => "low",
        Urgency::Past => "very-low",
    }
}

/// RFC 8030 §5.4 topic: at most 32 base64url characters, one per thread.
fn topic(thread_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(thread_id.as_bytes())[..24])
}

/// What the service worker shows: `schemas/push-payload.schema.json`.
fn payload(notice: &Notice, kind: DeliveryKind, language: &str, page: Option<&str>) -> Vec<u8> {
    let info = notice
        .content
        .info
        .get(language)
        .or_else(|| notice.content.info.values().next());
    let headline = info
        .and_then(|info| info.headline.clone().or_else(|| Some(info.event.clone())))
        .unwrap_or_default();
    let body: String = info
        .and_then(|info| {
            info.instruction
                .clone()
                .or_else(|| info.description.clone())
        })
        .unwrap_or_default()
        .chars()
        .take(MAX_BODY_CHARS)
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "type": "notice",
        "kind": kind.as_str(),
        "notice_id": notice.id,
        "thread_id": notice.thread_id,
        "status": notice.content.status,
        "msg_type": notice.msg_type,
        "severity": notice.content.severity,
        "urgency": notice.content.urgency,
        "headline": headline,
        "body": body,
        "expires": notice.content.expires,
        "url": page,
    }))
    .expect("the payload serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn courier() -> PushCourier {
        let dir = tempfile::tempdir().unwrap();
        let vapid = std::sync::Arc::new(VapidKey::load_or_create(dir.path()).unwrap());
        let http = OutboundHttp::for_outbox(crate::outbox::AddressPolicy::parse(&[]).unwrap());
        PushCourier::new(http.unwrap(), vapid, "mailto:sala@example.org".into(), 1)
    }

    #[test]
    fn browsers_of_one_push_service_share_its_vapid_token_and_another_service_gets_its_own() {
        let courier = courier();
        let endpoint = |url: &str| url.parse::<axum::http::Uri>().unwrap();
        let signed_at = |courier: &PushCourier| {
            let signed = courier.tokens.signed.lock().unwrap();
            signed.get("https://fcm.googleapis.com").map(|(at, _)| *at)
        };
        let first = courier.authorization(&endpoint("https://fcm.googleapis.com/fcm/send/a"));
        let first_signed_at = signed_at(&courier);
        let second = courier.authorization(&endpoint("https://fcm.googleapis.com/fcm/send/b"));
        assert_eq!(signed_at(&courier), first_signed_at, "not signed again");
        let other = courier.authorization(&endpoint(
            "https://updates.push.services.mozilla.com/wpush/v2/c",
        ));
        assert_eq!(first, second);
        assert_ne!(first, other);
        assert!(first.unwrap().to_str().unwrap().starts_with("vapid t="));
    }

    #[test]
    fn a_token_its_push_service_refused_is_forgotten_and_a_full_cache_makes_room_for_a_new_service()
    {
        let courier = courier();
        let endpoint = "https://fcm.googleapis.com/fcm/send/a";
        courier.authorization(&endpoint.parse().unwrap());
        assert!(courier.tokens.fresh("https://fcm.googleapis.com").is_some());
        let audience = audience_of(&endpoint.parse().unwrap()).unwrap();
        assert_eq!(audience, "https://fcm.googleapis.com");
        courier.tokens.forget(&audience);
        assert!(courier.tokens.fresh("https://fcm.googleapis.com").is_none());

        for n in 0..=VAPID_AUDIENCES {
            let value = HeaderValue::from_static("vapid t=x, k=y");
            courier
                .tokens
                .keep(format!("https://push-{n}.example.org"), value);
        }
        let signed = courier.tokens.signed.lock().unwrap();
        assert_eq!(signed.len(), VAPID_AUDIENCES);
        assert!(signed.contains_key(&format!("https://push-{VAPID_AUDIENCES}.example.org")));
    }
}
