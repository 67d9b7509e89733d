//! A notice whose webhook delivery was still waiting when the real binary was killed with
//! SIGKILL is delivered once after the restart: the outbox row committed with the notice.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::PASSWORD;
use crate::support::child::{ChildHub, http_client, users_cli};
use crate::support::notices::{notice_body, zones};
use crate::support::tools::{free_port, webhook_receiver};

async fn login(client: &reqwest::Client, base: &str, name: &str) -> String {
    let answer: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "name": name, "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["token"].as_str().expect("a token").to_owned()
}

async fn post(client: &reqwest::Client, url: String, token: &str, body: &Value) -> Value {
    let answer = client
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
    answer.json().await.unwrap()
}

#[tokio::test]
async fn a_delivery_waiting_when_the_hub_is_killed_arrives_once_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    for (name, role) in [
        ("adele", "admin"),
        ("olga", "operator"),
        ("aldo", "approver"),
    ] {
        let (added, out) = users_cli(
            dir.path(),
            &["add", name, "--role", role],
            &format!("{PASSWORD}\n"),
        );
        assert!(added, "{out}");
    }
    let mut hub = ChildHub::start(dir.path());
    let (client, base) = (http_client(), format!("http://{}", hub.addr()));
    let (admin, operator, approver) = (
        login(&client, &base, "adele").await,
        login(&client, &base, "olga").await,
        login(&client, &base, "aldo").await,
    );
    let port = free_port();
    let hook =
        json!({ "url": format!("http://127.0.0.1:{port}/hook"), "allow_private_network": true });
    let webhook = post(&client, format!("{base}/api/v1/webhooks"), &admin, &hook).await;
    let draft = post(
        &client,
        format!("{base}/api/v1/notices"),
        &operator,
        &notice_body("Actual", zones(&["demo-001"])),
    )
    .await;
    let approval = json!({ "version": draft["version"], "confirm_status": "Actual" });
    let notice_url = format!("{base}/api/v1/notices/{}", draft["id"].as_str().unwrap());
    post(
        &client,
        format!("{notice_url}/approve"),
        &approver,
        &approval,
    )
    .await;

    hub.kill9();
    let hub = ChildHub::start(dir.path());
    let mut receiver = webhook_receiver(port).await;
    let control = format!("http://127.0.0.1:{port}/control");
    client
        .post(control)
        .json(&json!({ "secret": webhook["secret"] }))
        .send()
        .await
        .unwrap();

    // The first attempt failed, or never happened before the kill: either way the row waits,
    // and the retry (5 s ± 20% after a failure) or the first attempt comes after the restart.
    let got = receiver
        .collect(1, Duration::from_secs(30), |line| {
            line.get("verified").is_some()
        })
        .await;
    assert_eq!(got.len(), 1, "{}", hub.log_tail());
    assert_eq!(got[0]["verified"], true);
    assert_eq!(got[0]["notice_id"], draft["id"]);
    assert!(
        receiver.drain(Duration::from_secs(2)).await.is_empty(),
        "delivered once"
    );
}
