//! Relaying other authorities' CAP faithfully: valid CAP 1.2 as real authorities write it is
//! taken, and what it says survives the relay.

use serde_json::json;

use crate::support::notices::assert_valid_cap;
use crate::support::{MONTEVERDE, TestApp, assert_valid};

/// An earthquake as USGS publishes it: the epicentre as a circle of radius 0, and the
/// language tag in another case than the hub writes.
fn earthquake_at_monteverde() -> String {
    let expires =
        (chrono::Utc::now() + chrono::Duration::hours(6)).format("%Y-%m-%dT%H:%M:%S-00:00");
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>us7000abcd</identifier>
  <sender>usgs-neic@usgs.gov</sender>
  <sent>2026-11-29T06:00:00-00:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>EN-us</language>
    <category>Geo</category>
    <event>Earthquake</event>
    <urgency>Past</urgency>
    <severity>Moderate</severity>
    <certainty>Observed</certainty>
    <expires>{expires}</expires>
    <senderName>USGS National Earthquake Information Center</senderName>
    <headline>M 4.6 - near Monteverde</headline>
    <area>
      <areaDesc>near Monteverde</areaDesc>
      <circle>{},{} 0</circle>
    </area>
  </info>
</alert>"#,
        MONTEVERDE.0, MONTEVERDE.1
    )
}

#[tokio::test]
async fn an_epicentre_given_as_a_circle_of_radius_zero_in_any_case_of_language_tag_is_relayed() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (status, imported) = app
        .import_cap(&team.operator, earthquake_at_monteverde())
        .await;
    assert_eq!(status, 201, "{imported}");
    assert_eq!(
        imported["content"]["info"]["en-US"]["headline"], "M 4.6 - near Monteverde",
        "the tag is kept in BCP 47's case: {}",
        imported["content"]["info"]
    );
    let (approved, relayed) = app.approve_notice(&team.approver, &imported).await;
    assert_eq!(approved, 200, "{relayed}");
    assert_valid("notice", &relayed);
    let covered: Vec<&str> = relayed["covered_zones"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|zone| zone["id"].as_str())
        .collect();
    assert!(covered.contains(&"demo-001"), "{covered:?}");
    assert_eq!(
        relayed["content"]["area"]["circles"][0]["radius_km"],
        json!(0.0)
    );
    let xml = app.cap_xml(&relayed).await;
    assert_valid_cap(&xml);
    assert!(
        xml.contains("<language>EN-us</language>"),
        "the relay writes the tag as the sender did: {xml}"
    );
    assert!(
        xml.contains("<senderName>USGS National Earthquake Information Center</senderName>"),
        "a relay goes out under its sender's name: {xml}"
    );
    assert!(xml.contains(" 0</circle>"), "{xml}");
}

#[tokio::test]
async fn a_document_in_utf_16_or_latin_1_is_read_in_the_encoding_it_declares() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let document = earthquake_at_monteverde().replace(
        "M 4.6 - near Monteverde",
        "Terremoto M 4.6 - Città di Monteverde",
    );
    let utf16_text = document.replace("encoding=\"UTF-8\"", "encoding=\"UTF-16\"");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(utf16_text.encode_utf16().flat_map(u16::to_le_bytes));
    let (status, imported) = app.import_cap(&team.operator, utf16).await;
    assert_eq!(status, 201, "{imported}");
    assert_eq!(
        imported["content"]["info"]["en-US"]["headline"],
        "Terremoto M 4.6 - Città di Monteverde"
    );

    let latin1: Vec<u8> = document
        .replace("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"")
        .replace("us7000abcd", "us7000abce")
        .chars()
        .map(|c| u8::try_from(u32::from(c)).expect("Latin-1 text"))
        .collect();
    let (status, imported) = app.import_cap(&team.operator, latin1).await;
    assert_eq!(status, 201, "{imported}");
    assert_eq!(
        imported["content"]["info"]["en-US"]["headline"],
        "Terremoto M 4.6 - Città di Monteverde"
    );
}

