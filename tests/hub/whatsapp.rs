//! Whole WhatsApp conversations against the real hub and a real SQLite file, with a stand-in
//! that speaks the Cloud API (signed webhook notifications, `/messages`, media, templates, the
//! 24-hour window, Meta's limits and errors).

use std::time::Duration;

use crate::support::notices::{notice_body, zones};
use crate::support::whatsapp::{CloudApi, Sent};
use crate::support::{MONTEVERDE, TIMEOUT, TestApp};

const TOKEN: &str = "EAAGtest-access-token";
const PHONE_NUMBER_ID: &str = "106540352242922";
const APP_SECRET: &str = "app-secret-0f1e2d";
const VERIFY_TOKEN: &str = "vedetta-verify-42";
const MARIA: &str = "393331234567";
const NOTICE_TEMPLATE: &str = "vedetta_avviso";
const REPORT_TEMPLATE: &str = "vedetta_segnalazione";

/// A hub on WhatsApp with the stand-in's webhook pointing at it. Both paces are raised so a
/// conversation is not slowed to one message every 6 seconds; pacing has its own test.
async fn hub_on_whatsapp() -> (TestApp, CloudApi) {
    let meta = CloudApi::start(TOKEN, PHONE_NUMBER_ID).await;
    meta.set_limits(200, 50);
    let app = TestApp::spawn_with(number_config(meta.base_url(), 200, 50)).await;
    meta.set_webhook(&app.url("/chat/whatsapp/webhook"), APP_SECRET);
    (app, meta)
}

fn number_config(
    api_url: String,
    per_second: u32,
    per_user_per_6s: u32,
) -> impl FnOnce(&mut vedetta::config::Config) {
    move |config| {
        let number = &mut config.whatsapp;
        number.enabled = true;
        number.access_token = Some(TOKEN.into());
        number.phone_number_id = PHONE_NUMBER_ID.into();
        number.api_url = api_url;
        number.app_secret = Some(APP_SECRET.into());
        number.verify_token = Some(VERIFY_TOKEN.into());
        number.messages_per_second = per_second;
        number.per_user_per_6s = per_user_per_6s;
        number.notice_template = Some(NOTICE_TEMPLATE.into());
        number.report_template = Some(REPORT_TEMPLATE.into());
    }
}

async fn next(meta: &CloudApi) -> Sent {
    meta.next_message_to(MARIA, TIMEOUT).await
}

fn choice_ids(sent: &Sent) -> Vec<String> {
    sent.choices().into_iter().map(|(id, _)| id).collect()
}

fn jpeg() -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(crate::support::jpeg_base64())
        .unwrap()
}

/// Greets, then walks a report through to the acknowledgement; returns it.
async fn report_on_whatsapp(meta: &CloudApi) -> Sent {
    meta.user_sends_text(MARIA, "Maria", "Ciao").await;
    let menu = next(meta).await;
    assert!(menu.text.contains("protezione civile"), "{}", menu.text);
    assert_eq!(menu.body["interactive"]["type"], "button", "{}", menu.body);
    assert!(choice_ids(&menu).contains(&"report".to_owned()));
    meta.user_presses_button(MARIA, "report", "Segnala").await;
    let ask_place = next(meta).await;
    assert_eq!(
        ask_place.body["interactive"]["type"], "location_request_message",
        "{}",
        ask_place.body
    );
    meta.user_sends_location(MARIA, MONTEVERDE.0, MONTEVERDE.1)
        .await;
    let categories = next(meta).await;
    assert_eq!(categories.body["interactive"]["type"], "list");
    assert!(choice_ids(&categories).contains(&"cat:flooding".to_owned()));
    meta.user_picks_from_list(MARIA, "cat:flooding", "Allagamento")
        .await;
    assert!(next(meta).await.text.contains("Descrivi"));
    meta.user_sends_text(MARIA, "Maria", "Acqua alta in via Roma, auto bloccate")
        .await;
    let ask_photo = next(meta).await;
    assert!(choice_ids(&ask_photo).contains(&"send".to_owned()));
    meta.add_media("1837412345678901", "image/jpeg", jpeg());
    meta.user_sends_image(MARIA, "1837412345678901", "image/jpeg", None)
        .await;
    next(meta).await
}

