//! Meta's side of the webhook: the subscription handshake, and notifications of what users send
//! (and of what became of the hub's messages), signed with the app secret and posted again until
//! the hub answers 2xx.

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{
    CloudApi, DISPLAY_PHONE_NUMBER, Shared, WABA_ID, Webhook, hex, new_wamid, random, sha256_hex,
    unix_now,
};

/// The profile name of a user who has not given one.
const DEFAULT_NAME: &str = "Giulia";

impl CloudApi {
    /// Subscribes a webhook as Meta does: `GET {hub_url}?hub.mode=subscribe&hub.verify_token=…
    /// &hub.challenge=…`; returns the hub's status, its body, and the challenge it should echo.
    pub async fn verify(&self, hub_url: &str, verify_token: &str) -> (u16, String, String) {
        let challenge = (1_000_000_000 + random() % 9_000_000_000).to_string();
        let separator = if hub_url.contains('?') { '&' } else { '?' };
        let url = format!(
            "{hub_url}{separator}hub.mode=subscribe&hub.verify_token={}&hub.challenge={challenge}",
            percent_encode(verify_token)
        );
        let answer = self
            .shared
            .http
            .get(url)
            .header(
                "user-agent",
                "facebookplatform/1.0 (+http://developers.facebook.com)",
            )
            .send()
            .await
            .unwrap_or_else(|error| panic!("the hub answers the handshake at {hub_url}: {error}"));
        let status = answer.status().as_u16();
        let body = answer.text().await.unwrap_or_default();
        (status, body, challenge)
    }

    /// Where notifications go, and the app secret that signs them.
    pub fn set_webhook(&self, url: &str, app_secret: &str) {
        self.shared.lock().webhook = Some(Webhook {
            url: url.to_owned(),
            app_secret: app_secret.to_owned(),
        });
    }

    /// The `X-Hub-Signature-256` value for a body: `sha256=<hex HMAC-SHA256 with the secret>`.
    pub fn signature(&self, body: &[u8]) -> String {
        sign(&self.webhook().app_secret, body)
    }

    /// A text from a user (with this profile name); returns its id once the hub answered.
    pub async fn user_sends_text(&self, wa_id: &str, name: &str, text: &str) -> String {
        self.shared
            .lock()
            .names
            .insert(wa_id.to_owned(), name.to_owned());
        let message = json!({"type": "text", "text": {"body": text}});
        self.user_sends_message(wa_id, message).await
    }

    /// A location pinned by a user.
    pub async fn user_sends_location(&self, wa_id: &str, lat: f64, lon: f64) -> String {
        let location = json!({"latitude": lat, "longitude": lon});
        let message = json!({"type": "location", "location": location});
        self.user_sends_message(wa_id, message).await
    }

    /// A photo (downloadable if added with `add_media`), with or without a caption.
    pub async fn user_sends_image(
        &self,
        wa_id: &str,
        media_id: &str,
        mime_type: &str,
        caption: Option<&str>,
    ) -> String {
        let sha256 = {
            let state = self.shared.lock();
            let media = state.media.get(media_id);
            sha256_hex(media.map_or(media_id.as_bytes(), |media| &media.bytes))
        };
        let mut image = json!({"id": media_id, "mime_type": mime_type, "sha256": sha256});
        if let Some(caption) = caption {
            image["caption"] = json!(caption);
        }
        let message = json!({"type": "image", "image": image});
        self.user_sends_message(wa_id, message).await
    }

    /// A press on a reply button of the last interactive message sent to the user.
    pub async fn user_presses_button(&self, wa_id: &str, id: &str, title: &str) -> String {
        let reply = json!({"type": "button_reply", "button_reply": {"id": id, "title": title}});
        self.user_answers(wa_id, reply).await
    }

    /// A row picked from the list of the last interactive message sent to the user.
    pub async fn user_picks_from_list(&self, wa_id: &str, id: &str, title: &str) -> String {
        let description = self.last_interactive(wa_id).and_then(|sent| {
            let sections = sent.body["interactive"]["action"]["sections"]
                .as_array()?
                .clone();
            let rows = sections
                .into_iter()
                .flat_map(|section| match section["rows"].clone() {
                    Value::Array(rows) => rows,
                    _ => Vec::new(),
                });
            let row = rows.into_iter().find(|row| row["id"] == id)?;
            row.get("description").cloned()
        });
        let mut picked = json!({"id": id, "title": title});
        if let Some(description) = description {
            picked["description"] = description;
        }
        let reply = json!({"type": "list_reply", "list_reply": picked});
        self.user_answers(wa_id, reply).await
    }

