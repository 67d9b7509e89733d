//! CAP 1.2 documents (checked by xmllint against the OASIS schema), Atom and RSS feeds, and
//! CAP import from other authorities, including hostile documents.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::notices::{Team, assert_valid_cap, notice_body, zones};
use crate::support::{TIMEOUT, TestApp, assert_valid};

fn varied_area() -> Value {
    json!({
        "polygons": [[
            { "lat": 44.42, "lon": 11.18 }, { "lat": 44.42, "lon": 11.26 },
            { "lat": 44.47, "lon": 11.26 }, { "lat": 44.42, "lon": 11.18 }
        ]],
        "circles": [{ "lat": 44.33, "lon": 11.40, "radius_km": 2.5 }],
        "zones": ["demo-002"]
    })
}

/// A published notice's `sent` as CAP writes it: seconds, and `-00:00` for UTC.
fn cap_time(notice: &Value) -> String {
    let sent = chrono::DateTime::parse_from_rfc3339(notice["sent"].as_str().unwrap()).unwrap();
    sent.to_utc().format("%Y-%m-%dT%H:%M:%S-00:00").to_string()
}

#[tokio::test]
async fn every_cap_document_the_hub_produces_validates_against_the_oasis_schema() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let mut exercise = notice_body("Exercise", varied_area());
    exercise["web"] = json!("https://protezionecivile.example/allerta?id=1&lang=it");
    exercise["info"]["it"]["description"] = json!("Prova <esercitazione> & verifica \"sirene\"");
    let alert = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    let draft = app.draft_notice(&team.operator, &exercise).await;
    let update = app.follow_up(&team, &alert, "update").await;
    let cancel = app.follow_up(&team, &update, "cancel").await;

    for notice in [&alert, &draft, &update, &cancel] {
        let xml = app.cap_xml(notice).await;
        assert_valid_cap(&xml);
    }
    let update_xml = app.cap_xml(&update).await;
    let reference = format!(
        "<references>{},{},",
        alert["sender"].as_str().unwrap(),
        alert["identifier"].as_str().unwrap()
    );
    assert!(update_xml.contains(&reference), "{update_xml}");
    let cancel_xml = app.cap_xml(&cancel).await;
    let whole_chain = format!(
        "<references>{},{},{} {},{},{}</references>",
        alert["sender"].as_str().unwrap(),
        alert["identifier"].as_str().unwrap(),
        cap_time(&alert),
        update["sender"].as_str().unwrap(),
        update["identifier"].as_str().unwrap(),
        cap_time(&update),
    );
    assert!(
        cancel_xml.contains(&whole_chain),
        "a cancel of an update names the alert too: {cancel_xml}"
    );
    assert!(
        update_xml.contains("<msgType>Update</msgType>")
            && app
                .cap_xml(&cancel)
                .await
                .contains("<msgType>Cancel</msgType>")
    );
    let exercise_xml = app.cap_xml(&draft).await;
    assert!(exercise_xml.contains("<status>Exercise</status>") && exercise_xml.contains("<note>"));
    assert!(
        exercise_xml.contains("<circle>44.33,11.4 2.5</circle>"),
        "{exercise_xml}"
    );
    assert!(
        exercise_xml.contains("<valueName>municipality</valueName>"),
        "{exercise_xml}"
    );
}

#[tokio::test]
async fn a_draft_cap_document_is_for_staff_only() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let draft = app
        .draft_notice(&team.operator, &notice_body("Test", zones(&["demo-001"])))
        .await;
    let path = format!("/cap/{}.xml", draft["id"].as_str().unwrap());

    let (public, _) = app.get_text(&path).await;
    let staff = app
        .http
        .get(app.url(&path))
        .bearer_auth(&team.viewer)
        .send()
        .await
        .unwrap()
        .status();

    assert_eq!((public, staff.as_u16()), (404, 200));
}

/// The entries' alternate links (their CAP documents), with their types.
fn entry_links(feed: &atom_syndication::Feed) -> Vec<(String, Option<String>)> {
    feed.entries
        .iter()
        .flat_map(|entry| {
            entry
                .links
                .iter()
                .filter(|l| l.rel == "alternate")
                .map(|l| (l.href.clone(), l.mime_type.clone()))
        })
        .collect()
}