#[tokio::test]
async fn a_citizen_reports_on_whatsapp_with_position_and_photo_and_hears_back_in_the_chat() {
    let (app, meta) = hub_on_whatsapp().await;
    let ack = report_on_whatsapp(&meta).await;
    assert!(ack.text.contains("Segnalazione ricevuta"), "{}", ack.text);
    assert!(ack.text.contains("Monteverde"), "{}", ack.text);
    assert_eq!(
        app.count_rows("SELECT count(*) FROM reports WHERE source = 'whatsapp' AND has_photo"),
        1
    );
    let (_, page) = app.get_json("/api/v1/reports").await;
    let id = page["reports"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(page["reports"][0]["source"], "whatsapp");

    let change = serde_json::json!({
        "status": "acknowledged", "public_note": "Squadra in arrivo",
        "internal_note": "richiamare il 3331234567",
    });
    let (code, view) = app.change(&id, change).await;
    assert_eq!(code, 200, "{view}");
    let news = next(&meta).await;
    assert_eq!(news.kind, "text", "inside the 24-hour window: plain text");
    assert!(news.text.contains("presa in carico"), "{}", news.text);
    assert!(news.text.contains("Squadra in arrivo"));
    assert!(!news.text.contains("3331234567"), "internal notes stay in");
    assert!(
        !meta.marked_read().is_empty(),
        "the citizen sees that the office read them"
    );
    let (status, conversation) = app
        .get_json(&format!("/api/v1/reports/{id}/conversation"))
        .await;
    assert_eq!(status, 200, "{conversation}");
    assert!(conversation["messages"].as_array().unwrap().len() > 8);
}

#[tokio::test]
async fn metas_handshake_is_answered_with_the_challenge_only_for_the_offices_verify_token() {
    let (app, meta) = hub_on_whatsapp().await;
    let url = app.url("/chat/whatsapp/webhook");
    let (status, body, challenge) = meta.verify(&url, VERIFY_TOKEN).await;
    assert_eq!((status, body), (200, challenge));
    let (status, body, _) = meta.verify(&url, "someone-elses-token").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("verify_token"), "{body}");
}

#[tokio::test]
async fn an_unsigned_or_forged_notification_is_refused_and_a_redelivered_one_changes_nothing() {
    let (app, meta) = hub_on_whatsapp().await;
    let forged = br#"{"object":"whatsapp_business_account","entry":[]}"#.to_vec();
    assert_eq!(meta.post_raw(forged.clone(), None).await, 401);
    let wrong = Some(format!("sha256={}", "0".repeat(64)));
    assert_eq!(meta.post_raw(forged.clone(), wrong).await, 401);
    let signed = Some(meta.signature(b"not json"));
    assert_eq!(meta.post_raw(b"not json".to_vec(), signed).await, 400);

    let first = meta.user_sends_text(MARIA, "Maria", "/start").await;
    next(&meta).await;
    assert_eq!(meta.redeliver(&first).await, 200);
    meta.user_sends_text(MARIA, "Maria", "/lingua").await;
    let switched = next(&meta).await;
    assert!(switched.text.contains("English"), "{}", switched.text);
    assert_eq!(
        app.count_rows("SELECT count(*) FROM chat_messages WHERE direction = 'in'"),
        2,
        "the redelivered message was taken once"
    );
}

#[tokio::test]
async fn what_the_number_cannot_take_gets_a_clear_answer_and_stores_nothing() {
    let (app, meta) = hub_on_whatsapp().await;
    meta.user_sends_text(MARIA, "Maria", "/start").await;
    next(&meta).await;
    meta.user_sends_sticker(MARIA).await;
    let answer = next(&meta).await;
    assert!(answer.text.contains("Non posso leggere"), "{}", answer.text);
    meta.user_sends_text(MARIA, "Maria", "/segnala").await;
    next(&meta).await;
    meta.user_sends_location(MARIA, MONTEVERDE.0, MONTEVERDE.1)
        .await;
    next(&meta).await;
    meta.user_picks_from_list(MARIA, "cat:flooding", "Allagamento")
        .await;
    next(&meta).await;
    meta.user_sends_text(MARIA, "Maria", "Strada allagata")
        .await;
    next(&meta).await;
    meta.add_media("2837412345678902", "image/jpeg", vec![0xFF; 20_000_000]);
    meta.user_sends_image(MARIA, "2837412345678902", "image/jpeg", None)
        .await;
    let refused = next(&meta).await;
    assert!(refused.text.contains("foto"), "{}", refused.text);
    meta.add_media("2837412345678903", "image/jpeg", b"not an image".to_vec());
    let not_an_image = meta
        .user_sends_image(MARIA, "2837412345678903", "image/jpeg", None)
        .await;
    let refused = next(&meta).await;
    assert!(refused.text.contains("JPEG"), "{}", refused.text);
    let media_calls = || meta.calls().iter().filter(|c| c.method == "GET").count();
    let downloads = media_calls();
    assert_eq!(meta.redeliver(&not_an_image).await, 200);
    assert_eq!(media_calls(), downloads, "a redelivery downloads nothing");
    assert_eq!(app.count_rows("SELECT count(*) FROM reports"), 0);
    let delivered = meta.sent()[0].wamid.clone();
    assert_eq!(meta.status_update(&delivered, "failed").await, 200);
}

