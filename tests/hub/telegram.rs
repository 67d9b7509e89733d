//! Whole Telegram conversations against the real hub and a real SQLite file, with a stand-in
//! that speaks the Bot API (updates, sendMessage, files, webhooks, its limits and errors).

use serde_json::{Value, json};

use crate::support::notices::{notice_body, zones};
use crate::support::telegram::{BotApi, Sent};
use crate::support::{MONTEVERDE, OFFSHORE, TIMEOUT, TestApp};

pub(crate) const TOKEN: &str = "123456:TEST-token_for-the-stand-in";
const CHAT: i64 = 4242;

/// A hub whose bot polls the stand-in. Its pace per chat is raised, and the stand-in's with
/// it, so a conversation is not slowed to one message a second; pacing has its own test.
async fn hub_with_bot(mode_webhook: bool) -> (TestApp, BotApi) {
    let telegram = quick_stand_in().await;
    let app = TestApp::spawn_with(bot_config(telegram.base_url(), mode_webhook)).await;
    (app, telegram)
}

/// A stand-in whose limits let a conversation run at full speed.
pub(crate) async fn quick_stand_in() -> BotApi {
    let telegram = BotApi::start(TOKEN).await;
    telegram.set_limits(200, 50, 60);
    telegram
}

/// The hub's bot, talking to the stand-in at `api_url`.
pub(crate) fn bot_config(
    api_url: String,
    mode_webhook: bool,
) -> impl FnOnce(&mut vedetta::config::Config) {
    move |config| {
        let bot = &mut config.telegram;
        bot.enabled = true;
        bot.token = Some(TOKEN.into());
        bot.api_url = api_url;
        bot.poll_timeout_secs = 1;
        bot.messages_per_second = 200;
        bot.per_chat_per_second = 50;
        bot.per_group_per_minute = 60;
        if mode_webhook {
            bot.mode = vedetta::config::TelegramMode::Webhook;
            bot.webhook_secret = Some("s3cret-token_1".into());
        }
    }
}

/// A tiny but real JPEG.
fn jpeg() -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(crate::support::jpeg_base64())
        .unwrap()
}

async fn next(telegram: &BotApi) -> Sent {
    telegram.next_message_to(CHAT, TIMEOUT).await
}

fn button_data(sent: &Sent) -> Vec<String> {
    let rows = sent
        .reply_markup
        .as_ref()
        .and_then(|m| m["inline_keyboard"].as_array().cloned());
    rows.unwrap_or_default()
        .iter()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .filter_map(|button| button["callback_data"].as_str().map(str::to_owned))
        .collect()
}

/// Greets, then walks the report through to the acknowledgement; returns it.
pub(crate) async fn report_by_chat(telegram: &BotApi) -> Sent {
    telegram.push_update(BotApi::text_update(CHAT, "it", "/start"));
    assert!(next(telegram).await.text.contains("protezione civile"));
    let menu = next(telegram).await;
    assert!(
        button_data(&menu).contains(&"report".to_owned()),
        "{menu:?}"
    );
    telegram.push_update(BotApi::callback_update(CHAT, "report"));
    let ask_place = next(telegram).await;
    let keyboard = ask_place.reply_markup.clone().unwrap();
    assert_eq!(
        keyboard["keyboard"][0][0]["request_location"], true,
        "{keyboard}"
    );
    telegram.push_update(BotApi::location_update(CHAT, MONTEVERDE.0, MONTEVERDE.1));
    let categories = next(telegram).await;
    assert!(
        button_data(&categories).contains(&"cat:flooding".to_owned()),
        "{categories:?}"
    );
    telegram.push_update(BotApi::callback_update(CHAT, "cat:flooding"));
    assert!(next(telegram).await.text.contains("Descrivi"));
    telegram.push_update(BotApi::text_update(
        CHAT,
        "it",
        "Acqua alta in via Roma, auto bloccate",
    ));
    let ask_photo = next(telegram).await;
    assert!(button_data(&ask_photo).contains(&"send".to_owned()));
    telegram.add_file("photo-1", jpeg());
    telegram.push_update(BotApi::photo_update(
        CHAT,
        "photo-1",
        jpeg().len() as u64,
        None,
    ));
    next(telegram).await
}

