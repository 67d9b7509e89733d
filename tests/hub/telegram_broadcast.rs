//! A notice broadcast to a thousand Telegram chats, checked from the Bot API stand-in's log:
//! the pace Telegram allows, exactly once per chat, Actual Immediate first, blocked chats removed.

use serde_json::json;

use crate::support::TestApp;
use crate::support::notices::{notice_body, zones};
use crate::support::telegram::{BotApi, Sent};
use crate::telegram::TOKEN;

/// Subscribes `count` chats from `first` on to Monteverde, as many chats pressing "Iscriviti".
async fn subscribe_chats(app: &TestApp, first: i64, count: i64) {
    use vedetta::model::{OutboundChannel, Target};
    use vedetta::outbox::{NewSubscription, Place};
    let outbox = &app.running().hub().outbox;
    let subscriptions = (first..first + count).map(|chat| {
        outbox.subscribe_chat(
            OutboundChannel::Telegram,
            NewSubscription {
                target: Target::Telegram {
                    chat_id: chat.to_string(),
                },
                place: Place::Zone("demo-001".into()),
                language: Some("it".into()),
            },
        )
    });
    for subscribed in futures_util::future::join_all(subscriptions).await {
        subscribed.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_to_a_thousand_chats_keeps_telegrams_pace_and_sends_actual_immediate_first() {
    const PER_SECOND: usize = 200;
    let telegram = BotApi::start(TOKEN).await;
    telegram.set_limits(PER_SECOND as u32, 1, 20);
    let api_url = telegram.base_url();
    let app = TestApp::spawn_with(move |config| {
        let bot = &mut config.telegram;
        (bot.enabled, bot.token, bot.api_url) = (true, Some(TOKEN.into()), api_url);
        (bot.poll_timeout_secs, bot.messages_per_second) = (1, PER_SECOND as u32);
    })
    .await;
    subscribe_chats(&app, 10_000, 1_000).await;
    telegram.block(10_500);
    let team = app.team().await;
    let mut test_notice = notice_body("Test", zones(&["demo-001"]));
    test_notice["urgency"] = json!("Expected");
    app.publish_notice(&team, &test_notice).await;
    app.publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;

    let sent = telegram
        .wait_for_sent(2 * 999, std::time::Duration::from_secs(60))
        .await;
    // Requests leave the hub evenly spaced; the stand-in, sharing this machine, takes some in
    // bunches, as Telegram does with network jitter. Its 429s must stay rare and be honoured.
    let refused = telegram.refused_429() as usize;
    assert!(
        refused * 20 < sent.len(),
        "{refused} refusals: the hub did not keep the pace"
    );
    for (i, first) in sent.iter().enumerate() {
        let within_a_second = sent[i..]
            .iter()
            .take_while(|later| later.at.duration_since(first.at).as_millis() < 1000)
            .count();
        assert!(
            within_a_second <= PER_SECOND,
            "{within_a_second} messages in one second"
        );
    }
    let mut per_chat = std::collections::HashMap::<i64, Vec<&Sent>>::new();
    for message in &sent {
        per_chat.entry(message.chat_id).or_default().push(message);
    }
    assert_eq!(per_chat.len(), 999, "every chat but the blocked one");
    for messages in per_chat.values() {
        assert_eq!(
            messages.len(),
            2,
            "each notice exactly once, 429s notwithstanding"
        );
        assert!(messages[1].at.duration_since(messages[0].at).as_millis() >= 1000);
    }
    let is_test = |s: &Sent| s.text.contains("PROVA");
    // Those a 429 sent back to wait may come after; the rest overtook the queued test.
    let last_test = sent.iter().rposition(is_test).unwrap();
    let actual_before = sent[..last_test].iter().filter(|s| !is_test(s)).count();
    assert!(
        actual_before * 100 >= 999 * 95,
        "only {actual_before} Actual messages overtook the test"
    );
    assert!(sent.iter().all(|s| s.chat_id != 10_500));
    let blocked =
        "SELECT count(*) FROM subscriptions WHERE json_extract(target, '$.chat_id') = '10500'";
    crate::support::until("the blocked chat's subscription is removed", || {
        app.count_rows(blocked) == 0
    })
    .await;
}

#[tokio::test]
async fn a_configured_channel_gets_the_notices_of_its_zones_and_severities_without_an_unsubscribe_link()
 {
    let telegram = BotApi::start(TOKEN).await;
    let api_url = telegram.base_url();
    let app = TestApp::spawn_with(move |config| {
        let bot = &mut config.telegram;
        (bot.enabled, bot.token, bot.api_url, bot.poll_timeout_secs) =
            (true, Some(TOKEN.into()), api_url, 1);
        bot.channels = vec![vedetta::config::TelegramChannel {
            chat_id: "@allerte_monteverde".into(),
            zones: vec!["demo-001".into()],
            severities: Some(vec!["Extreme".into(), "Severe".into()]),
            label: Some("Monteverde".into()),
        }];
    })
    .await;
    let team = app.team().await;
    let mut minor = notice_body("Actual", zones(&["demo-001"]));
    minor["severity"] = json!("Minor");
    app.publish_notice(&team, &minor).await;
    app.publish_notice(&team, &notice_body("Actual", zones(&["demo-003"])))
        .await;
    let severe = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;

    let sent = telegram
        .wait_for_sent(1, std::time::Duration::from_secs(10))
        .await;
    assert!(sent[0].chat_id < 0, "sent to the channel");
    assert!(sent[0].text.contains(severe["id"].as_str().unwrap()));
    assert!(!sent[0].text.contains("unsubscribe"), "{}", sent[0].text);
    assert_eq!(
        app.count_rows("SELECT count(*) FROM outbox WHERE channel = 'telegram'"),
        1,
        "neither the minor notice nor the other zone's is queued for it"
    );
}
