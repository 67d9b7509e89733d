//! Lossless relay: a CAP document another authority sent comes out of the hub element for
//! element as it went in (read back by Python's expat, not by the hub), in CAP 1.2, whatever its
//! version and encoding, with only the office's signature added.

use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde_json::{Value, json};

use crate::support::notices::{Team, assert_valid_cap};
use crate::support::{TestApp, assert_valid};

/// A corpus document with its times made current, in Rome's winter offset.
pub(crate) fn corpus(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cap")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let rome = FixedOffset::east_opt(3600).unwrap();
    let at = |offset: Duration| {
        (Utc::now() + offset)
            .with_timezone(&rome)
            .format("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    };
    text.replace("SENT", &at(Duration::hours(-1)))
        .replace("ONSET", &at(Duration::minutes(30)))
        .replace("EXPIRES", &at(Duration::hours(12)))
        .replace("LATER", &at(Duration::hours(24)))
}

/// Each element of a CAP document as `path = text`, read by Python's expat.
fn elements(document: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alert.xml");
    std::fs::write(&file, document).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/cap_elements.py");
    let output = Command::new("python3")
        .arg(script)
        .arg(&file)
        .output()
        .expect("python3 is installed");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The CAP elements of a relayed document, without what the office adds: its signature.
fn as_relayed(xml: &str) -> Vec<String> {
    let all = elements(xml.as_bytes());
    assert!(
        all.iter()
            .any(|line| line.starts_with("/alert/Signature[1]/")),
        "a relay is signed by the office"
    );
    all.into_iter()
        .filter(|line| !line.starts_with("/alert/Signature["))
        .collect()
}

/// Imports `document` as the operator and approves it as the approver: the import's answer
/// and the relayed CAP.
async fn relay(app: &TestApp, team: &Team, document: impl Into<reqwest::Body>) -> (Value, String) {
    let (status, imported) = app.import_cap(&team.operator, document).await;
    assert_eq!(status, 201, "{imported}");
    let (approved, relayed) = app.approve_notice(&team.approver, &imported).await;
    assert_eq!(approved, 200, "{relayed}");
    let xml = app.cap_xml(&relayed).await;
    assert_valid_cap(&xml);
    (imported, xml)
}

fn warnings(imported: &Value) -> String {
    imported["warnings"].to_string()
}

#[tokio::test]
async fn every_cap_1_2_element_survives_import_and_relay_unchanged() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let document = corpus("every_element.xml");
    assert_valid_cap(&document);

    let (imported, xml) = relay(&app, &team, document.clone()).await;

    assert_eq!(as_relayed(&xml), elements(document.as_bytes()));
    let said = warnings(&imported);
    assert!(said.contains("municipality demo-004"), "{said}");
    assert!(
        said.contains("EMMA_ID IT005") && said.contains("kept as received"),
        "a code system the office does not hold is kept and named: {said}"
    );
    assert_eq!(imported["content"]["area"]["zones"], json!(["demo-004"]));
    let (_, kept) = app
        .get_json(&format!(
            "/api/v1/notices/{}",
            imported["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        kept["warnings"], imported["warnings"],
        "the approver reads later what the import said"
    );
}

#[tokio::test]
async fn the_same_alert_in_utf_16_or_iso_8859_1_relays_element_for_element() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let base = corpus("every_element.xml").replace("Valle del Reno", "Valle del Reno, città");
    let utf16_text = base
        .replace("encoding=\"UTF-8\"", "encoding=\"UTF-16\"")
        .replace("CFR-ER-2026-0815", "CFR-ER-2026-0816");
    let utf16: Vec<u8> = std::iter::once('\u{feff}')
        .chain(utf16_text.chars())
        .collect::<String>()
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let latin1: Vec<u8> = base
        .replace("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"")
        .replace("CFR-ER-2026-0815", "CFR-ER-2026-0817")
        .chars()
        .map(|c| u8::try_from(u32::from(c)).expect("Latin-1 text"))
        .collect();

    for document in [utf16, latin1] {
        let (_, xml) = relay(&app, &team, document.clone()).await;

        assert_eq!(as_relayed(&xml), elements(&document));
        assert!(xml.contains("Valle del Reno, città"), "{xml}");
    }
}

#[tokio::test]
async fn two_events_in_one_language_are_both_relayed_each_with_its_own_area() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let document = corpus("two_events_in_one_language.xml");

    let (imported, xml) = relay(&app, &team, document.clone()).await;

    assert_eq!(as_relayed(&xml), elements(document.as_bytes()));
    let said = warnings(&imported);
    assert!(
        said.contains("2 <info> blocks in en-AU (Flood, Landslide)"),
        "the operator is told the second event travels only in CAP: {said}"
    );
    let area = &imported["content"]["area"];
    assert_eq!(
        (
            area["polygons"].as_array().map(Vec::len),
            area["circles"].as_array().map(Vec::len)
        ),
        (Some(1), Some(1)),
        "the hub matches both events' areas, the repeated one once: {area}"
    );
    let latest = document
        .lines()
        .filter_map(|line| line.trim().strip_prefix("<expires>"))
        .filter_map(|rest| rest.strip_suffix("</expires>"))
        .map(|at| DateTime::parse_from_rfc3339(at).unwrap())
        .max()
        .unwrap();
    let expires = DateTime::parse_from_rfc3339(imported["content"]["expires"].as_str().unwrap());
    assert_eq!(expires.unwrap(), latest, "in force while either event is");
}

#[tokio::test]
async fn a_cap_1_1_alert_is_relayed_as_the_same_alert_in_cap_1_2() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let document = corpus("thunderstorm_cap_1_1.xml");

    let (imported, xml) = relay(&app, &team, document.clone()).await;

    let expected: Vec<String> = elements(document.as_bytes())
        .into_iter()
        .map(|line| {
            line.replace("emergency:cap:1.1", "emergency:cap:1.2")
                .replace("certainty[1] = Very Likely", "certainty[1] = Likely")
        })
        .collect();
    assert_eq!(as_relayed(&xml), expected);
    assert!(
        warnings(&imported).contains("FIPS6 006109"),
        "{}",
        warnings(&imported)
    );
    assert_eq!(
        imported["content"]["info"]["en-US"]["event"],
        "SEVERE THUNDERSTORM"
    );
}

#[tokio::test]
async fn an_alert_that_expired_before_it_arrived_is_kept_as_history_and_cannot_be_relayed() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let mut stale = corpus("every_element.xml");
    for (element, at) in [
        ("sent", "2025-12-31T08:00:00+01:00"),
        ("effective", "2025-12-31T08:00:00+01:00"),
        ("onset", "2025-12-31T09:00:00+01:00"),
        ("expires", "2026-01-01T00:00:00+01:00"),
    ] {
        stale = with_text(&stale, element, at);
    }

    let (status, imported) = app.import_cap(&team.operator, stale).await;

    assert_eq!(status, 201, "{imported}");
    assert_valid("notice", &imported);
    assert_eq!(imported["state"], "expired");
    assert!(
        warnings(&imported).contains("kept as history"),
        "{}",
        warnings(&imported)
    );
    let (approved, refusal) = app.approve_notice(&team.approver, &imported).await;
    assert_eq!(
        (approved, refusal["error"].as_str()),
        (409, Some("invalid_state"))
    );
    let public = app
        .http
        .get(app.url(&format!("/cap/{}.xml", imported["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(
        public.status(),
        404,
        "history that was never relayed is not public"
    );
}

/// `document` with the text of its first `<element>` replaced.
fn with_text(document: &str, element: &str, text: &str) -> String {
    let open = format!("<{element}>");
    let start = document.find(&open).unwrap() + open.len();
    let end = start + document[start..].find('<').unwrap();
    format!("{}{text}{}", &document[..start], &document[end..])
}

#[tokio::test]
async fn a_restricted_alert_or_an_element_cap_does_not_have_is_refused_by_name() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let restricted = corpus("every_element.xml").replace(
        "<scope>Public</scope>",
        "<scope>Restricted</scope><restriction>Prefetture</restriction>",
    );
    let misspelt = corpus("every_element.xml").replace("headline>", "headlin>");

    let (status, refusal) = app.import_cap(&team.operator, restricted).await;
    assert_eq!(
        (status, refusal["field"].as_str()),
        (422, Some("scope")),
        "{refusal}"
    );
    assert!(refusal["message"].as_str().unwrap().contains("only Public"));
    let (status, refusal) = app.import_cap(&team.operator, misspelt).await;
    assert_eq!(
        (status, refusal["error"].as_str()),
        (422, Some("invalid_field"))
    );
    assert!(
        refusal["message"].as_str().unwrap().contains("<headlin>"),
        "{refusal}"
    );
}