#[tokio::test]
async fn a_citizen_reports_with_position_and_photo_and_hears_each_status_change_in_the_chat() {
    let (app, telegram) = hub_with_bot(false).await;
    let ack = report_by_chat(&telegram).await;
    assert!(ack.text.contains("Segnalazione ricevuta"), "{}", ack.text);
    assert!(ack.text.contains("Monteverde"), "{}", ack.text);
    assert_eq!(
        app.count_rows("SELECT count(*) FROM reports WHERE source = 'telegram' AND has_photo"),
        1
    );
    let (status, page) = app.get_json("/api/v1/reports").await;
    assert_eq!(status, 200);
    let report = &page["reports"][0];
    assert_eq!(report["source"], "telegram");
    let id = report["id"].as_str().unwrap().to_owned();
    assert!(
        ack.text.contains(&id[id.len() - 8..]),
        "the reference is in the acknowledgement"
    );

    let (code, view) = app
        .change(&id, json!({ "status": "acknowledged", "public_note": "Squadra in arrivo", "internal_note": "chiamare il 3331234567" }))
        .await;
    assert_eq!(code, 200, "{view}");
    let news = next(&telegram).await;
    assert!(news.text.contains("presa in carico"), "{}", news.text);
    assert!(news.text.contains("Squadra in arrivo"), "{}", news.text);
    assert!(
        !news.text.contains("3331234567"),
        "internal notes never leave the office"
    );
    assert_eq!(
        app.count_rows("SELECT count(DISTINCT thread) FROM outbox WHERE channel = 'telegram'"),
        1,
        "the news joins the chat's thread, so it never overtakes an answer written before it"
    );

    let (status, conversation) = app
        .get_json(&format!("/api/v1/reports/{id}/conversation"))
        .await;
    assert_eq!(status, 200, "{conversation}");
    let lines = conversation["messages"].as_array().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l["direction"] == "in" && l["text"].as_str().unwrap().contains("Acqua alta"))
    );
    assert!(lines.iter().any(|l| {
        l["direction"] == "out"
            && l["text"]
                .as_str()
                .unwrap()
                .contains("Segnalazione ricevuta")
    }));
}

#[tokio::test]
async fn a_redelivered_update_makes_no_second_report_and_no_second_answer() {
    let (app, telegram) = hub_with_bot(false).await;
    report_by_chat(&telegram).await;
    let photo_update = telegram.sent().len();
    let last_update = telegram.push_update(BotApi::text_update(CHAT, "it", "/avvisi"));
    next(&telegram).await;
    telegram.redeliver(last_update);
    telegram.redeliver(last_update - 1);
    // The hub answers a later update; both redeliveries were read before it.
    telegram.push_update(BotApi::text_update(CHAT, "it", "/lingua"));
    let switched = loop {
        let sent = next(&telegram).await;
        if sent.text.contains("English") {
            break sent;
        }
    };
    assert!(switched.text.contains("I will speak English"));
    assert_eq!(
        app.count_rows("SELECT count(*) FROM reports WHERE source = 'telegram'"),
        1
    );
    let acks = telegram
        .sent()
        .iter()
        .filter(|s| s.text.contains("Segnalazione ricevuta"))
        .count();
    assert_eq!(
        acks, 1,
        "one acknowledgement, however often the update came"
    );
    assert!(telegram.sent().len() > photo_update);
}

