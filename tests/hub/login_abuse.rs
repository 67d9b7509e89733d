//! Logins under attack: failures throttled per address and per name from that address, and
//! password checks bounded so that a flood neither locks staff out nor takes the memory.

use std::net::IpAddr;

use futures_util::future::join_all;
use serde_json::{Value, json};
use vedetta::auth::Role;

use crate::support::child::{ChildHub, choose_tls_provider, users_cli};
use crate::support::{PASSWORD, TestApp, assert_valid};

/// A client whose connections come from `source`, one of the loopback's many addresses.
fn client_from(source: &str) -> reqwest::Client {
    choose_tls_provider();
    reqwest::Client::builder()
        .local_address(source.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn login_from(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    password: &str,
) -> (u16, Option<String>, Value) {
    let response = client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "name": name, "password": password }))
        .send()
        .await
        .expect("POST /api/v1/auth/login");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().to_owned());
    (
        status,
        retry_after,
        response.json().await.expect("a JSON body"),
    )
}

#[tokio::test]
async fn failed_logins_for_a_name_from_one_address_never_lock_it_out_from_another() {
    let app = TestApp::spawn().await;
    app.token_for("olga", Role::Operator).await;
    let attacker = client_from("127.0.0.2");
    let olga = client_from("127.0.0.3");

    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(
            login_from(&app, &attacker, "olga", "a wrong guess here")
                .await
                .0,
        );
    }
    let (throttled, retry_after, error) = login_from(&app, &attacker, "olga", PASSWORD).await;
    let (from_her_desk, _, login) = login_from(&app, &olga, "olga", PASSWORD).await;

    assert_eq!(&statuses[..10], &[401; 10]);
    assert_eq!(&statuses[10..], &[429, 429]);
    assert_eq!(
        throttled, 429,
        "even the right password waits at the guessing address"
    );
    assert!(retry_after.is_some_and(|secs| secs.parse::<u64>().unwrap() >= 1));
    assert_valid("error", &error);
    assert_eq!(from_her_desk, 200, "{login}");
}

#[tokio::test]
async fn guesses_sent_all_at_once_get_no_more_tries_than_guesses_sent_one_by_one() {
    let app = TestApp::spawn().await;
    app.token_for("aldo", Role::Approver).await;
    let attacker = client_from("127.0.0.5");

    let guesses: Vec<String> = (0..40).map(|n| format!("guess number {n}")).collect();
    let burst = guesses
        .iter()
        .map(|guess| login_from(&app, &attacker, "aldo", guess));
    let statuses: Vec<u16> = join_all(burst)
        .await
        .into_iter()
        .map(|answer| answer.0)
        .collect();

    let count = |status: u16| statuses.iter().filter(|s| **s == status).count();
    // A check found busy (503) is no failure, so it lets one more guess be tried.
    let (wrong, busy, throttled) = (count(401), count(503), count(429));
    assert_eq!((wrong, busy + throttled), (10, 30), "{statuses:?}");
}

#[tokio::test]
async fn right_logins_sent_all_at_once_from_one_address_all_log_in() {
    let app = TestApp::spawn().await;
    app.token_for("aldo", Role::Approver).await;
    let shift_behind_one_nat = client_from("127.0.0.6");

    let logins = (0..40).map(|_| login_from(&app, &shift_behind_one_nat, "aldo", PASSWORD));
    let statuses: Vec<u16> = join_all(logins)
        .await
        .into_iter()
        .map(|answer| answer.0)
        .collect();

    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

#[tokio::test]
async fn an_address_guessing_many_names_is_throttled_whatever_the_names() {
    let app = TestApp::spawn().await;
    let guesser = client_from("127.0.0.4");

    let mut statuses = Vec::new();
    for n in 0..32 {
        let name = format!("guess{n}");
        statuses.push(
            login_from(&app, &guesser, &name, "a wrong guess here")
                .await
                .0,
        );
    }

    assert!(
        statuses[..30].iter().all(|status| *status == 401),
        "{statuses:?}"
    );
    assert_eq!(&statuses[30..], &[429, 429]);
}

#[tokio::test]
async fn a_login_flood_is_answered_busy_or_throttled_and_a_right_password_still_logs_in() {
    let app = TestApp::spawn_with(|config| config.auth.password_check_wait_secs = 0).await;
    app.token_for("aldo", Role::Approver).await;
    let clients: Vec<reqwest::Client> = (0..10)
        .map(|n| client_from(&format!("127.0.1.{}", n + 1)))
        .collect();

    let flood = (0..100).map(|n| login_from(&app, &clients[n % 10], "aldo", "not his password"));
    let answers = join_all(flood).await;
    let (status, _, _) = login_from(&app, &client_from("127.0.2.1"), "aldo", PASSWORD).await;

    for (status, retry_after, body) in &answers {
        assert!(matches!(status, 401 | 429 | 503), "{status} {body}");
        assert_valid("error", body);
        if *status == 503 {
            assert_eq!(body["error"], "unavailable");
            assert!(retry_after.is_some(), "a busy answer says when to retry");
        }
    }
    assert!(
        answers.iter().any(|(status, _, _)| *status == 503),
        "with no wait, 100 checks at once cannot all be served"
    );
    assert_eq!(status, 200, "the flood is over and aldo logs in");
}

#[tokio::test]
async fn a_flood_of_wrong_logins_leaves_the_real_binarys_memory_flat() {
    let dir = tempfile::tempdir().unwrap();
    let (added, out) = users_cli(dir.path(), &["add", "aldo", "--role", "approver"], PASSWORD);
    assert!(added, "{out}");
    let hub = ChildHub::start(dir.path());
    let url = format!("http://{}/api/v1/auth/login", hub.addr());
    let clients: Vec<reqwest::Client> = (0..10)
        .map(|n| client_from(&format!("127.0.3.{}", n + 1)))
        .collect();
    let before_kb = hub.status_kb("VmRSS");

    let flood = (0..100).map(|n| {
        clients[n % 10]
            .post(&url)
            .json(&json!({ "name": "aldo", "password": format!("guess number {n}") }))
            .send()
    });
    let statuses: Vec<u16> = join_all(flood)
        .await
        .into_iter()
        .map(|answer| answer.expect("an answer").status().as_u16())
        .collect();
    let peak_kb = hub.status_kb("VmHWM");
    let right = client_from("127.0.4.1")
        .post(&url)
        .json(&json!({ "name": "aldo", "password": PASSWORD }))
        .send()
        .await
        .unwrap();

    assert!(
        statuses.iter().all(|status| matches!(status, 401 | 503)),
        "{statuses:?}"
    );
    // Two checks at a time hold 2 x 19 MiB; a hundred at once held 1.9 GB before.
    let grown_mb = peak_kb.saturating_sub(before_kb) / 1024;
    println!("login flood: RSS {before_kb} kB before, peak {peak_kb} kB, grew {grown_mb} MB");
    assert!(grown_mb < 100, "the peak grew by {grown_mb} MB");
    assert_eq!(right.status(), 200);
}
