//! The Bot API stand-in against a plain HTTP client: it answers as Telegram does.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::telegram::BotApi;

const TIMEOUT: Duration = Duration::from_secs(10);
const TOKEN: &str = "123456:test-token";

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A stand-in and a client of it, for one test.
struct Bot {
    api: BotApi,
    http: reqwest::Client,
}

impl std::ops::Deref for Bot {
    type Target = BotApi;

    fn deref(&self) -> &BotApi {
        &self.api
    }
}

impl Bot {
    async fn start() -> Bot {
        let api = BotApi::start(TOKEN).await;
        Bot {
            api,
            http: client(),
        }
    }

    async fn call(&self, method: &str, params: Value) -> (u16, Value) {
        let url = format!("{}/bot{}/{method}", self.base_url(), self.token());
        answer(self.http.post(url).json(&params)).await
    }

    async fn send(&self, chat_id: i64, text: &str) -> (u16, Value) {
        let params = json!({"chat_id": chat_id, "text": text});
        self.call("sendMessage", params).await
    }
}

async fn answer(request: reqwest::RequestBuilder) -> (u16, Value) {
    let answer = request.send().await.expect("the stand-in answers");
    let status = answer.status().as_u16();
    (status, answer.json().await.expect("a JSON answer"))
}

fn update_ids(body: &Value) -> Vec<i64> {
    let updates = body["result"]
        .as_array()
        .unwrap_or_else(|| panic!("updates in {body}"));
    updates
        .iter()
        .map(|update| update["update_id"].as_i64().expect("an update_id"))
        .collect()
}

fn refused(status: u16, description: &str) -> (u16, Value) {
    (
        status,
        json!({"ok": false, "error_code": status, "description": description}),
    )
}

#[tokio::test]
async fn get_updates_forgets_what_an_offset_confirms_and_waits_for_news() {
    let api = Bot::start().await;
    let first = api.push_update(BotApi::text_update(42, "it", "/start report"));
    let second = api.push_update(BotApi::location_update(42, 44.45, 11.22));
    assert_eq!((first, second), (1000, 1001));

    let (status, body) = api.call("getUpdates", json!({})).await;
    assert_eq!((status, update_ids(&body)), (200, vec![1000, 1001]));
    let entity = &body["result"][0]["message"]["entities"][0];
    assert_eq!(
        *entity,
        json!({"type": "bot_command", "offset": 0, "length": 6})
    );
    let (_, body) = api
        .call("getUpdates", json!({"offset": 1001, "limit": 5}))
        .await;
    assert_eq!(
        update_ids(&body),
        vec![1001],
        "1000 is confirmed and forgotten"
    );
    let (_, body) = api
        .call("getUpdates", json!({"offset": 1002, "timeout": 0}))
        .await;
    assert_eq!(update_ids(&body), Vec::<i64>::new());
    assert_eq!(api.pending_updates(), 0);

    let (polled, pushed) = tokio::join!(
        api.call("getUpdates", json!({"offset": 1002, "timeout": 10})),
        async {
            api.wait_for_long_poll(TIMEOUT).await;
            api.push_update(BotApi::sticker_update(42))
        }
    );
    assert_eq!(update_ids(&polled.1), vec![pushed]);
}

#[tokio::test]
async fn a_redelivered_update_comes_once_more_below_the_offset() {
    let api = Bot::start().await;
    let id = api.push_update(BotApi::callback_update(42, "confirm"));
    let (_, body) = api.call("getUpdates", json!({})).await;
    assert_eq!(body["result"][0]["callback_query"]["data"], "confirm");
    api.redeliver(id);
    let (_, again) = api.call("getUpdates", json!({"offset": id + 1})).await;
    assert_eq!(
        again["result"], body["result"],
        "the same update, with the same id"
    );
    let (_, body) = api.call("getUpdates", json!({"offset": id + 1})).await;
    assert_eq!(update_ids(&body), Vec::<i64>::new());
}

#[tokio::test]
async fn a_second_get_updates_ends_the_first_with_409() {
    let api = Bot::start().await;
    let (first, second) = tokio::join!(api.call("getUpdates", json!({"timeout": 10})), async {
        api.wait_for_long_poll(TIMEOUT).await;
        api.call("getUpdates", json!({})).await
    });
    let conflict = concat!(
        "Conflict: terminated by other getUpdates request; ",
        "make sure that only one bot instance is running"
    );
    assert_eq!(first, refused(409, conflict));
    assert_eq!(second, (200, json!({"ok": true, "result": []})));
}