#[tokio::test]
async fn a_subscribed_chat_gets_an_actual_notice_and_its_cancellation_and_stop_forgets_it() {
    let (app, telegram) = hub_with_bot(false).await;
    telegram.push_update(BotApi::location_update(CHAT, MONTEVERDE.0, MONTEVERDE.1));
    assert!(next(&telegram).await.text.contains("Nessun avviso"));
    let offer = next(&telegram).await;
    assert!(button_data(&offer).contains(&"subscribe".to_owned()));
    telegram.push_update(BotApi::callback_update(CHAT, "subscribe"));
    assert!(
        next(&telegram)
            .await
            .text
            .contains("riceverai qui gli avvisi")
    );

    let team = app.team().await;
    let notice = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    let alert = next(&telegram).await;
    assert!(
        alert.text.contains("Allerta rossa") || alert.text.contains("Red alert"),
        "{}",
        alert.text
    );
    let page = format!("/archivio/{}", notice["id"].as_str().unwrap());
    assert!(
        alert.text.contains(&page),
        "the notice links the office's own page first"
    );
    app.follow_up(&team, &notice, "cancel").await;
    let cancel = next(&telegram).await;
    assert!(cancel.text.contains("REVOCA"), "{}", cancel.text);

    telegram.push_update(BotApi::text_update(CHAT, "it", "/stop"));
    assert!(next(&telegram).await.text.contains("cancellato"));
    let remaining = "SELECT (SELECT count(*) FROM subscriptions WHERE channel = 'telegram') \
        + (SELECT count(*) FROM chats) + (SELECT count(*) FROM chat_messages WHERE direction = 'in')";
    assert_eq!(app.count_rows(remaining), 0, "the chat's data is gone");
}

#[tokio::test]
async fn what_the_bot_cannot_take_gets_a_clear_answer_and_stores_nothing() {
    let (app, telegram) = hub_with_bot(false).await;
    telegram.push_update(BotApi::text_update(CHAT, "en", "/start"));
    next(&telegram).await;
    next(&telegram).await;
    telegram.push_update(BotApi::sticker_update(CHAT));
    assert!(next(&telegram).await.text.contains("cannot read"));
    telegram.push_update(BotApi::text_update(CHAT, "en", "/teleport"));
    assert!(
        next(&telegram)
            .await
            .text
            .contains("do not know this command")
    );
    telegram.push_update(BotApi::callback_update(CHAT, "report"));
    next(&telegram).await;
    telegram.push_update(BotApi::location_update(CHAT, OFFSHORE.0, OFFSHORE.1));
    assert!(next(&telegram).await.text.contains("outside the area"));
    telegram.push_update(BotApi::text_update(CHAT, "en", "Atlantis"));
    assert!(next(&telegram).await.text.contains("cannot find"));
    telegram.add_file("huge", vec![0xFF; 64]);
    telegram.push_update(BotApi::photo_update(CHAT, "huge", 50_000_000, None));
    assert!(
        next(&telegram)
            .await
            .text
            .contains("could not take the photo")
    );
    assert_eq!(app.count_rows("SELECT count(*) FROM reports"), 0);
}

#[tokio::test]
async fn a_forged_webhook_is_refused_and_one_with_the_secret_is_answered() {
    let (app, telegram) = hub_with_bot(true).await;
    let update = json!({ "update_id": 77, "message": {
        "message_id": 1, "date": 0, "chat": { "id": CHAT, "type": "private" },
        "from": { "id": CHAT, "is_bot": false, "first_name": "A", "language_code": "it" },
        "text": "/start" } });
    let post = |secret: Option<&'static str>| {
        let mut request = app
            .http
            .post(app.url("/chat/telegram/webhook"))
            .json(&update);
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        request.send()
    };
    for forged in [None, Some("wrong")] {
        let answer = post(forged).await.unwrap();
        assert_eq!(answer.status(), 401);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"], "unauthorized", "{body}");
    }
    assert_eq!(app.count_rows("SELECT count(*) FROM chat_updates"), 0);
    assert_eq!(post(Some("s3cret-token_1")).await.unwrap().status(), 200);
    assert!(next(&telegram).await.text.contains("protezione civile"));
    assert_eq!(post(Some("s3cret-token_1")).await.unwrap().status(), 200);
    assert_eq!(
        app.count_rows("SELECT count(*) FROM chat_messages WHERE direction = 'in'"),
        1
    );
}