    /// A sticker, which the hub cannot read.
    pub async fn user_sends_sticker(&self, wa_id: &str) -> String {
        let sticker = json!({
            "id": format!("{}", 900_000_000_000_000 + random() % 100_000_000_000_000),
            "mime_type": "image/webp", "sha256": sha256_hex(b"sticker"), "animated": false,
        });
        let message = json!({"type": "sticker", "sticker": sticker});
        self.user_sends_message(wa_id, message).await
    }

    /// Any message from a user: `fields` (e.g. `{"type": "audio", "audio": {…}}`) with `from`,
    /// `id` and `timestamp` added; posted in a notification once the user's window is opened.
    pub async fn user_sends_message(&self, wa_id: &str, fields: Value) -> String {
        let Value::Object(mut message) = fields else {
            panic!("a message is a JSON object, not {fields}");
        };
        let id = new_wamid();
        message.insert("from".into(), json!(wa_id));
        message.insert("id".into(), json!(id));
        message.insert("timestamp".into(), json!(unix_now().to_string()));
        let name = {
            let mut state = self.shared.lock();
            state.last_inbound.insert(wa_id.to_owned(), Instant::now());
            let name = state.names.get(wa_id).map(String::as_str);
            name.unwrap_or(DEFAULT_NAME).to_owned()
        };
        let value = json!({
            "messaging_product": "whatsapp",
            "metadata": self.metadata(),
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [Value::Object(message)],
        });
        let body = notification(value);
        {
            let mut state = self.shared.lock();
            if !state.lean {
                state.notifications.insert(id.clone(), body.clone());
            }
        }
        post(&self.shared, &id, &body).await;
        id
    }

    /// Posts the notification of an earlier message again, byte for byte, as Meta does when it
    /// is unsure the hub took it; returns the hub's last status (0 if it never answered).
    pub async fn redeliver(&self, message_id: &str) -> u16 {
        let body = self.shared.lock().notifications.get(message_id).cloned();
        let body = body.unwrap_or_else(|| panic!("no notification of {message_id} was kept"));
        post(&self.shared, message_id, &body).await.unwrap_or(0)
    }

    /// A `statuses` notification about a message the hub sent: `sent`, `delivered`, `read` or
    /// `failed` (with Meta's 131026 error); returns the hub's last status (0 if none).
    pub async fn status_update(&self, wamid: &str, status: &str) -> u16 {
        let recipient = self
            .shared
            .lock()
            .sent
            .iter()
            .find(|sent| sent.wamid == wamid)
            .map(|sent| sent.to.clone());
        let mut update = json!({
            "id": wamid, "status": status, "timestamp": unix_now().to_string(),
            "recipient_id": recipient.unwrap_or_else(|| "393331234567".into()),
        });
        if status == "failed" {
            update["errors"] = json!([{
                "code": 131026, "title": "Message undeliverable",
                "message": "Message undeliverable",
                "error_data": {"details": "Message Undeliverable."},
            }]);
        } else {
            let expires = unix_now() + 24 * 60 * 60;
            update["conversation"] = json!({
                "id": format!("{:032x}", u128::from(random())),
                "expiration_timestamp": expires.to_string(), "origin": {"type": "service"},
            });
            update["pricing"] =
                json!({"billable": false, "pricing_model": "PMP", "category": "service"});
        }
        let value = json!({
            "messaging_product": "whatsapp", "metadata": self.metadata(), "statuses": [update],
        });
        post(&self.shared, wamid, &notification(value))
            .await
            .unwrap_or(0)
    }

    /// Posts these bytes once, as they are, with this `X-Hub-Signature-256` header (or none);
    /// returns the hub's status (0 if it did not answer).
    pub async fn post_raw(&self, body: Vec<u8>, signature: Option<String>) -> u16 {
        let url = self.webhook().url;
        let outcome = attempt(&self.shared, &url, body, signature).await;
        self.record("raw", &outcome);
        outcome.unwrap_or(0)
    }

    /// Each webhook POST so far: the message id (a status's wamid, or `raw`) and the hub's
    /// HTTP status or the connection error.
    pub fn webhook_attempts(&self) -> Vec<(String, Result<u16, String>)> {
        self.shared.lock().webhook_attempts.clone()
    }

    /// The hub's answer to the last webhook POST, if it answered.
    pub fn last_status(&self) -> Option<u16> {
        self.shared.lock().last_status
    }

