//! The Cloud API stand-in's webhook side against a tiny receiver playing the hub: the handshake,
//! signed notifications of every kind, retries, redeliveries and forged signatures.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Bytes;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::{Graph, MARIA, PHONE, TIMEOUT, TOKEN, hex, list};

/// The app secret the notifications are signed with.
const SECRET: &str = "app-secret-123";
/// Spaces and `&` make the handshake percent-encode it.
const VERIFY_TOKEN: &str = "vedetta verify/token&1";

/// What the receiver got in one POST.
struct Delivery {
    signature: Option<String>,
    signature_ok: bool,
    raw: Bytes,
    body: Value,
}

/// A tiny hub: it answers the handshake for `VERIFY_TOKEN`, and takes notifications signed with
/// `SECRET` (401 otherwise) after failing the first `fail_first` with 500.
struct Receiver {
    url: String,
    received: mpsc::UnboundedReceiver<Delivery>,
}

impl Receiver {
    async fn start(fail_first: usize) -> Receiver {
        let (tx, received) = mpsc::unbounded_channel();
        let failures_left = Arc::new(AtomicUsize::new(fail_first));
        let handshake = |Query(query): Query<HashMap<String, String>>| async move {
            let subscribe = query
                .get("hub.mode")
                .is_some_and(|mode| mode == "subscribe");
            match query.get("hub.verify_token") {
                Some(token) if subscribe && token == VERIFY_TOKEN => {
                    (StatusCode::OK, query["hub.challenge"].clone())
                }
                _ => (StatusCode::FORBIDDEN, String::new()),
            }
        };
        let take = move |headers: HeaderMap, raw: Bytes| async move {
            let signature = headers
                .get("x-hub-signature-256")
                .map(|value| value.to_str().unwrap_or_default().to_owned());
            let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("a key");
            mac.update(&raw);
            let expected = format!("sha256={}", hex(&mac.finalize().into_bytes()));
            let signature_ok = signature.as_deref() == Some(expected.as_str());
            let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
            let delivery = Delivery {
                signature,
                signature_ok,
                raw,
                body,
            };
            tx.send(delivery).expect("the test listens");
            let fail = failures_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            match (fail, signature_ok) {
                (true, _) => StatusCode::INTERNAL_SERVER_ERROR,
                (false, true) => StatusCode::OK,
                (false, false) => StatusCode::UNAUTHORIZED,
            }
        };
        let routes = axum::routing::get(handshake).post(take);
        let app = axum::Router::new().route("/webhook", routes);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let url = format!(
            "http://{}/webhook",
            listener.local_addr().expect("an address")
        );
        tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the receiver serves")
        });
        Receiver { url, received }
    }

    async fn next(&mut self) -> Delivery {
        let next = tokio::time::timeout(TIMEOUT, self.received.recv()).await;
        next.expect("a delivery in time").expect("a sender")
    }

    /// The next delivery's message (or status).
    async fn next_value(&mut self) -> Value {
        let delivery = self.next().await;
        assert!(delivery.signature_ok, "{:?}", delivery.signature);
        delivery.body["entry"][0]["changes"][0]["value"].clone()
    }
}

#[tokio::test]
async fn the_verification_handshake_sends_a_challenge_and_reports_the_answer() {
    let hub = Receiver::start(0).await;
    let api = Graph::start().await;
    let (status, body, challenge) = api.verify(&hub.url, VERIFY_TOKEN).await;
    assert_eq!((status, body.as_str()), (200, challenge.as_str()));
    assert!(challenge.len() == 10 && challenge.bytes().all(|byte| byte.is_ascii_digit()));
    let (status, body, other) = api.verify(&hub.url, "vedetta verify/token").await;
    assert_eq!((status, body.as_str()), (403, ""));
    assert_ne!(other, challenge, "each handshake has its own challenge");
}

#[tokio::test]
async fn a_message_accepted_outside_the_window_fails_in_a_signed_status_notification() {
    let mut hub = Receiver::start(0).await;
    let api = Graph::start().await;
    api.set_webhook(&hub.url, SECRET);

    let (status, body) = api.text(MARIA, "Allerta").await;
    let value = hub.next_value().await;

    let wamid = body["messages"][0]["id"].as_str().expect("a wamid");
    assert_eq!(status, 200);
    let update = &value["statuses"][0];
    assert_eq!(
        (
            update["id"].as_str(),
            update["status"].as_str(),
            update["recipient_id"].as_str()
        ),
        (Some(wamid), Some("failed"), Some(MARIA))
    );
    assert_eq!(update["errors"][0]["code"], 131047, "{value}");
    assert_eq!(update["errors"][0]["title"], "Re-engagement message");
}