#[tokio::test]
async fn a_chat_sent_two_messages_within_a_second_gets_429_with_retry_after() {
    let api = Bot::start().await;
    let (status, body) = api.send(42, "uno").await;
    assert_eq!(
        (status, &body["result"]["chat"]["type"]),
        (200, &json!("private"))
    );
    let (status, body) = api.send(42, "due").await;
    assert_eq!(status, 429);
    assert_eq!(body["description"], "Too Many Requests: retry after 1");
    assert_eq!(body["parameters"], json!({"retry_after": 1}));
    assert_eq!(
        api.send(43, "tre").await.0,
        200,
        "another chat has its own limit"
    );
    assert_eq!(api.refused_429(), 1);
    let texts: Vec<String> = api.sent().into_iter().map(|sent| sent.text).collect();
    assert_eq!(texts, ["uno", "tre"]);
}

#[tokio::test]
async fn a_group_gets_20_messages_a_minute_and_everyone_30_a_second() {
    let api = Bot::start().await;
    for n in 0..20 {
        assert_eq!(api.send(-1001234, &format!("avviso {n}")).await.0, 200);
    }
    let (status, body) = api.send(-1001234, "uno di troppo").await;
    let retry_after = body["parameters"]["retry_after"]
        .as_u64()
        .expect("a retry_after");
    assert_eq!(status, 429);
    assert!((59..=60).contains(&retry_after), "{body}");

    let api = Bot::start().await;
    api.set_limits(3, 1, 20);
    for chat in 1..=3 {
        assert_eq!(api.send(chat, "ciao").await.0, 200);
    }
    let (status, body) = api.send(4, "ciao").await;
    assert_eq!(
        (status, &body["parameters"]["retry_after"]),
        (429, &json!(1))
    );
}

#[tokio::test]
async fn a_blocked_chat_answers_403() {
    let api = Bot::start().await;
    api.block(42);
    assert_eq!(
        api.send(42, "ciao").await,
        refused(403, "Forbidden: bot was blocked by the user")
    );
    assert!(api.sent().is_empty());
}

