//! Signed CAP: every CAP document the hub publishes carries an enveloped XML signature with the
//! office certificate, which xmlsec1 (libxmlsec1, an implementation nobody here wrote) verifies
//! against that certificate, and which fails once a word of the alert is changed.

use std::path::Path;
use std::process::Command;

use crate::support::TestApp;
use crate::support::notices::{assert_valid_cap, notice_body, zones};

/// Whether `xmlsec1 --verify` accepts `document` with `certificate` as the trusted one.
fn xmlsec1_verifies(document: &str, certificate: &Path) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alert.xml");
    std::fs::write(&file, document).unwrap();
    let output = Command::new("xmlsec1")
        .arg("--verify")
        .arg("--trusted-pem")
        .arg(certificate)
        .arg(&file)
        .output()
        .expect("xmlsec1 is installed (apt-get install xmlsec1)");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn every_cap_document_the_hub_publishes_is_signed_and_xmlsec1_verifies_it() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let certificate = app.data_dir.path().join(vedetta::notices::CAP_CERT_FILE);
    let own = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    let (status, imported) = app
        .import_cap(
            &team.operator,
            std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cap/thunderstorm_cap_1_1.xml"),
            )
            .unwrap()
            .replace("SENT", "2026-11-29T06:00:00-08:00")
            .replace(
                "EXPIRES",
                &(chrono::Utc::now() + chrono::Duration::hours(6))
                    .format("%Y-%m-%dT%H:%M:%S-00:00")
                    .to_string(),
            ),
        )
        .await;
    assert_eq!(status, 201, "{imported}");
    let (approved, relayed) = app.approve_notice(&team.approver, &imported).await;
    assert_eq!(approved, 200, "{relayed}");

    for notice in [own, relayed] {
        let xml = app.cap_xml(&notice).await;

        assert_valid_cap(&xml);
        assert!(xml.contains("<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\">"));
        let (verified, said) = xmlsec1_verifies(&xml, &certificate);
        assert!(verified, "xmlsec1 refuses the signature: {said}\n{xml}");
        assert_eq!(
            app.cap_xml(&notice).await,
            xml,
            "signed deterministically: the same bytes, and ETag, at every request"
        );
    }
}

#[tokio::test]
async fn a_cap_document_changed_after_signing_fails_verification() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let certificate = app.data_dir.path().join(vedetta::notices::CAP_CERT_FILE);
    let notice = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    let xml = app.cap_xml(&notice).await;
    let severity = format!(
        "<severity>{}</severity>",
        notice["content"]["severity"].as_str().unwrap()
    );
    assert!(xml.contains(&severity), "{xml}");

    let tampered = xml.replace(&severity, "<severity>Minor</severity>");

    assert!(xmlsec1_verifies(&xml, &certificate).0);
    let (verified, _) = xmlsec1_verifies(&tampered, &certificate);
    assert!(!verified, "a changed severity must not verify");
}