#[tokio::test]
async fn an_inbound_text_is_posted_with_a_signature_the_receiver_can_check() {
    let mut hub = Receiver::start(0).await;
    let api = Graph::start().await;
    api.set_webhook(&hub.url, SECRET);
    let text = "C'è acqua in via Roma 😟";
    let id = api.user_sends_text(MARIA, "Maria Rossi", text).await;
    assert!(id.starts_with("wamid."), "{id}");
    assert_eq!(api.last_status(), Some(200));
    assert_eq!(api.webhook_attempts(), [(id.clone(), Ok(200))]);

    let delivery = hub.next().await;
    assert!(delivery.signature_ok, "{:?}", delivery.signature);
    let raw = std::str::from_utf8(&delivery.raw).expect("UTF-8");
    assert!(raw.is_ascii() && raw.contains(r"C'\u00e8 acqua"), "{raw}");
    let body = delivery.body;
    assert_eq!(body["object"], "whatsapp_business_account");
    assert_eq!(body["entry"][0]["changes"][0]["field"], "messages");
    let value = &body["entry"][0]["changes"][0]["value"];
    assert_eq!(value["messaging_product"], "whatsapp");
    let metadata = json!({"display_phone_number": "15550001111", "phone_number_id": PHONE});
    assert_eq!(value["metadata"], metadata);
    let contact = json!([{"profile": {"name": "Maria Rossi"}, "wa_id": MARIA}]);
    assert_eq!(value["contacts"], contact);
    let message = &value["messages"][0];
    assert_eq!(
        (&message["from"], &message["id"]),
        (&json!(MARIA), &json!(id))
    );
    assert_eq!(
        (&message["type"], &message["text"]),
        (&json!("text"), &json!({"body": text}))
    );
    let timestamp = message["timestamp"].as_str().expect("a string timestamp");
    assert!(
        timestamp
            .parse::<u64>()
            .is_ok_and(|seconds| seconds > 1_700_000_000)
    );

    assert_eq!(
        api.text(MARIA, "Ricevuto").await.0,
        200,
        "her window is open"
    );
    assert_eq!(api.next_message_to(MARIA, TIMEOUT).await.text, "Ricevuto");
}

#[tokio::test]
async fn a_notification_the_hub_refuses_is_posted_again_until_it_answers_200() {
    let mut hub = Receiver::start(2).await;
    let api = Graph::start().await;
    api.set_webhook(&hub.url, SECRET);
    let id = api.user_sends_location(MARIA, 44.45, 11.22).await;
    let failed = (id.clone(), Ok(500));
    assert_eq!(
        api.webhook_attempts(),
        [failed.clone(), failed, (id.clone(), Ok(200))]
    );
    let first = hub.next().await;
    for _ in 0..2 {
        let again = hub.next().await;
        assert_eq!(
            (again.raw, again.signature),
            (first.raw.clone(), first.signature.clone())
        );
    }
    assert_eq!(api.redeliver(&id).await, 200);
    assert_eq!(hub.next().await.raw, first.raw, "redelivered byte for byte");

    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let gone = format!(
        "http://{}/webhook",
        closed.local_addr().expect("an address")
    );
    drop(closed);
    api.set_webhook(&gone, SECRET);
    api.set_retries(1);
    let lost = api.user_sends_text(MARIA, "Maria", "Pronto?").await;
    let attempts = api.webhook_attempts();
    assert!(
        attempts[4..]
            .iter()
            .all(|(key, outcome)| *key == lost && outcome.is_err())
    );
    assert_eq!((attempts.len(), api.last_status()), (6, None));
}

