//! A withdrawn alert stays visible as withdrawn: people who saw it, or open the page later, learn
//! it was cancelled, until the cancelled notice would have expired.

use chrono::{Duration, TimeZone, Utc};
use serde_json::json;
use vedetta::clock::{Clock, ManualClock};

use crate::support::notices::{notice_expiring, zones};
use crate::support::{MONTEVERDE, TestApp, WsClient};

#[tokio::test]
async fn a_cancellation_reaches_new_subscribers_until_the_cancelled_notice_would_have_expired() {
    let clock = ManualClock::starting_at(Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap());
    let app = TestApp::spawn_with_clock(clock.clone(), |_| {}).await;
    let team = app.team().await;
    let body = notice_expiring(
        "Actual",
        zones(&["demo-001"]),
        clock.as_ref().now() + Duration::hours(2),
    );
    let notice = app.publish_notice(&team, &body).await;
    let cancel = app.follow_up(&team, &notice, "cancel").await;
    let subscription = json!({ "point": { "lat": MONTEVERDE.0, "lon": MONTEVERDE.1 } });

    let mut opened_later = WsClient::connect(&app.ws_url()).await;
    let (owed, _) = opened_later.subscribe(subscription.clone()).await;
    clock.advance(Duration::hours(3));
    let expired = opened_later.next_of("notice_expired").await;
    let mut opened_after_expiry = WsClient::connect(&app.ws_url()).await;
    let (owed_after, _) = opened_after_expiry.subscribe(subscription).await;

    assert_eq!(owed.len(), 1, "{owed:?}");
    assert_eq!(owed[0]["notice"]["msg_type"], "Cancel");
    assert_eq!(owed[0]["notice"]["id"], cancel["id"]);
    let references = owed[0]["notice"]["references"].as_str().unwrap();
    assert!(
        references.contains(notice["identifier"].as_str().unwrap()),
        "{references}"
    );
    assert_eq!(expired["id"], cancel["id"]);
    assert!(owed_after.is_empty(), "{owed_after:?}");
}

#[tokio::test]
async fn a_cancellation_draft_says_it_cancels_and_never_repeats_the_old_advice() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let body = notice_expiring(
        "Actual",
        zones(&["demo-001"]),
        Utc::now() + Duration::hours(2),
    );
    let notice = app.publish_notice(&team, &body).await;

    let cancel = app.follow_up(&team, &notice, "cancel").await;

    let (before, after) = (
        &notice["content"]["info"]["it"],
        &cancel["content"]["info"]["it"],
    );
    assert!(before["instruction"].is_string(), "{before}");
    assert_eq!(after["headline"], before["headline"]);
    assert!(after.get("instruction").is_none(), "{after}");
    let headline = before["headline"].as_str().unwrap();
    assert_eq!(after["description"], format!("Revoca: {headline}"));
    let english = cancel["content"]["info"]["en"]["description"]
        .as_str()
        .unwrap();
    assert!(english.starts_with("Cancelled: "), "{english}");
}