    fn webhook(&self) -> Webhook {
        let webhook = self.shared.lock().webhook.clone();
        webhook.expect("a webhook set with set_webhook")
    }

    fn metadata(&self) -> Value {
        json!({
            "display_phone_number": DISPLAY_PHONE_NUMBER,
            "phone_number_id": self.shared.phone_number_id,
        })
    }

    fn last_interactive(&self, wa_id: &str) -> Option<super::Sent> {
        let state = self.shared.lock();
        let mut sent = state.sent.iter().rev();
        sent.find(|sent| sent.to == wa_id && sent.kind == "interactive")
            .cloned()
    }

    /// An interactive reply, in the context of the message it answers.
    async fn user_answers(&self, wa_id: &str, interactive: Value) -> String {
        let mut message = json!({"type": "interactive", "interactive": interactive});
        if let Some(sent) = self
            .last_interactive(wa_id)
            .filter(|sent| !sent.wamid.is_empty())
        {
            message["context"] = json!({"from": DISPLAY_PHONE_NUMBER, "id": sent.wamid});
        }
        self.user_sends_message(wa_id, message).await
    }

    fn record(&self, key: &str, outcome: &Result<u16, String>) {
        record(&self.shared, key, outcome);
    }
}

fn record(shared: &Shared, key: &str, outcome: &Result<u16, String>) {
    let mut state = shared.lock();
    state.last_status = outcome.as_ref().ok().copied();
    let failed = !matches!(outcome, Ok(200..=299));
    if !state.lean || failed {
        state
            .webhook_attempts
            .push((key.to_owned(), outcome.clone()));
    }
}

/// The envelope of every notification, as compact JSON with non-ASCII characters escaped
/// (`\u00e8`), as Meta sends it: a hub must check the signature over these exact bytes.
impl Shared {
    /// Meta's status notification that a free-form message it accepted failed, because the
    /// user's 24 hours had passed (131047). Posted only if a webhook is set, as Meta would.
    pub(super) async fn report_outside_window(&self, wamid: &str, to: &str) {
        if self.lock().webhook.is_none() {
            return;
        }
        let update = json!({
            "id": wamid, "status": "failed", "timestamp": unix_now().to_string(),
            "recipient_id": to,
            "errors": [{
                "code": 131047, "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }],
        });
        let metadata = json!({
            "display_phone_number": DISPLAY_PHONE_NUMBER, "phone_number_id": self.phone_number_id,
        });
        let value =
            json!({ "messaging_product": "whatsapp", "metadata": metadata, "statuses": [update] });
        post(self, wamid, &notification(value)).await;
    }
}

fn notification(value: Value) -> Vec<u8> {
    let envelope = json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": value}]}],
    });
    let mut text = String::new();
    for c in envelope.to_string().chars() {
        if c.is_ascii() {
            text.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                text.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    text.into_bytes()
}

fn sign(app_secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}

/// Posts a signed notification, again after each answer other than 2xx (100 ms, 200 ms, …
/// up to 1 s apart); returns the hub's last status.
async fn post(shared: &Shared, key: &str, body: &[u8]) -> Option<u16> {
    let (webhook, retries) = {
        let state = shared.lock();
        let webhook = state.webhook.clone();
        (
            webhook.expect("a webhook set with set_webhook"),
            state.retries,
        )
    };
    let signature = sign(&webhook.app_secret, body);
    let mut outcome = Err(String::new());
    for retry in 0..=retries {
        if retry > 0 {
            let backoff = Duration::from_millis(100 << (retry - 1).min(4));
            tokio::time::sleep(backoff.min(Duration::from_secs(1))).await;
        }
        let signature = Some(signature.clone());
        outcome = attempt(shared, &webhook.url, body.to_vec(), signature).await;
        record(shared, key, &outcome);
        if matches!(outcome, Ok(200..=299)) {
            break;
        }
    }
    outcome.ok()
}

async fn attempt(
    shared: &Shared,
    url: &str,
    body: Vec<u8>,
    signature: Option<String>,
) -> Result<u16, String> {
    let mut request = shared
        .http
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", "facebookexternalua")
        .body(body);
    if let Some(signature) = signature {
        request = request.header("x-hub-signature-256", signature);
    }
    let answer = request.send().await.map_err(|error| error.to_string())?;
    let status = answer.status().as_u16();
    // Read the answer, so that the connection can be used again.
    let _ = answer.bytes().await;
    Ok(status)
}

/// Percent-encodes all but the unreserved characters of RFC 3986.
fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}