#[tokio::test]
async fn a_forged_signature_is_posted_as_it_was_forged() {
    let mut hub = Receiver::start(0).await;
    let api = Graph::start().await;
    api.set_webhook(&hub.url, SECRET);
    let body = br#"{"object":"whatsapp_business_account","entry":[]}"#.to_vec();
    let forged = Some(format!("sha256={}", "0".repeat(64)));
    assert_eq!(api.post_raw(body.clone(), forged.clone()).await, 401);
    assert_eq!(hub.next().await.signature, forged);
    assert_eq!(api.post_raw(body.clone(), None).await, 401);
    assert_eq!(hub.next().await.signature, None);
    let signed = api.signature(&body);
    assert_eq!(api.post_raw(body, Some(signed)).await, 200);
    assert!(hub.next().await.signature_ok);
    let raw = ("raw".to_owned(), Ok(401));
    assert_eq!(
        api.webhook_attempts(),
        [raw.clone(), raw, ("raw".to_owned(), Ok(200))]
    );
}

#[tokio::test]
async fn every_kind_of_user_message_is_shaped_as_meta_shapes_it() {
    let mut hub = Receiver::start(0).await;
    let api = Graph::start().await;
    api.set_webhook(&hub.url, SECRET);
    api.set_limits(80, 100);
    api.add_media("photo-1", "image/jpeg", vec![1, 2, 3]);
    let location = api.user_sends_location(MARIA, 44.45, 11.22).await;
    let value = hub.next_value().await;
    let coordinates = json!({"latitude": 44.45, "longitude": 11.22});
    assert_eq!(
        (
            &value["messages"][0]["location"],
            &value["messages"][0]["id"]
        ),
        (&coordinates, &json!(location))
    );
    assert_eq!(value["contacts"][0]["profile"]["name"], "Giulia");
    api.user_sends_image(MARIA, "photo-1", "image/jpeg", Some("Frana"))
        .await;
    let image = json!({"id": "photo-1", "mime_type": "image/jpeg", "caption": "Frana",
                       "sha256": hex(&Sha256::digest([1, 2, 3]))});
    assert_eq!(hub.next_value().await["messages"][0]["image"], image);

    let (_, body) = api.send(MARIA, list(&[2])).await;
    let wamid = body["messages"][0]["id"]
        .as_str()
        .expect("a wamid")
        .to_owned();
    api.user_picks_from_list(MARIA, "r0.1", "Zona 0.1").await;
    let message = hub.next_value().await["messages"][0].clone();
    let reply = json!({"type": "list_reply", "list_reply": {"id": "r0.1", "title": "Zona 0.1",
                                                             "description": "Frane e allagamenti"}});
    assert_eq!(
        (&message["type"], &message["interactive"]),
        (&json!("interactive"), &reply)
    );
    assert_eq!(
        message["context"],
        json!({"from": "15550001111", "id": wamid})
    );
    api.user_presses_button(MARIA, "b0", "Sì").await;
    let reply = json!({"type": "button_reply", "button_reply": {"id": "b0", "title": "Sì"}});
    assert_eq!(hub.next_value().await["messages"][0]["interactive"], reply);
    let sticker = api.user_sends_sticker(MARIA).await;
    let message = hub.next_value().await["messages"][0].clone();
    assert_eq!(
        (&message["type"], &message["id"]),
        (&json!("sticker"), &json!(sticker))
    );
    assert_eq!(
        (
            &message["sticker"]["mime_type"],
            &message["sticker"]["animated"]
        ),
        (&json!("image/webp"), &json!(false))
    );

    assert_eq!(api.status_update(&wamid, "delivered").await, 200);
    let value = hub.next_value().await;
    let status = &value["statuses"][0];
    assert_eq!(
        (&status["id"], &status["status"], &status["recipient_id"]),
        (&json!(wamid), &json!("delivered"), &json!(MARIA))
    );
    assert!(value.get("messages").is_none() && value.get("contacts").is_none());
    assert_eq!(api.status_update(&wamid, "failed").await, 200);
    assert_eq!(
        hub.next_value().await["statuses"][0]["errors"][0]["code"],
        131026
    );

    let read =
        |id: &str| json!({"messaging_product": "whatsapp", "status": "read", "message_id": id});
    let path = format!("/v21.0/{PHONE}/messages");
    assert_eq!(
        api.post(&path, TOKEN, read(&sticker)).await,
        (200, json!({"success": true}))
    );
    assert_eq!(api.post(&path, TOKEN, read("wamid.nope")).await.0, 400);
    assert_eq!(api.marked_read(), [sticker]);
}