#[tokio::test]
async fn the_retention_purge_removes_chat_conversations_and_the_chat_id_on_reports() {
    use chrono::TimeZone;
    let telegram = quick_stand_in().await;
    let start = chrono::Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap();
    let clock = vedetta::clock::ManualClock::starting_at(start);
    let app =
        TestApp::spawn_with_clock(clock.clone(), bot_config(telegram.base_url(), false)).await;
    report_by_chat(&telegram).await;
    let (_, page) = app.get_json("/api/v1/reports").await;
    app.move_to(page["reports"][0]["id"].as_str().unwrap(), "acknowledged")
        .await;
    // A second chat only asks for the notices of a place: no report, but its position.
    telegram.push_update(BotApi::location_update(
        CHAT + 1,
        MONTEVERDE.0,
        MONTEVERDE.1,
    ));
    telegram.next_message_to(CHAT + 1, TIMEOUT).await;
    let chat_data = "SELECT (SELECT count(*) FROM chat_messages) + (SELECT count(*) FROM chats) \
        + (SELECT count(*) FROM reports WHERE device_id != '') \
        + (SELECT count(*) FROM report_updates WHERE device_id != '')";
    assert!(app.count_rows(chat_data) > 1);

    clock.advance(chrono::Duration::days(31));
    let purged = app.running().hub().triage.purge("test").await.unwrap();
    assert_eq!(purged, 1);
    assert_eq!(
        app.count_rows(chat_data),
        0,
        "no conversation, and no chat id left on the report or its updates"
    );
    assert_eq!(
        app.count_rows("SELECT count(*) FROM reports"),
        1,
        "the report stays"
    );
}

#[tokio::test]
async fn a_description_a_report_cannot_hold_is_refused_as_it_is_typed_and_a_rewritten_one_goes_on()
{
    let (app, telegram) = hub_with_bot(false).await;
    telegram.push_update(BotApi::text_update(CHAT, "it", "/start"));
    next(&telegram).await;
    next(&telegram).await;
    telegram.push_update(BotApi::text_update(CHAT, "it", "/segnala"));
    next(&telegram).await;
    telegram.push_update(BotApi::location_update(CHAT, MONTEVERDE.0, MONTEVERDE.1));
    next(&telegram).await;
    telegram.push_update(BotApi::callback_update(CHAT, "cat:flooding"));
    next(&telegram).await;

    telegram.push_update(BotApi::text_update(CHAT, "it", &"acqua ".repeat(400)));
    let too_long = next(&telegram).await.text;
    telegram.push_update(BotApi::text_update(CHAT, "it", "acqua\u{1} alta"));
    let control = next(&telegram).await.text;
    telegram.push_update(BotApi::text_update(CHAT, "it", "Acqua alta in via Roma"));
    let ask_photo = next(&telegram).await;
    telegram.add_file("scan-thumb", b"%PDF-1.7 not a photo".to_vec());
    telegram.push_update(BotApi::photo_update(CHAT, "scan", 50_000_000, None));
    let photo_refused = next(&telegram).await.text;
    telegram.push_update(BotApi::callback_update(CHAT, "send"));
    let ack = next(&telegram).await.text;

    assert!(
        too_long.contains("troppo lunga (2399 caratteri)") && too_long.contains("2000"),
        "{too_long}"
    );
    assert!(control.contains("U+0001"), "{control}");
    assert!(button_data(&ask_photo).contains(&"send".to_owned()));
    assert!(
        photo_refused.contains("non è un'immagine") && photo_refused.contains("oppure invia senza"),
        "spoken in the chat's language: {photo_refused}"
    );
    assert!(ack.contains("Segnalazione ricevuta"), "{ack}");
    assert_eq!(
        app.count_rows("SELECT count(*) FROM reports WHERE text = 'Acqua alta in via Roma'"),
        1
    );
}

#[tokio::test]
async fn a_citizen_whose_report_is_not_taken_up_is_told_why_in_the_chats_language() {
    let (app, telegram) = hub_with_bot(false).await;
    report_by_chat(&telegram).await;
    let (_, page) = app.get_json("/api/v1/reports").await;
    let id = page["reports"][0]["id"].as_str().unwrap().to_owned();

    let (code, view) = app
        .change(
            &id,
            json!({ "status": "rejected", "reason": "out_of_area" }),
        )
        .await;
    let news = next(&telegram).await.text;

    assert_eq!(code, 200, "{view}");
    assert!(
        news.contains("non accolta") && news.contains("Motivo: il luogo è fuori dall'area"),
        "{news}"
    );
}
