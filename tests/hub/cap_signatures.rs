//! Signed CAP: every CAP document the hub publishes carries an enveloped XML signature with the
//! office certificate, which xmlsec1 (libxmlsec1, an implementation nobody here wrote) verifies
//! against that certificate, and which fails once a word of the alert is changed.

use std::path::Path;
use std::process::Command;

use crate::support::TestApp;
use crate::support::notices::{assert_valid_cap, notice_body, xmlsec1_verifies, zones};

#[tokio::test]
async fn every_cap_document_the_hub_publishes_is_signed_and_xmlsec1_verifies_it_with_the_published_certificate()
 {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    // The certificate as a recipient gets it: from the hub, not from its data directory.
    let (_, keys) = app.get_json_as("/api/v1/keys", None).await;
    crate::support::assert_valid("keys", &keys);
    let published = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(published.path(), keys["cap_certificate"].as_str().unwrap()).unwrap();
    let certificate = published.path();
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
        let (verified, said) = xmlsec1_verifies(&xml, certificate);
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

/// `document` with a stylesheet instruction before its root, as some authorities publish.
fn styled(document: &str) -> String {
    document.replacen(
        "<!--",
        "<?xml-stylesheet type=\"text/xsl\"   href=\"cap.xsl\"?>\n<!--",
        1,
    )
}

/// A key and a self-signed certificate made by OpenSSL: `rsa:2048`, or `ec` on P-256.
fn openssl_certificate(
    dir: &Path,
    name: &str,
    kind: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let (key, cert) = (
        dir.join(format!("{name}.key")),
        dir.join(format!("{name}.pem")),
    );
    let mut command = Command::new("openssl");
    command.args([
        "req",
        "-x509",
        "-nodes",
        "-days",
        "30",
        "-subj",
        &format!("/CN={name}"),
    ]);
    match kind {
        "rsa" => command.args(["-newkey", "rsa:2048"]),
        _ => command.args(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]),
    };
    let status = command
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is installed");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    (key, cert)
}

/// `document` signed by xmlsec1 with an enveloped signature in the given method and
/// canonicalization, the certificate in `KeyInfo`.
fn xmlsec1_signed(document: &str, key: &Path, cert: &Path, method: &str, c14n: &str) -> String {
    let template = format!(
        r#"<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="{c14n}"/><SignatureMethod Algorithm="{method}"/><Reference URI=""><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><Transform Algorithm="{c14n}"/></Transforms><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/></Reference></SignedInfo><SignatureValue/><KeyInfo><X509Data/></KeyInfo></Signature>
</alert>"#
    );
    let dir = tempfile::tempdir().unwrap();
    let (unsigned, signed) = (
        dir.path().join("template.xml"),
        dir.path().join("signed.xml"),
    );
    std::fs::write(&unsigned, document.replace("</alert>", &template)).unwrap();
    let output = Command::new("xmlsec1")
        .arg("--sign")
        .arg("--privkey-pem")
        .arg(format!("{},{}", key.display(), cert.display()))
        .arg("--output")
        .arg(&signed)
        .arg(&unsigned)
        .output()
        .expect("xmlsec1 is installed");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read_to_string(signed).unwrap()
}

/// A signed document without its `KeyInfo`, as a sender whose receivers hold its certificate
/// may send it; `KeyInfo` is outside what is signed, so the signature still holds.
fn without_key_info(signed: &str) -> String {
    let start = signed.find("<KeyInfo>").expect("xmlsec1 wrote a KeyInfo");
    let end = signed.find("</KeyInfo>").unwrap() + "</KeyInfo>".len();
    format!("{}{}", &signed[..start], &signed[end..])
}

#[tokio::test]
async fn an_imported_alerts_signature_is_checked_against_the_trust_store_and_kept() {
    let keys = tempfile::tempdir().unwrap();
    let trusted_dir = tempfile::tempdir().unwrap();
    let (arpae_key, arpae_cert) = openssl_certificate(keys.path(), "arpae", "rsa");
    let (other_key, other_cert) = openssl_certificate(keys.path(), "unknown", "ec");
    std::fs::copy(&arpae_cert, trusted_dir.path().join("arpae.pem")).unwrap();
    std::fs::write(
        trusted_dir.path().join("arpae.senders"),
        "# the centre signs only its own alerts\nallerte@cfr.example\n",
    )
    .unwrap();
    let store = trusted_dir.path().to_owned();
    let app =
        TestApp::spawn_with(|config| config.notices.trusted_cap_certificates = Some(store)).await;
    let team = app.team().await;
    let alert = |id: &str| {
        crate::cap_roundtrip::corpus("every_element.xml").replace("CFR-ER-2026-0815", id)
    };
    let exclusive = "http://www.w3.org/2001/10/xml-exc-c14n#";
    let inclusive = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
    let rsa = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
    let ecdsa = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
    let tampered = xmlsec1_signed(&alert("S-3"), &arpae_key, &arpae_cert, rsa, exclusive)
        .replace("Allerta arancione per piene", "Allerta verde");
    let cases = [
        (
            "trusted, with a stylesheet before the alert",
            xmlsec1_signed(
                &styled(&alert("S-1")),
                &arpae_key,
                &arpae_cert,
                rsa,
                exclusive,
            ),
            "valid",
        ),
        (
            "untrusted",
            xmlsec1_signed(&alert("S-2"), &other_key, &other_cert, ecdsa, inclusive),
            "untrusted",
        ),
        ("changed after signing", tampered, "invalid"),
        (
            "trusted, with its certificate left out",
            without_key_info(&xmlsec1_signed(
                &alert("S-6"),
                &arpae_key,
                &arpae_cert,
                rsa,
                exclusive,
            )),
            "valid",
        ),
        (
            "by a key the office does not hold, with its certificate left out",
            without_key_info(&xmlsec1_signed(
                &alert("S-7"),
                &other_key,
                &other_cert,
                ecdsa,
                inclusive,
            )),
            "invalid",
        ),
        ("unsigned", alert("S-4"), "unsigned"),
        (
            "signed by a trusted certificate for another sender",
            xmlsec1_signed(
                &alert("S-5").replace("allerte@cfr.example", "someone@else.example"),
                &arpae_key,
                &arpae_cert,
                rsa,
                exclusive,
            ),
            "untrusted",
        ),
    ];

    for (case, document, expected) in cases {
        let (status, imported) = app.import_cap(&team.operator, document).await;
        assert_eq!(status, 201, "{case}: {imported}");
        assert_eq!(
            imported["sender_signature"]["status"], expected,
            "{case}: {imported}"
        );
        let (_, shown) = app
            .get_json(&format!(
                "/api/v1/notices/{}",
                imported["id"].as_str().unwrap()
            ))
            .await;
        crate::support::assert_valid("notice", &shown);
        assert_eq!(
            shown["sender_signature"], imported["sender_signature"],
            "{case}: kept"
        );
    }
    let (_, trusted) = app.get_json("/api/v1/notices?limit=10").await;
    let signer = trusted["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["identifier"] == "S-1")
        .map(|n| n["id"].clone())
        .unwrap();
    let (_, shown) = app
        .get_json(&format!("/api/v1/notices/{}", signer.as_str().unwrap()))
        .await;
    assert_eq!(shown["sender_signature"]["signer"], "arpae");
}
