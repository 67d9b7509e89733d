//! Upstream CAP sources: the hub polls another authority's Atom feed (served here over local
//! HTTP with ETags), takes each new alert once as a draft, joins updates and cancellations to
//! their chain, retries a source that is away, and never reaches a private address unasked.

use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;

use crate::support::cap_feed::CapFeed;
use crate::support::{TestApp, assert_valid};
use vedetta::config::{CapSource, FastReview};

const SENDER: &str = "allerte@arpae.example";

/// An alert of the regional centre over the demo district, valid for twelve hours.
pub(crate) fn arpae(identifier: &str, msg_type: &str, references: Option<&str>) -> String {
    let expires =
        (chrono::Utc::now() + chrono::Duration::hours(12)).format("%Y-%m-%dT%H:%M:%S+00:00");
    let references = references
        .map(|id| format!("<references>{SENDER},{id},2026-11-29T06:00:00+01:00</references>"))
        .unwrap_or_default();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>{SENDER}</sender>
  <sent>2026-11-29T06:00:00+01:00</sent>
  <status>Actual</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {references}
  <info>
    <language>it-IT</language>
    <category>Met</category>
    <event>Allerta meteo</event>
    <urgency>Expected</urgency>
    <severity>Moderate</severity>
    <certainty>Likely</certainty>
    <expires>{expires}</expires>
    <headline>Allerta arancione per temporali ({msg_type})</headline>
    <area>
      <areaDesc>Valle del Reno</areaDesc>
      <polygon>44.40,11.20 44.40,11.35 44.48,11.35 44.40,11.20</polygon>
    </area>
  </info>
</alert>"#
    )
}

fn source(url: &str, allow_private: bool) -> CapSource {
    CapSource {
        name: "arpae".into(),
        url: url.to_owned(),
        poll_secs: 1,
        allow_private,
        fast_review: None,
    }
}