#[tokio::test]
async fn a_cap_1_1_alert_is_taken_and_relayed_as_cap_1_2() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let cap_1_1 = earthquake_at_monteverde()
        .replace("emergency:cap:1.2", "emergency:cap:1.1")
        .replace(
            "<certainty>Observed</certainty>",
            "<certainty>Very Likely</certainty>",
        );
    let (status, imported) = app.import_cap(&team.operator, cap_1_1).await;
    assert_eq!(status, 201, "{imported}");
    assert_eq!(
        imported["content"]["certainty"], "Likely",
        "1.1's deprecated Very Likely reads as Likely, as CAP 1.2 says"
    );
    let (approved, relayed) = app.approve_notice(&team.approver, &imported).await;
    assert_eq!(approved, 200, "{relayed}");
    let xml = app.cap_xml(&relayed).await;
    assert_valid_cap(&xml);
    assert!(
        xml.contains("urn:oasis:names:tc:emergency:cap:1.2"),
        "{xml}"
    );
}

#[tokio::test]
async fn a_relayed_alert_is_listed_in_the_atom_feed_under_the_authority_that_sent_it() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (_, imported) = app
        .import_cap(&team.operator, earthquake_at_monteverde())
        .await;
    let (approved, relayed) = app.approve_notice(&team.approver, &imported).await;
    assert_eq!(approved, 200, "{relayed}");

    for path in ["/feeds/cap.atom", "/feeds/archivio.atom"] {
        let (status, atom) = app.get_text(path).await;
        let feed: atom_syndication::Feed = atom.parse().expect("the feed parses as Atom");

        assert_eq!(status, 200);
        let author = &feed.entries[0].authors[0];
        assert_eq!(
            (author.name.as_str(), author.email.as_deref()),
            (
                "USGS National Earthquake Information Center",
                Some("usgs-neic@usgs.gov")
            ),
            "the entry's author is the authority by its senderName, in {path}"
        );
        assert_eq!(feed.authors[0].name, app.config.cap_sender_name());
    }
}

#[tokio::test]
async fn an_update_of_an_alert_this_hub_never_received_is_relayed_with_its_references_and_so_is_what_follows_it()
 {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let references = "usgs-neic@usgs.gov,us7000zzzz,2026-11-29T05:00:00-00:00";
    let update = earthquake_at_monteverde().replace(
        "<msgType>Alert</msgType>",
        &format!("<msgType>Update</msgType>\n  <references>{references}</references>"),
    );
    let (status, imported) = app.import_cap(&team.operator, update).await;
    assert_eq!(status, 201, "{imported}");
    let (approved, relayed) = app.approve_notice(&team.approver, &imported).await;
    assert_eq!(approved, 200, "{relayed}");
    let xml = app.cap_xml(&relayed).await;
    assert_valid_cap(&xml);
    assert!(xml.contains("<msgType>Update</msgType>"), "{xml}");
    assert!(
        xml.contains(&format!("<references>{references}</references>")),
        "{xml}"
    );
    let cancel = app.follow_up(&team, &relayed, "cancel").await;
    let cancel_xml = app.cap_xml(&cancel).await;
    let update_reference = format!(
        "{},{},",
        relayed["sender"].as_str().unwrap(),
        relayed["identifier"].as_str().unwrap()
    );
    assert!(
        cancel_xml.contains(&format!("<references>{references} {update_reference}")),
        "the cancel still names the alert the hub never received: {cancel_xml}"
    );
}

#[tokio::test]
async fn an_alert_without_expires_gets_the_default_validity_and_the_import_says_so() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let sent = chrono::Utc::now() - chrono::Duration::hours(1);
    let document = earthquake_at_monteverde();
    let start = document.find("    <expires>").unwrap();
    let end = document.find("</expires>\n").unwrap() + "</expires>\n".len();
    let without_expires = format!("{}{}", &document[..start], &document[end..]).replace(
        "2026-11-29T06:00:00-00:00",
        &sent.format("%Y-%m-%dT%H:%M:%S-00:00").to_string(),
    );
    let (status, imported) = app.import_cap(&team.operator, without_expires).await;
    assert_eq!(status, 201, "{imported}");
    let warnings = imported["warnings"].as_array().unwrap();
    assert!(
        warnings[0].as_str().unwrap().contains("no <expires>"),
        "{warnings:?}"
    );
    let expires: chrono::DateTime<chrono::Utc> = imported["content"]["expires"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let expected = sent + chrono::Duration::hours(24);
    assert!(
        (expires - expected).num_seconds().abs() <= 1,
        "{expires} {expected}"
    );
}