#[tokio::test]
async fn send_message_refuses_what_telegram_refuses() {
    let api = Bot::start().await;
    let entities = "Bad Request: can't parse entities: ";
    let markup = "Bad Request: can't parse reply keyboard markup JSON object";
    let cases = [
        (
            json!({"text": "x"}),
            "Bad Request: chat_id is empty".to_owned(),
        ),
        (
            json!({"chat_id": "someone", "text": "x"}),
            "Bad Request: chat not found".into(),
        ),
        (
            json!({"chat_id": 42, "text": " "}),
            "Bad Request: message text is empty".into(),
        ),
        (
            json!({"chat_id": 42, "text": "😀".repeat(2049)}),
            "Bad Request: message is too long".into(),
        ),
        (
            json!({"chat_id": 42, "text": "x", "parse_mode": "BBCode"}),
            "Bad Request: unsupported parse_mode".into(),
        ),
        (
            json!({"chat_id": 42, "text": "<b>Allerta", "parse_mode": "HTML"}),
            format!("{entities}Can't find end tag corresponding to start tag \"b\""),
        ),
        (
            json!({"chat_id": 42, "text": "a<br>b", "parse_mode": "HTML"}),
            format!("{entities}Unsupported start tag \"br\" at byte offset 1"),
        ),
        (
            json!({"chat_id": 42, "text": "Tom & Jerry", "parse_mode": "HTML"}),
            format!("{entities}Can't find end of the entity starting at byte offset 4"),
        ),
        (
            json!({"chat_id": 42, "text": "1.5 m", "parse_mode": "MarkdownV2"}),
            format!(
                "{entities}Character '.' is reserved and must be escaped with the preceding '\\'"
            ),
        ),
        (
            {
                let button = json!({"text": "a", "callback_data": "d".repeat(65)});
                json!({"chat_id": 42, "text": "x", "reply_markup": {"inline_keyboard": [[button]]}})
            },
            "Bad Request: BUTTON_DATA_INVALID".into(),
        ),
        (
            json!({"chat_id": 42, "text": "x",
                "reply_markup": {"inline_keyboard": [{"text": "a"}]}}),
            markup.into(),
        ),
        (
            json!({"chat_id": 42, "text": "x", "reply_markup": {"keyboard": "no"}}),
            markup.into(),
        ),
        (
            json!({"chat_id": 42, "text": "x",
                "reply_markup": {"inline_keyboard": [[{"text": "a"}]]}}),
            "Bad Request: can't parse inline keyboard button: \
             Text buttons are unallowed in the inline keyboard"
                .into(),
        ),
    ];
    for (params, description) in cases {
        assert_eq!(
            api.call("sendMessage", params.clone()).await,
            refused(400, &description),
            "{params}"
        );
    }

    let html = concat!(
        "<b>Allerta</b> &amp; <a href=\"https://example.org\">mappa</a> &#8364; ",
        "<span class=\"tg-spoiler\">x</span>"
    );
    let inline = r#"{"inline_keyboard":[[{"text":"Sì","callback_data":"yes"}]]}"#;
    let (status, body) = api
        .call(
            "sendMessage",
            json!({"chat_id": "42", "text": html, "parse_mode": "HTML", "reply_markup": inline}),
        )
        .await;
    assert_eq!(
        (
            status,
            &body["result"]["reply_markup"]["inline_keyboard"][0][0]["text"]
        ),
        (200, &json!("Sì"))
    );
    let location = json!({
        "keyboard": [[{"text": "Invia posizione", "request_location": true}]],
        "resize_keyboard": true,
    });
    let (status, _) = api
        .call(
            "sendMessage",
            json!({"chat_id": 43, "text": "Dove?", "reply_markup": location}),
        )
        .await;
    assert_eq!(status, 200);
    let text = "*Allerta* rossa: _evacuare_ \\(zona 3\\)\\.";
    let (status, _) = api
        .call(
            "sendMessage",
            json!({"chat_id": 44, "text": text, "parse_mode": "MarkdownV2"}),
        )
        .await;
    assert_eq!(status, 200);
    let sent = api.sent();
    assert_eq!(sent.len(), 3);
    assert_eq!(
        sent[0].reply_markup,
        Some(serde_json::from_str(inline).expect("JSON"))
    );
    assert_eq!(
        (sent[1].seq, sent[2].parse_mode.as_deref()),
        (2, Some("MarkdownV2"))
    );
}

#[tokio::test]
async fn photos_edits_and_callback_answers_are_taken() {
    let api = Bot::start().await;
    let too_long = json!({"chat_id": 42, "photo": "AgACphoto", "caption": "x".repeat(1025)});
    let refusal = refused(400, "Bad Request: message caption is too long");
    assert_eq!(api.call("sendPhoto", too_long).await, refusal);
    let photo = json!({"chat_id": 42, "photo": "AgACphoto", "caption": "Frana"});
    let (status, body) = api.call("sendPhoto", photo).await;
    assert_eq!((status, &body["result"]["caption"]), (200, &json!("Frana")));
    let message_id = body["result"]["message_id"].clone();

    let markup = json!({"inline_keyboard": [[{"text": "Mappa", "url": "https://example.org/m"}]]});
    let edit = json!({"chat_id": 42, "message_id": message_id, "reply_markup": markup});
    let (status, body) = api.call("editMessageReplyMarkup", edit).await;
    assert_eq!((status, &body["result"]["reply_markup"]), (200, &markup));
    let elsewhere = json!({"chat_id": 42, "message_id": 999, "reply_markup": markup});
    let refusal = refused(400, "Bad Request: message to edit not found");
    assert_eq!(api.call("editMessageReplyMarkup", elsewhere).await, refusal);
    let answer = json!({"callback_query_id": "4000000000001", "text": "Ricevuto"});
    let taken = (200, json!({"ok": true, "result": true}));
    assert_eq!(api.call("answerCallbackQuery", answer).await, taken);

    let sent = api.sent();
    assert_eq!(sent.len(), 1, "edits and answers are no messages");
    assert_eq!(
        (sent[0].method.as_str(), sent[0].text.as_str()),
        ("sendPhoto", "Frana")
    );
}