/// The source's state once `done` holds, as staff read it.
async fn wait_for_source(app: &TestApp, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = app.get_json("/api/v1/cap-sources").await;
        assert_eq!(status, 200, "{body}");
        assert_valid("cap-sources", &body);
        let state = body["sources"][0].clone();
        if done(&state) {
            return state;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the source never got there: {state}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The notice the hub holds for an upstream identifier.
async fn held(app: &TestApp, identifier: &str) -> Vec<Value> {
    let (_, listed) = app.get_json("/api/v1/notices?limit=100").await;
    listed["notices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|notice| notice["identifier"] == identifier)
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_polled_feeds_alert_update_and_cancel_are_each_taken_once_and_chained() {
    let feed = CapFeed::start().await;
    feed.publish("ARPAE-1", arpae("ARPAE-1", "Alert", None));
    let app =
        TestApp::spawn_with(|config| config.cap_sources = vec![source(&feed.url, true)]).await;
    let team = app.team().await;

    wait_for_source(&app, |s| s["taken"] == 1).await;
    let alert = held(&app, "ARPAE-1").await.remove(0);
    assert_eq!(
        (alert["state"].as_str(), alert["author"].as_str()),
        (Some("draft"), Some("source:arpae"))
    );
    wait_for_source(&app, |_| feed.not_modified() >= 2).await;
    let (approved, alert) = app.approve_notice(&team.approver, &alert).await;
    assert_eq!(approved, 200, "{alert}");

    feed.publish("ARPAE-2", arpae("ARPAE-2", "Update", Some("ARPAE-1")));
    wait_for_source(&app, |s| s["taken"] == 2).await;
    let update = held(&app, "ARPAE-2").await.remove(0);
    assert_eq!(update["references_id"], alert["id"]);
    assert_eq!(update["thread_id"], alert["thread_id"]);
    let (approved, update) = app.approve_notice(&team.approver, &update).await;
    assert_eq!(approved, 200, "{update}");

    feed.publish("ARPAE-3", arpae("ARPAE-3", "Cancel", Some("ARPAE-2")));
    let state = wait_for_source(&app, |s| s["taken"] == 3).await;
    let cancel = held(&app, "ARPAE-3").await.remove(0);
    assert_eq!(
        (
            cancel["msg_type"].as_str(),
            cancel["references_id"].as_str()
        ),
        (Some("Cancel"), update["id"].as_str())
    );

    wait_for_source(&app, |_| feed.not_modified() >= 4).await;
    for id in ["ARPAE-1", "ARPAE-2", "ARPAE-3"] {
        assert_eq!(held(&app, id).await.len(), 1, "{id} is held once");
        assert_eq!(
            feed.requests_of(&format!("/cap/{id}.xml")),
            1,
            "{id}'s document is fetched once"
        );
    }
    assert_eq!(
        (state["state"].as_str(), state["failures"].as_u64()),
        (Some("ok"), Some(0))
    );
}

#[tokio::test]
async fn a_source_that_is_away_is_retried_and_its_alert_taken_when_it_returns() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let url = format!("http://{addr}/feed.atom");
    let app = TestApp::spawn_with(|config| config.cap_sources = vec![source(&url, true)]).await;

    let away = wait_for_source(&app, |s| s["failures"].as_u64() >= Some(1)).await;
    assert_eq!(away["state"], "retrying");
    assert!(
        away["last_error"].as_str().unwrap().contains("connect"),
        "{away}"
    );

    let feed = CapFeed::serve(TcpListener::bind(addr).await.unwrap());
    feed.publish("ARPAE-9", arpae("ARPAE-9", "Alert", None));
    let back = wait_for_source(&app, |s| s["taken"] == 1).await;

    assert_eq!(
        (back["state"].as_str(), back["failures"].as_u64()),
        (Some("ok"), Some(0))
    );
    assert_eq!(held(&app, "ARPAE-9").await.len(), 1);
}

#[tokio::test]
async fn a_source_on_a_private_address_is_never_requested_unless_the_admin_allowed_it() {
    let feed = CapFeed::start().await;
    feed.publish("ARPAE-1", arpae("ARPAE-1", "Alert", None));
    let app =
        TestApp::spawn_with(|config| config.cap_sources = vec![source(&feed.url, false)]).await;

    let refused = wait_for_source(&app, |s| s["failures"].as_u64() >= Some(1)).await;

    assert!(
        refused["last_error"].as_str().unwrap().contains("private"),
        "{refused}"
    );
    assert_eq!(feed.requests(), 0, "nothing reached the private address");
    assert!(held(&app, "ARPAE-1").await.is_empty());
}

#[tokio::test]
async fn a_source_allowed_on_the_office_network_cannot_lead_the_hub_to_another_private_host() {
    let feed = CapFeed::start().await;
    let elsewhere = feed
        .url
        .replace("127.0.0.1", "localhost")
        .replace("/feed.atom", "/cap/ARPAE-7.xml");
    feed.publish_linked("ARPAE-7", arpae("ARPAE-7", "Alert", None), &elsewhere);
    let app =
        TestApp::spawn_with(|config| config.cap_sources = vec![source(&feed.url, true)]).await;

    let state = wait_for_source(&app, |s| s["refused"] == 1).await;

    assert!(
        state["last_error"].as_str().unwrap().contains("private"),
        "{state}"
    );
    assert_eq!(
        feed.requests_of("/cap/ARPAE-7.xml"),
        0,
        "the other host was never asked"
    );
    assert!(held(&app, "ARPAE-7").await.is_empty());
}

#[tokio::test]
async fn a_hostile_feed_is_refused_before_it_is_read_and_nothing_it_names_is_fetched() {
    let feed = CapFeed::start().await;
    let entity = format!(
        r#"<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "{}">]><feed xmlns="http://www.w3.org/2005/Atom">&x;</feed>"#,
        feed.url.replace("/feed.atom", "/cap/SECRET.xml")
    );
    let deep = format!(
        r#"<feed xmlns="http://www.w3.org/2005/Atom" xmlns:x="urn:x">{}{}</feed>"#,
        "<x:a>".repeat(100_000),
        "</x:a>".repeat(100_000)
    );
    let app =
        TestApp::spawn_with(|config| config.cap_sources = vec![source(&feed.url, true)]).await;

    for (hostile, named) in [(entity, "DOCTYPE"), (deep, "too deep")] {
        wait_for_source(&app, |s| s["last_polled_at"].is_string()).await;
        feed.serve_instead(hostile);
        let refused = wait_for_source(&app, |s| {
            s["state"] == "retrying" && s["last_error"].as_str().is_some_and(|e| e.contains(named))
        })
        .await;
        assert!(refused["failures"].as_u64() >= Some(1), "{refused}");
    }
    let (status, health) = app.get_json("/api/v1/cap-sources").await;
    assert_eq!(
        status, 200,
        "the hub is alive after a feed nested 100,000 deep: {health}"
    );
    assert_eq!(
        feed.requests_of("/cap/SECRET.xml"),
        0,
        "no entity was expanded and fetched"
    );
}

#[tokio::test]
async fn a_refused_document_sent_again_without_validators_is_counted_once_and_stays_named() {
    let feed = CapFeed::start().await;
    let undated =
        arpae("ARPAE-5", "Alert", None).replace("<sent>2026-11-29T06:00:00+01:00</sent>", "");
    feed.serve_instead(undated);
    let app =
        TestApp::spawn_with(|config| config.cap_sources = vec![source(&feed.url, true)]).await;

    wait_for_source(&app, |s| s["refused"] == 1).await;
    // Each poll is recorded before the next is asked for: four requests, three polls recorded.
    crate::support::until("the source is polled four times", || {
        feed.requests_of("/feed.atom") >= 4
    })
    .await;
    let (_, listed) = app.get_json("/api/v1/cap-sources").await;
    let state = &listed["sources"][0];

    assert_eq!(
        (state["refused"].as_u64(), state["state"].as_str()),
        (Some(1), Some("ok")),
        "{state}"
    );
    assert!(
        state["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("sent")),
        "the refusal is still named: {state}"
    );
}

#[tokio::test]
async fn a_source_that_failed_once_and_then_answers_not_modified_shows_no_stale_error() {
    let feed = CapFeed::start().await;
    feed.publish("ARPAE-6", arpae("ARPAE-6", "Alert", None));
    let app =
        TestApp::spawn_with(|config| config.cap_sources = vec![source(&feed.url, true)]).await;
    wait_for_source(&app, |s| s["taken"] == 1).await;

    feed.serve_instead("<feed".into());
    wait_for_source(&app, |s| s["state"] == "retrying").await;
    let not_modified = feed.not_modified();
    feed.serve_feed_again();
    crate::support::until("the source answers 304 again", || {
        feed.not_modified() > not_modified
    })
    .await;
    let state = wait_for_source(&app, |s| s["state"] == "ok").await;

    assert_eq!(state["last_error"], Value::Null, "{state}");
}

#[tokio::test]
async fn a_cancel_of_an_alert_never_relayed_withdraws_its_draft_and_sends_nothing() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (status, alert) = app
        .import_cap(&team.operator, arpae("ARPAE-5", "Alert", None))
        .await;
    assert_eq!(status, 201, "{alert}");
    let imposter = arpae("FAKE-1", "Cancel", Some("ARPAE-5")).replace(
        "<sender>allerte@arpae.example</sender>",
        "<sender>someone@else.example</sender>",
    );
    let (refused, _) = app.import_cap(&team.operator, imposter).await;
    assert_eq!(refused, 409, "only the sender takes back its alert");
    let (_, still) = app
        .get_json(&format!(
            "/api/v1/notices/{}",
            alert["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(still["state"], "draft");

    let (status, withdrawn) = app
        .import_cap(&team.operator, arpae("ARPAE-6", "Cancel", Some("ARPAE-5")))
        .await;

    assert_eq!(status, 200, "{withdrawn}");
    assert_valid("notice", &withdrawn);
    assert_eq!(withdrawn["id"], alert["id"]);
    assert_eq!(withdrawn["state"], "rejected");
    assert!(
        withdrawn["rejection_reason"]
            .as_str()
            .unwrap()
            .contains("cancelled"),
        "{withdrawn}"
    );
    assert!(
        held(&app, "ARPAE-6").await.is_empty(),
        "no cancellation to relay"
    );
}

#[tokio::test]
async fn a_sources_rule_marks_severe_alerts_over_the_office_for_fast_review_and_no_others() {
    let feed = CapFeed::start().await;
    feed.publish(
        "ARPAE-20",
        arpae("ARPAE-20", "Alert", None).replace("Moderate", "Severe"),
    );
    feed.publish("ARPAE-21", arpae("ARPAE-21", "Alert", None));
    let far_away = arpae("ARPAE-22", "Alert", None)
        .replace("Moderate", "Severe")
        .replace(
            "44.40,11.20 44.40,11.35 44.48,11.35 44.40,11.20",
            "38.47,-120.14 38.34,-119.95 38.52,-119.74 38.47,-120.14",
        );
    feed.publish("ARPAE-22", far_away);
    let mut arpae_source = source(&feed.url, true);
    arpae_source.fast_review = Some(FastReview {
        severities: vec!["Extreme".into(), "Severe".into()],
        urgencies: Vec::new(),
        in_office_zones: true,
    });
    let app = TestApp::spawn_with(|config| config.cap_sources = vec![arpae_source]).await;

    wait_for_source(&app, |s| s["taken"] == 3).await;
    let (status, marked) = app
        .get_json("/api/v1/notices?state=draft&review=fast")
        .await;

    assert_eq!(status, 200, "{marked}");
    let identifiers: Vec<&str> = marked["notices"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["identifier"].as_str())
        .collect();
    assert_eq!(
        identifiers,
        ["ARPAE-20"],
        "severe and over the office's zones only"
    );
    let (_, shown) = app
        .get_json(&format!(
            "/api/v1/notices/{}",
            marked["notices"][0]["id"].as_str().unwrap()
        ))
        .await;
    assert_valid("notice", &shown);
    assert_eq!(shown["fast_review"], true);
    let (_, plain) = app
        .get_json(&format!(
            "/api/v1/notices/{}",
            held(&app, "ARPAE-21").await[0]["id"].as_str().unwrap()
        ))
        .await;
    assert!(plain.get("fast_review").is_none(), "{plain}");
    let (_, drafts) = app.get_json("/api/v1/notices?state=draft").await;
    let mut in_list: Vec<(&str, bool)> = drafts["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["identifier"].as_str().unwrap(), n["fast_review"] == true))
        .collect();
    in_list.sort_unstable();
    assert_eq!(
        in_list,
        [("ARPAE-20", true), ("ARPAE-21", false), ("ARPAE-22", false)],
        "the whole list shows the mark too"
    );
    let (refused, problem) = app.get_json("/api/v1/notices?review=slow").await;
    assert_eq!((refused, problem["field"].as_str()), (422, Some("review")));
}
