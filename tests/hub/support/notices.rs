//! Staff accounts, notice drafts, and independent checks of what the hub publishes.

use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use vedetta::auth::Role;

use super::{TestApp, assert_valid};

/// One account per role, logged in.
pub struct Team {
    pub operator: String,
    pub approver: String,
    pub second_approver: String,
    pub viewer: String,
    pub admin: String,
}

/// A valid Actual notice for the demo municipality Monteverde, expiring in six hours.
pub fn notice_body(status: &str, area: Value) -> Value {
    notice_expiring(status, area, Utc::now() + Duration::hours(6))
}

pub fn notice_expiring(status: &str, area: Value, expires: DateTime<Utc>) -> Value {
    json!({
        "status": status,
        "category": ["Met"],
        "urgency": "Immediate",
        "severity": "Severe",
        "certainty": "Likely",
        "expires": expires.to_rfc3339(),
        "contact": "Sala operativa 051 000000",
        "info": {
            "it": { "event": "Allerta idraulica", "headline": "Allerta rossa per piena del Reno",
                    "description": "Il livello del fiume supera la soglia di guardia.",
                    "instruction": "Allontanarsi dagli argini e salire ai piani alti." },
            "en": { "event": "Flood warning", "headline": "Red alert: Reno river in flood",
                    "description": "The river is above the warning level.",
                    "instruction": "Keep away from the banks and move upstairs." }
        },
        "area": area
    })
}

pub fn zones(ids: &[&str]) -> Value {
    json!({ "zones": ids })
}

impl TestApp {
    /// Imports a CAP document as `token`; the status and the answer.
    pub async fn import_cap(&self, token: &str, xml: impl Into<reqwest::Body>) -> (u16, Value) {
        let response = self
            .http
            .post(self.url("/api/v1/notices/import"))
            .bearer_auth(token)
            .header("content-type", "application/cap+xml")
            .body(xml)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    pub async fn team(&self) -> Team {
        Team {
            operator: self.token_for("olga", Role::Operator).await,
            approver: self.token_for("aldo", Role::Approver).await,
            second_approver: self.token_for("bice", Role::Approver).await,
            viewer: self.token_for("vera", Role::Viewer).await,
            admin: self.token_for("adele", Role::Admin).await,
        }
    }

    /// Drafts a notice as `token`; the draft must be accepted.
    pub async fn draft_notice(&self, token: &str, body: &Value) -> Value {
        assert_valid("notice-draft", body);
        let (status, notice) = self
            .send_json(Method::POST, "/api/v1/notices", token, body)
            .await;
        assert_eq!(status, 201, "{notice}");
        assert_valid("notice", &notice);
        notice
    }

    /// Approves `notice` as `token`, confirming its status.
    pub async fn approve_notice(&self, token: &str, notice: &Value) -> (u16, Value) {
        let approval = json!({ "version": notice["version"], "confirm_status": notice["status"] });
        self.send_json(
            Method::POST,
            &format!("/api/v1/notices/{}/approve", notice["id"].as_str().unwrap()),
            token,
            &approval,
        )
        .await
    }

    /// Drafted by the operator, approved by the approver: published.
    pub async fn publish_notice(&self, team: &Team, body: &Value) -> Value {
        let draft = self.draft_notice(&team.operator, body).await;
        let (status, published) = self.approve_notice(&team.approver, &draft).await;
        assert_eq!(status, 200, "{published}");
        assert_valid("notice", &published);
        assert_eq!(published["state"], "published");
        published
    }

    /// Starts an update or cancel of a published notice and publishes it.
    pub async fn follow_up(&self, team: &Team, original: &Value, action: &str) -> Value {
        let path = format!(
            "/api/v1/notices/{}/{action}",
            original["id"].as_str().unwrap()
        );
        let (status, draft) = self
            .send_json(Method::POST, &path, &team.operator, &Value::Null)
            .await;
        assert_eq!(status, 201, "{draft}");
        let (status, published) = self.approve_notice(&team.approver, &draft).await;
        assert_eq!(status, 200, "{published}");
        published
    }

    pub async fn cap_xml(&self, notice: &Value) -> String {
        let path = format!("/cap/{}.xml", notice["id"].as_str().unwrap());
        let response = self
            .http
            .get(self.url(&path))
            .bearer_auth(self.operator_token().await)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/cap+xml")
        );
        let xml = response.text().await.unwrap();
        let certificate = self.data_dir.path().join(vedetta::notices::CAP_CERT_FILE);
        if notice["approver"].is_null() {
            assert!(
                !xml.contains("<Signature"),
                "an unapproved draft goes unsigned: {xml}"
            );
        } else {
            assert_signed_by(&xml, &certificate);
        }
        xml
    }

    /// The outbox's deliveries of `notice`, per channel and state, as its staff see them.
    pub async fn outbox_of(&self, notice: &Value) -> Value {
        let path = format!("/api/v1/notices/{}", notice["id"].as_str().unwrap());
        let (status, shown) = self.get_json(&path).await;
        assert_eq!(status, 200, "{shown}");
        shown["outbox"].clone()
    }

    /// The outbox of `notice` once `done` holds for it, or as it is after `TIMEOUT`.
    pub async fn wait_for_outbox(&self, notice: &Value, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + super::TIMEOUT;
        loop {
            let outbox = self.outbox_of(notice).await;
            if done(&outbox) || tokio::time::Instant::now() > deadline {
                return outbox;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let response = self.http.get(self.url(path)).send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }
}

/// Whether xmlsec1 (libxmlsec1, not the hub's code) accepts the enveloped signature of a CAP
/// document with `certificate` as the trusted one, and what it said.
pub fn xmlsec1_verifies(xml: &str, certificate: &Path) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alert.xml");
    std::fs::write(&file, xml).unwrap();
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

/// Every signed document the tests fetch goes through xmlsec1.
pub fn assert_signed_by(xml: &str, certificate: &Path) {
    let (verified, said) = xmlsec1_verifies(xml, certificate);
    assert!(
        verified,
        "xmlsec1 refuses the CAP signature:\n{said}\n{xml}"
    );
}

/// Validates a CAP document with xmllint against the OASIS CAP 1.2 schema.
pub fn assert_valid_cap(xml: &str) {
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/schemas/cap/cap12.xsd");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alert.xml");
    std::fs::write(&file, xml).unwrap();
    let output = Command::new("xmllint")
        .arg("--noout")
        .arg("--nonet")
        .arg("--schema")
        .arg(&xsd)
        .arg(&file)
        .output()
        .expect("xmllint is installed (apt-get install libxml2-utils)");
    assert!(
        output.status.success(),
        "CAP does not validate:\n{}\n{xml}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Verifies an Ed25519 signature with OpenSSL, an implementation independent of the hub's.
pub fn openssl_verifies(public_key_pem: &str, payload: &[u8], signature: &[u8]) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let (key, data, sig) = (
        dir.path().join("key.pem"),
        dir.path().join("payload"),
        dir.path().join("sig"),
    );
    std::fs::write(&key, public_key_pem).unwrap();
    std::fs::write(&data, payload).unwrap();
    std::fs::write(&sig, signature).unwrap();
    Command::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-rawin", "-inkey"])
        .arg(&key)
        .arg("-in")
        .arg(&data)
        .arg("-sigfile")
        .arg(&sig)
        .output()
        .expect("openssl is installed")
        .status
        .success()
}