#[tokio::test]
async fn form_and_query_parameters_work_as_json_and_wrong_tokens_or_methods_do_not() {
    let api = Bot::start().await;
    let base = format!("{}/bot{TOKEN}", api.base_url());
    let (status, body) = answer(api.http.get(format!(
        "{base}/sendMessage?chat_id=42&text=Ciao%20a%20tutti"
    )))
    .await;
    assert_eq!(
        (status, &body["result"]["text"]),
        (200, &json!("Ciao a tutti"))
    );
    let form = "chat_id=-43&text=a+b&reply_markup=%7B%22remove_keyboard%22%3Atrue%7D";
    let request = api
        .http
        .post(format!("{base}/sendMessage"))
        .header("content-type", "application/x-www-form-urlencoded");
    let (status, body) = answer(request.body(form)).await;
    assert_eq!(
        (status, &body["result"]["chat"]["type"]),
        (200, &json!("group"))
    );
    assert_eq!(
        api.sent()[1].reply_markup,
        Some(json!({"remove_keyboard": true}))
    );

    let wrong = format!("{}/bot123456:wrong/getMe", api.base_url());
    assert_eq!(
        answer(api.http.post(wrong)).await,
        refused(401, "Unauthorized")
    );
    assert_eq!(
        api.call("launchRockets", json!({})).await,
        refused(404, "Not Found")
    );
    let (status, body) = api.call("getMe", json!({})).await;
    assert_eq!(
        (status, &body["result"]["id"], &body["result"]["is_bot"]),
        (200, &json!(123456), &json!(true))
    );
    assert_eq!(body["result"]["username"], "vedetta_test_bot");
    assert_eq!(api.calls().len(), 4, "a wrong token is no call");
}

#[tokio::test]
async fn get_file_serves_the_bytes_of_files_up_to_20_mb() {
    let api = Bot::start().await;
    api.add_file("photo-1", vec![0xff, 0xd8, 0xff]);
    api.add_file("huge", vec![0; 20 * 1024 * 1024 + 1]);
    let (status, body) = api.call("getFile", json!({"file_id": "photo-1"})).await;
    assert_eq!((status, &body["result"]["file_size"]), (200, &json!(3)));
    let path = body["result"]["file_path"].as_str().expect("a file_path");
    let download = api
        .http
        .get(format!("{}/file/bot{TOKEN}/{path}", api.base_url()))
        .send()
        .await
        .expect("a download");
    assert_eq!(
        download.headers()["content-type"],
        "application/octet-stream"
    );
    assert_eq!(
        download.bytes().await.expect("the bytes").as_ref(),
        [0xff, 0xd8, 0xff]
    );

    assert_eq!(
        api.call("getFile", json!({"file_id": "nope"})).await,
        refused(400, "Bad Request: invalid file_id")
    );
    assert_eq!(
        api.call("getFile", json!({"file_id": "huge"})).await,
        refused(400, "Bad Request: file is too big")
    );
    let missing = api.http.get(format!(
        "{}/file/bot{TOKEN}/photos/none.jpg",
        api.base_url()
    ));
    assert_eq!(answer(missing).await.0, 404);
}

#[tokio::test]
async fn next_message_to_returns_each_message_to_a_chat_once() {
    let api = Bot::start().await;
    api.set_limits(30, 10, 20);
    api.send(42, "uno").await;
    api.send(7, "altro").await;
    assert_eq!(api.next_message_to(42, TIMEOUT).await.text, "uno");
    let (next, _) = tokio::join!(api.next_message_to(42, TIMEOUT), api.send(42, "due"));
    assert_eq!((next.text.as_str(), next.seq), ("due", 3));
    assert_eq!(api.wait_for_sent(3, TIMEOUT).await.len(), 3);
}

#[tokio::test]
#[should_panic(expected = "no message 1 to chat 99")]
async fn next_message_to_a_silent_chat_panics_with_what_was_refused() {
    let api = Bot::start().await;
    api.block(99);
    api.send(99, "ciao").await;
    api.next_message_to(99, Duration::from_millis(50)).await;
}

