//! What benchmarks that drive the hub through its API share: staff tokens, one Actual notice,
//! the process's resident memory, and the moment a notice commits.

#![allow(dead_code, reason = "each benchmark uses part of it")]

use std::time::Instant;

use serde_json::{Value, json};
use vedetta::auth::Role;

pub struct Tokens {
    pub admin: String,
    pub operator: String,
    pub approver: String,
}

impl Tokens {
    pub async fn make(app: &vedetta::app::RunningApp) -> Tokens {
        let accounts = &app.hub().accounts;
        let mut tokens = Vec::new();
        for (name, role) in [
            ("adele", Role::Admin),
            ("olga", Role::Operator),
            ("aldo", Role::Approver),
        ] {
            accounts
                .add_user("bench", name, role, "correct horse battery staple")
                .await
                .unwrap();
            tokens.push(
                accounts
                    .login(None, name, "correct horse battery staple")
                    .await
                    .unwrap()
                    .token,
            );
        }
        let approver = tokens.pop().unwrap();
        let operator = tokens.pop().unwrap();
        Tokens {
            admin: tokens.pop().unwrap(),
            operator,
            approver,
        }
    }
}

/// An Actual, Immediate, Severe notice for the demo's Monteverde.
pub fn notice() -> Value {
    json!({
        "status": "Actual", "category": ["Met"], "urgency": "Immediate", "severity": "Severe", "certainty": "Likely",
        "expires": (chrono::Utc::now() + chrono::Duration::hours(6)).to_rfc3339(),
        "info": { "it": { "event": "Allerta idraulica", "headline": "Allerta rossa per piena del Reno",
                          "description": "Il livello del fiume supera la soglia di guardia.",
                          "instruction": "Allontanarsi dagli argini e salire ai piani alti." } },
        "area": { "zones": ["demo-001"] }
    })
}

/// Drafts `body` as the operator and approves it as the approver; returns when it committed
/// (the writer publishes the event right after COMMIT, and a thread of its own notes when, so
/// a busy runtime cannot delay the mark).
pub async fn publish(
    client: &reqwest::Client,
    base: &str,
    tokens: &Tokens,
    hub: &vedetta::hub::Hub,
    body: &Value,
) -> Instant {
    let draft: Value = client
        .post(format!("{base}/api/v1/notices"))
        .bearer_auth(&tokens.operator)
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let approve = json!({ "version": draft["version"], "confirm_status": body["status"] });
    let url = format!(
        "{base}/api/v1/notices/{}/approve",
        draft["id"].as_str().unwrap()
    );
    let mut committed_events = hub.events.subscribe_notices();
    let commit = std::thread::spawn(move || {
        let _ = committed_events.blocking_recv();
        Instant::now()
    });
    let answer = client
        .post(url)
        .bearer_auth(&tokens.approver)
        .json(&approve)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    commit.join().unwrap()
}

/// Resident memory of this process, in MB.
pub fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kb| kb / 1000.0)
}

/// Samples the resident memory every 50 ms until the handle is aborted; the peak so far.
pub fn sample_peak_rss() -> (
    tokio::task::JoinHandle<()>,
    std::sync::Arc<std::sync::Mutex<f64>>,
) {
    let peak = std::sync::Arc::new(std::sync::Mutex::new(rss_mb()));
    let sampling = tokio::spawn({
        let peak = peak.clone();
        async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                let mut peak = peak.lock().unwrap();
                *peak = peak.max(rss_mb());
            }
        }
    });
    (sampling, peak)
}