#[tokio::test]
async fn the_atom_and_rss_feeds_list_the_notices_in_force_with_links_to_their_cap() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let north = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    let south = app
        .publish_notice(&team, &notice_body("Test", zones(&["demo-003"])))
        .await;
    app.draft_notice(&team.operator, &notice_body("Actual", zones(&["demo-001"])))
        .await;

    let (status, atom) = app.get_text("/feeds/cap.atom").await;
    let feed: atom_syndication::Feed = atom.parse().expect("the feed parses as Atom");
    let (_, zone_atom) = app.get_text("/feeds/zones/demo-001.atom").await;
    let zone_feed: atom_syndication::Feed =
        zone_atom.parse().expect("the zone feed parses as Atom");
    let (_, rss) = app.get_text("/feeds/cap.rss").await;
    let channel: rss::Channel = rss.parse().expect("the feed parses as RSS");

    assert_eq!(status, 200);
    assert!(atom.contains("xmlns=\"http://www.w3.org/2005/Atom\""));
    assert_eq!(feed.entries.len(), 2, "drafts are not listed");
    let cap_link = |notice: &Value| {
        (
            notice["cap_url"].as_str().unwrap().to_owned(),
            Some("application/cap+xml".to_owned()),
        )
    };
    assert!(
        entry_links(&feed).contains(&cap_link(&north))
            && entry_links(&feed).contains(&cap_link(&south))
    );
    assert_eq!(entry_links(&zone_feed), [cap_link(&north)]);
    let page = &zone_feed.entries[0].links[1];
    assert_eq!(
        (
            page.rel.as_str(),
            page.mime_type.as_deref(),
            page.href.as_str()
        ),
        (
            "related",
            Some("text/html"),
            north["page_url"].as_str().unwrap()
        ),
        "each entry links the office's own page of the notice"
    );
    assert!(
        feed.entries
            .iter()
            .any(|entry| entry.title.value.starts_with("[TEST]")),
        "tests are marked as such"
    );
    assert_eq!(channel.items.len(), 2);
    let (missing, _) = app.get_text("/feeds/zones/atlantis.atom").await;
    assert_eq!(missing, 404);
}

#[tokio::test]
async fn a_cancelled_notice_leaves_the_feeds_and_its_cancellation_takes_its_place_marked_as_one() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let notice = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;

    let cancel = app.follow_up(&team, &notice, "cancel").await;

    let (_, atom) = app.get_text("/feeds/cap.atom").await;
    assert!(!atom.contains(notice["cap_url"].as_str().unwrap()));
    assert!(atom.contains(cancel["cap_url"].as_str().unwrap()));
    let msg_type = "urn:oasis:names:tc:emergency:cap:1.2:msgType";
    for path in ["/feeds/cap.atom", "/feeds/zones/demo-001.atom"] {
        let (_, text) = app.get_text(path).await;
        let feed: atom_syndication::Feed = text.parse().expect("the feed parses as Atom");
        let entry = &feed.entries[0];
        assert!(
            entry.title.value.starts_with("REVOCA: "),
            "{path}: {}",
            entry.title.value
        );
        let marked = entry
            .categories
            .iter()
            .any(|c| c.term == "Cancel" && c.scheme.as_deref() == Some(msg_type));
        assert!(marked, "{path}: {:?}", entry.categories);
    }
    let (_, rss) = app.get_text("/feeds/cap.rss").await;
    let channel: rss::Channel = rss.parse().expect("the feed parses as RSS");
    let item = &channel.items[0];
    assert!(item.title.as_deref().unwrap().starts_with("REVOCA: "));
    let marked = item
        .categories
        .iter()
        .any(|c| c.name == "Cancel" && c.domain.as_deref() == Some(msg_type));
    assert!(marked, "{:?}", item.categories);
}

const FOREIGN_ALERT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>ARPAE-2026-0042</identifier>
  <sender>allerte@arpae.example</sender>
  <sent>2026-11-24T06:00:00+01:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>it-IT</language>
    <category>Met</category>
    <event>Allerta meteo</event>
    <urgency>Expected</urgency>
    <severity>Moderate</severity>
    <certainty>Likely</certainty>
    <expires>EXPIRES</expires>
    <headline>Allerta arancione per temporali</headline>
    <description>Temporali forti &amp; grandine</description>
    <area>
      <areaDesc>Valle del Reno</areaDesc>
      <polygon>44.40,11.20 44.40,11.35 44.48,11.35 44.40,11.20</polygon>
      <geocode><valueName>municipality</valueName><value>demo-004</value></geocode>
    </area>
  </info>
</alert>"#;

fn foreign_alert() -> String {
    FOREIGN_ALERT.replace(
        "EXPIRES",
        &(chrono::Utc::now() + chrono::Duration::hours(12))
            .format("%Y-%m-%dT%H:%M:%S+00:00")
            .to_string(),
    )
}

async fn relay(app: &TestApp, team: &Team) -> Value {
    let (status, imported) = app.import_cap(&team.operator, foreign_alert()).await;
    assert_eq!(status, 201, "{imported}");
    let (approved, relayed) = app.approve_notice(&team.approver, &imported).await;
    assert_eq!(approved, 200, "{relayed}");
    relayed
}

#[tokio::test]
async fn an_imported_cap_alert_is_relayed_after_approval_under_its_own_identity() {
    let app = TestApp::spawn().await;
    let team = app.team().await;

    let relayed = relay(&app, &team).await;

    assert_valid("notice", &relayed);
    assert_eq!(
        (relayed["origin"].as_str(), relayed["state"].as_str()),
        (Some("imported"), Some("published"))
    );
    assert_eq!(
        (relayed["identifier"].as_str(), relayed["sender"].as_str()),
        (Some("ARPAE-2026-0042"), Some("allerte@arpae.example"))
    );
    assert_eq!(
        relayed["content"]["info"]["it-IT"]["description"],
        "Temporali forti & grandine"
    );
    assert_eq!(relayed["content"]["area"]["zones"], json!(["demo-004"]));
    let xml = app.cap_xml(&relayed).await;
    assert_valid_cap(&xml);
    assert!(xml.contains("<identifier>ARPAE-2026-0042</identifier>"));
    let (again, duplicate) = app.import_cap(&team.operator, foreign_alert()).await;
    assert_eq!(
        (again, duplicate["error"].as_str()),
        (409, Some("invalid_state"))
    );
}