#[tokio::test]
async fn a_webhook_receives_updates_with_its_secret_token() {
    let (tx, mut received) = tokio::sync::mpsc::unbounded_channel();
    let failures_left = Arc::new(AtomicUsize::new(1));
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: HeaderMap, Json(update): Json<Value>| async move {
                let secret = headers
                    .get("x-telegram-bot-api-secret-token")
                    .map(|value| value.to_str().unwrap_or("").to_owned());
                tx.send((secret, update["update_id"].clone()))
                    .expect("the test listens");
                let fail = failures_left
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                if fail {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let url = format!("http://{}/hook", listener.local_addr().expect("an address"));
    tokio::spawn(async move {
        axum::serve(listener, receiver)
            .await
            .expect("the receiver serves")
    });

    let api = Bot::start().await;
    let first = api.push_update(BotApi::text_update(42, "it", "Ciao"));
    let bad_secret = json!({"url": url, "secret_token": "not secret!"});
    let bad = "Bad Request: secret token contains unallowed characters";
    assert_eq!(api.call("setWebhook", bad_secret).await, refused(400, bad));
    let (status, body) = api
        .call(
            "setWebhook",
            json!({"url": url, "secret_token": "s3cret_-token"}),
        )
        .await;
    assert_eq!((status, &body["result"]), (200, &json!(true)));
    assert_eq!(
        api.webhook(),
        Some((url.clone(), Some("s3cret_-token".into())))
    );
    let conflict = concat!(
        "Conflict: can't use getUpdates method while webhook is active; ",
        "use deleteWebhook to delete the webhook first"
    );
    assert_eq!(
        api.call("getUpdates", json!({})).await,
        refused(409, conflict)
    );

    let mut next = async || {
        tokio::time::timeout(TIMEOUT, received.recv())
            .await
            .expect("a delivery")
            .expect("a sender")
    };
    let secret = Some("s3cret_-token".to_owned());
    assert_eq!(
        next().await,
        (secret.clone(), json!(first)),
        "refused with 500"
    );
    assert_eq!(next().await, (secret.clone(), json!(first)), "retried");
    let second = api.push_update(BotApi::photo_update(
        42,
        "AgACphoto",
        120_000,
        Some("Frana"),
    ));
    assert_eq!(next().await, (secret, json!(second)));
    api.wait_for_no_pending_updates(TIMEOUT).await;
    assert_eq!(
        api.webhook_attempts(),
        [(first, Ok(500)), (first, Ok(200)), (second, Ok(200))]
    );
    let (_, info) = api.call("getWebhookInfo", json!({})).await;
    assert_eq!(
        (
            &info["result"]["url"],
            &info["result"]["pending_update_count"]
        ),
        (&json!(url), &json!(0))
    );
    assert!(
        info["result"]["last_error_message"]
            .as_str()
            .is_some_and(|message| message.contains("500")),
        "{info}"
    );

    assert_eq!(
        api.call("deleteWebhook", json!({})).await,
        (200, json!({"ok": true, "result": true}))
    );
    assert_eq!(api.webhook(), None);
    assert_eq!(api.call("getUpdates", json!({})).await.0, 200);
}

#[tokio::test]
async fn a_dropped_stand_in_ends_its_long_polls_and_answers_no_more() {
    let api = BotApi::start(TOKEN).await;
    let http = client();
    let url = format!("{}/bot{TOKEN}/getUpdates", api.base_url());
    let answer = http.post(&url).json(&json!({})).send().await;
    assert_eq!(answer.expect("an answer").status(), 200);
    let (poll, ()) = tokio::join!(
        http.post(&url).json(&json!({"timeout": 10})).send(),
        async move {
            api.wait_for_long_poll(TIMEOUT).await;
            drop(api);
        }
    );
    assert!(poll.is_err(), "the long poll breaks: {poll:?}");
    let again = http.post(&url).json(&json!({})).send().await;
    assert!(again.is_err(), "nothing answers: {again:?}");
}

#[test]
fn a_photo_update_lists_its_largest_size_last() {
    let update = BotApi::photo_update(42, "AgACphoto", 120_000, None);
    let sizes = update["message"]["photo"].as_array().expect("photo sizes");
    assert_eq!(sizes.len(), 2);
    assert_eq!(
        (&sizes[1]["file_id"], &sizes[1]["file_size"]),
        (&json!("AgACphoto"), &json!(120_000))
    );
    assert_eq!(
        update["message"]["chat"],
        json!({"id": 42, "type": "private", "first_name": "Giulia"})
    );
    assert!(update["message"].get("caption").is_none());
}