#[tokio::test]
async fn a_subscribed_number_gets_notices_as_text_in_the_window_and_as_the_template_after() {
    // The conversation happens 25 hours ago by the hub's clock, which then catches up.
    let clock =
        vedetta::clock::ManualClock::starting_at(chrono::Utc::now() - chrono::Duration::hours(25));
    let meta = CloudApi::start(TOKEN, PHONE_NUMBER_ID).await;
    meta.set_limits(200, 50);
    let app =
        TestApp::spawn_with_clock(clock.clone(), number_config(meta.base_url(), 200, 50)).await;
    meta.set_webhook(&app.url("/chat/whatsapp/webhook"), APP_SECRET);
    meta.add_template(NOTICE_TEMPLATE, "it", 2);
    meta.user_sends_location(MARIA, MONTEVERDE.0, MONTEVERDE.1)
        .await;
    let offer = next(&meta).await;
    assert!(offer.text.contains("Nessun avviso"), "{}", offer.text);
    assert_eq!(choice_ids(&offer), ["subscribe"]);
    meta.user_presses_button(MARIA, "subscribe", "Iscriviti")
        .await;
    assert!(next(&meta).await.text.contains("riceverai qui gli avvisi"));

    let team = app.team().await;
    let notice = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    let alert = next(&meta).await;
    assert_eq!(alert.kind, "text", "within 24 hours: plain text");
    let page = format!("/archivio/{}", notice["id"].as_str().unwrap());
    assert!(alert.text.contains(&page), "{}", alert.text);

    clock.advance(chrono::Duration::hours(25));
    let team = app.team().await;
    app.follow_up(&team, &notice, "cancel").await;
    let cancel = next(&meta).await;
    assert_eq!(cancel.kind, "template", "{}", cancel.body);
    assert!(cancel.text.starts_with(NOTICE_TEMPLATE), "{}", cancel.text);
    assert!(cancel.text.contains("REVOCA"), "{}", cancel.text);
    assert!(
        cancel.text.contains("/archivio/"),
        "the template links the office's own page: {}",
        cancel.text
    );
    assert!(
        meta.calls().iter().all(|call| call.code != Some(131_047)),
        "the hub chose the template itself rather than learn it from a refusal"
    );

    meta.block(MARIA);
    app.publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    let failed = "SELECT count(*) FROM outbox WHERE channel = 'whatsapp' AND state = 'failed'";
    wait_until(|| app.count_rows(failed) == 1).await;
    assert_eq!(
        app.count_rows("SELECT count(*) FROM subscriptions WHERE channel = 'whatsapp'"),
        1,
        "Meta's 131026 may pass (an old app), so the subscription stays"
    );
}

#[tokio::test]
async fn two_quick_answers_to_one_person_keep_metas_one_message_every_six_seconds() {
    let meta = CloudApi::start(TOKEN, PHONE_NUMBER_ID).await;
    let app = TestApp::spawn_with(number_config(meta.base_url(), 80, 1)).await;
    meta.set_webhook(&app.url("/chat/whatsapp/webhook"), APP_SECRET);
    meta.user_sends_text(MARIA, "Maria", "/start").await;
    meta.user_sends_text(MARIA, "Maria", "/lingua").await;
    let first = next(&meta).await;
    let second = meta
        .next_message_to(MARIA, TIMEOUT + Duration::from_secs(6))
        .await;
    assert!(second.at - first.at >= Duration::from_secs(6));
    assert_eq!(meta.refused_rate(), 0, "Meta never had to refuse");
}

#[tokio::test]
async fn news_meta_accepts_then_fails_because_the_window_had_closed_goes_again_as_the_template() {
    let (app, meta) = hub_on_whatsapp().await;
    meta.add_template(REPORT_TEMPLATE, "it", 2);
    report_on_whatsapp(&meta).await;
    let (_, page) = app.get_json("/api/v1/reports").await;
    let id = page["reports"][0]["id"].as_str().unwrap().to_owned();

    // Meta's 24 hours for Maria have run out; the hub, which heard her late, thinks not.
    meta.close_window(MARIA);
    app.move_to(&id, "acknowledged").await;
    let news = next(&meta).await;
    app.move_to(&id, "resolved").await;
    let more = next(&meta).await;

    assert_eq!(meta.refused_later(), [MARIA], "one free message failed");
    assert_eq!(news.kind, "template", "{}", news.body);
    assert!(news.text.contains("presa in carico"), "{}", news.text);
    assert_eq!(more.kind, "template", "the window is known closed now");
    let delivered =
        "SELECT count(*) FROM outbox WHERE kind = 'report_update' AND state = 'delivered'";
    wait_until(|| app.count_rows(delivered) == 2).await;
}

/// Waits (up to the test timeout) for a condition on the database.
async fn wait_until(condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the condition did not hold in time"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