#[tokio::test]
async fn times_written_with_z_or_fractions_of_a_second_are_relayed_in_cap_form_and_the_import_says_so()
 {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let expires = chrono::Utc::now() + chrono::Duration::hours(6);
    let document = earthquake_at_monteverde()
        .replace("2026-11-29T06:00:00-00:00", "2026-11-29T06:00:00Z")
        .replace(
            &expires.format("%Y-%m-%dT%H:%M:%S-00:00").to_string(),
            &expires.format("%Y-%m-%dT%H:%M:%S.250+00:00").to_string(),
        );
    assert!(
        document.contains(".250+00:00"),
        "the fixture's expires moved"
    );
    let (status, imported) = app.import_cap(&team.operator, document).await;
    assert_eq!(status, 201, "{imported}");
    let warnings = imported["warnings"].to_string();
    assert!(
        warnings.contains("<sent> was written 2026-11-29T06:00:00Z"),
        "{warnings}"
    );

    let (approved, relayed) = app.approve_notice(&team.approver, &imported).await;
    assert_eq!(approved, 200, "{relayed}");
    let xml = app.cap_xml(&relayed).await;
    assert_valid_cap(&xml);
    assert!(
        xml.contains("<sent>2026-11-29T06:00:00-00:00</sent>"),
        "{xml}"
    );
    let whole_second = expires.format("%Y-%m-%dT%H:%M:%S").to_string();
    assert!(
        xml.contains(&format!("<expires>{whole_second}-00:00</expires>")),
        "{xml}"
    );
}

/// A Cancel as many authorities write it: no `<info>`, only what it cancels.
fn bare_cancel_of_the_earthquake() -> String {
    r#"<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>us7000abcd-cancel</identifier>
  <sender>usgs-neic@usgs.gov</sender>
  <sent>2026-11-29T06:30:00-00:00</sent>
  <status>Actual</status>
  <msgType>Cancel</msgType>
  <scope>Public</scope>
  <references>usgs-neic@usgs.gov,us7000abcd,2026-11-29T06:00:00-00:00</references>
</alert>"#
        .to_owned()
}

#[tokio::test]
async fn a_cancel_without_info_withdraws_the_relayed_alert_in_the_same_zones() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (_, imported) = app
        .import_cap(&team.operator, earthquake_at_monteverde())
        .await;
    let (_, relayed) = app.approve_notice(&team.approver, &imported).await;

    let (status, cancel) = app
        .import_cap(&team.operator, bare_cancel_of_the_earthquake())
        .await;
    assert_eq!(status, 201, "{cancel}");
    assert_eq!(cancel["references_id"], relayed["id"], "{cancel}");
    assert!(!relayed["covered_zones"].as_array().unwrap().is_empty());
    assert_eq!(cancel["covered_zones"], relayed["covered_zones"]);
    let description = cancel["content"]["info"]["en-US"]["description"].to_string();
    assert!(description.contains("Cancelled: M 4.6"), "{description}");
    let (approved, cancelled) = app.approve_notice(&team.approver, &cancel).await;
    assert_eq!(approved, 200, "{cancelled}");

    let path = format!("/api/v1/notices/{}", relayed["id"].as_str().unwrap());
    let (_, original) = app.get_json_as(&path, Some(&team.operator)).await;
    assert_eq!(original["state"], "cancelled", "{original}");
    let xml = app.cap_xml(&cancelled).await;
    assert_valid_cap(&xml);
    assert!(
        xml.contains("<msgType>Cancel</msgType>") && !xml.contains("<info>"),
        "{xml}"
    );
}

#[tokio::test]
async fn a_cancel_without_info_of_an_alert_not_yet_relayed_withdraws_its_draft() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (_, imported) = app
        .import_cap(&team.operator, earthquake_at_monteverde())
        .await;

    let (status, answer) = app
        .import_cap(&team.operator, bare_cancel_of_the_earthquake())
        .await;

    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["id"], imported["id"], "{answer}");
    assert_eq!(answer["state"], "rejected", "{answer}");
}

#[tokio::test]
async fn a_cancel_from_another_sender_warns_the_approver_whose_alert_it_withdraws() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (_, imported) = app
        .import_cap(&team.operator, earthquake_at_monteverde())
        .await;
    app.approve_notice(&team.approver, &imported).await;
    let from_another = bare_cancel_of_the_earthquake().replace(
        "<sender>usgs-neic@usgs.gov</sender>",
        "<sender>someone@else.example</sender>",
    );

    let (status, cancel) = app.import_cap(&team.operator, from_another).await;

    assert_eq!(status, 201, "{cancel}");
    let warnings = cancel["warnings"].to_string();
    assert!(
        warnings.contains("comes from someone@else.example")
            && warnings.contains("was sent by usgs-neic@usgs.gov"),
        "{warnings}"
    );
}