#[tokio::test]
async fn elements_of_other_namespaces_are_set_aside_named_and_never_read_as_cap() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let xml = foreign_alert().replace(
        "<headline>",
        "<ext:headline xmlns:ext=\"urn:example:ext\">Forged headline</ext:headline><headline>",
    );

    let (status, imported) = app.import_cap(&team.operator, xml).await;

    assert_eq!(status, 201, "{imported}");
    assert_valid("notice", &imported);
    assert_eq!(imported["set_aside"], json!(["{urn:example:ext}headline"]));
    assert!(!imported.to_string().contains("Forged headline"));
    assert_eq!(
        app.count_rows(
            "SELECT count(*) FROM audit WHERE action = 'import' AND detail LIKE '%urn:example:ext%'"
        ),
        1,
        "the import's audit line names what was set aside"
    );
}

#[tokio::test]
async fn a_cap_import_with_an_external_entity_is_refused_and_nothing_is_fetched() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let trap = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/secret", trap.local_addr().unwrap());
    let hostile = foreign_alert()
        .replace(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            &format!("<?xml version=\"1.0\"?>\n<!DOCTYPE alert [<!ENTITY xxe SYSTEM \"{url}\">]>"),
        )
        .replace("Temporali forti &amp; grandine", "&xxe;");

    let (status, error) = app.import_cap(&team.operator, hostile).await;

    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("unsafe_xml")),
        "{error}"
    );
    assert!(error["message"].as_str().unwrap().contains("DOCTYPE"));
    // The answer came after parsing: a fetch would already be waiting to be accepted.
    let fetched = tokio::time::timeout(std::time::Duration::from_millis(1), trap.accept()).await;
    assert!(fetched.is_err(), "the hub connected to {url}");
    assert_eq!(app.count_rows("SELECT count(*) FROM notices"), 0);
    assert!(TIMEOUT.as_secs() > 0);
}

#[tokio::test]
async fn hostile_or_broken_cap_documents_each_get_a_clear_refusal() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let laughs = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]><alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">&lol2;</alert>";
    let cases: Vec<(&str, String, u16, &str)> = vec![
        (
            "entity expansion (billion laughs)",
            laughs.to_owned(),
            400,
            "unsafe_xml",
        ),
        (
            "an undeclared entity",
            foreign_alert().replace("&amp;", "&nbsp;"),
            400,
            "unsafe_xml",
        ),
        (
            "a namespace that is not CAP's",
            foreign_alert().replace("urn:oasis:names:tc:emergency:cap:1.2", "urn:example:alerts"),
            422,
            "invalid_field",
        ),
        (
            "not XML at all",
            "{\"alert\": true}".to_owned(),
            400,
            "malformed_xml",
        ),
        (
            "truncated XML",
            foreign_alert()[..300].to_owned(),
            400,
            "malformed_xml",
        ),
        (
            "a System message",
            foreign_alert().replace("<status>Actual</status>", "<status>System</status>"),
            422,
            "invalid_field",
        ),
        (
            "an alert with no area at all",
            foreign_alert()
                .replace(
                    "<polygon>44.40,11.20 44.40,11.35 44.48,11.35 44.40,11.20</polygon>",
                    "",
                )
                .replace(
                    "<geocode><valueName>municipality</valueName><value>demo-004</value></geocode>",
                    "",
                ),
            422,
            "invalid_field",
        ),
        (
            "a second root element after the alert",
            format!(
                "{}<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"/>",
                foreign_alert()
            ),
            400,
            "malformed_xml",
        ),
        (
            "an undeclared namespace prefix",
            foreign_alert().replace("<headline>", "<x:note>nota</x:note><headline>"),
            400,
            "malformed_xml",
        ),
        (
            "over the size limit",
            foreign_alert().replace("Valle del Reno", &"Reno ".repeat(250_000)),
            413,
            "too_large",
        ),
    ];
    for (case, xml, status, code) in cases {
        let (got, error) = app.import_cap(&team.operator, xml).await;

        assert_eq!(
            (got, error["error"].as_str()),
            (status, Some(code)),
            "{case}: {error}"
        );
        assert_valid("error", &error);
    }
    let (wrong_type, ()) = {
        let response = app
            .http
            .post(app.url("/api/v1/notices/import"))
            .bearer_auth(&team.operator)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), ())
    };
    assert_eq!(wrong_type, 415);
    assert_eq!(app.count_rows("SELECT count(*) FROM notices"), 0);
    let _ = Method::GET;
}
