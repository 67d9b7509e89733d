//! Part 3, notice fan-out over MQTT: 10,000 subscribers of one zone's notices
//! (`<prefix>/notices/<zone>/+`, QoS 1). Each round the hub publishes a signed notice on
//! approval (drafted by an operator over HTTP beforehand, approved over HTTP by an approver),
//! timed from the approval request to the last subscriber's receipt; then `mosquitto_pub`
//! publishes the same bytes (QoS 1, retained) on the topic of a notice in force, timed from its
//! start to the last receipt. The two alternate within each round.

use std::process::Command;
use std::time::Duration;

use reqwest::Client;
use serde_json::{Value, json};
use tokio::runtime::Runtime;
use vedetta::app::RunningApp;
use vedetta::auth::Role;
use vedetta::notices::Interest;

use crate::broker::Broker;
use crate::device::PREFIX;
use crate::subscribers::{self, Subscribers};
use crate::{hub, millis, now_ns, percentile};

const SUBSCRIBERS: usize = 10_000;
const WARMUP_ROUNDS: usize = 3;
const ROUNDS: usize = 20;
/// Monteverde: the notices cover it, and the subscribers follow it.
const ZONE: &str = "demo-001";

pub fn run(runtime: &Runtime) {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let app = runtime.block_on(hub::start_taking_reports(
        hub::mqtt_config(dir.path(), &broker),
        &broker,
    ));
    let staff = runtime.block_on(Staff::log_in(&app));
    // A notice in force before the subscribers come: `mosquitto_pub` sends its exact bytes on
    // its topic, so the hub, which hears it back, finds it right and leaves it.
    let probe = runtime.block_on(staff.draft());
    let probe = runtime.block_on(staff.approve(&probe));
    let topic = format!(
        "{PREFIX}/notices/{ZONE}/{}",
        probe["thread_id"].as_str().unwrap()
    );
    let frame = runtime.block_on(last_frame(&app));
    let frame_file = dir.path().join("notice-frame.json");
    std::fs::write(&frame_file, &frame).unwrap();
    let drafts: Vec<Value> = (0..WARMUP_ROUNDS + ROUNDS)
        .map(|_| runtime.block_on(staff.draft()))
        .collect();
    println!(
        "\n== notice fan-out over MQTT: one signed {}-byte notice (QoS 1, retained) to {SUBSCRIBERS} \
         subscribers of {PREFIX}/notices/{ZONE}/+ in {} processes, {ROUNDS} rounds after {WARMUP_ROUNDS}",
        frame.len(),
        subscribers::PROCESSES,
    );
    let connecting = std::time::Instant::now();
    let mut subscribers = Subscribers::spawn(
        broker.port(),
        SUBSCRIBERS,
        &format!("{PREFIX}/notices/{ZONE}/+"),
    );
    println!(
        "subscribers connected and subscribed in {:.1} s; broker resident memory {:.0} MB",
        connecting.elapsed().as_secs_f64(),
        broker.resident_bytes() as f64 / 1e6
    );

    let (mut hub_times, mut pub_times) = (Vec::new(), Vec::new());
    for (round, draft) in drafts.iter().enumerate() {
        let asked = now_ns();
        runtime.block_on(staff.approve(draft));
        let hub_time = elapsed_until(asked, subscribers.round());

        let started = now_ns();
        let status = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &broker.port().to_string()])
            .args([
                "-i",
                "bench-mosquitto-pub",
                "-q",
                "1",
                "-r",
                "-t",
                &topic,
                "-f",
            ])
            .arg(&frame_file)
            .status()
            .expect("mosquitto_pub is installed (apt-get install mosquitto-clients)");
        assert!(status.success(), "mosquitto_pub failed");
        let pub_time = elapsed_until(started, subscribers.round());
        if round >= WARMUP_ROUNDS {
            hub_times.push(hub_time);
            pub_times.push(pub_time);
        }
    }
    drop(subscribers);
    runtime.block_on(app.shutdown()).unwrap();

    println!(
        "{:<42} {:>8} {:>8} {:>8}",
        "peer", "p50 ms", "p99 ms", "min ms"
    );
    for (name, times) in [
        ("vedetta hub (approve request -> last)", &mut hub_times),
        ("mosquitto_pub (process start -> last)", &mut pub_times),
    ] {
        let min = times.iter().min().copied().unwrap_or_default();
        println!(
            "{name:<42} {:>8.2} {:>8.2} {:>8.2}",
            millis(percentile(times, 0.5)),
            millis(percentile(times, 0.99)),
            millis(min)
        );
    }
    println!(
        "hub/mosquitto_pub p50 = {:.2} (target <= 1.1)",
        percentile(&mut hub_times, 0.5).as_secs_f64()
            / percentile(&mut pub_times, 0.5).as_secs_f64()
    );
}

fn elapsed_until(start_ns: u128, end_ns: u128) -> Duration {
    Duration::from_nanos(end_ns.saturating_sub(start_ns) as u64)
}

/// The bytes of the last notice event, as the hub published them.
async fn last_frame(app: &RunningApp) -> Vec<u8> {
    let owed = app
        .hub()
        .notices
        .owed(Interest::Everything, Some(0))
        .await
        .unwrap();
    owed.events.last().unwrap().frame.clone()
}

/// An operator who drafts and an approver who approves, over the HTTP API.
struct Staff {
    http: Client,
    base: String,
    operator: String,
    approver: String,
}

impl Staff {
    async fn log_in(app: &RunningApp) -> Staff {
        Staff {
            http: Client::new(),
            base: format!("http://{}/api/v1/notices", app.http_addr()),
            operator: hub::staff_token(app, "olga", Role::Operator).await,
            approver: hub::staff_token(app, "aldo", Role::Approver).await,
        }
    }

    /// A draft of `tests/hub/support/notices.rs::notice_body` for the zone.
    async fn draft(&self) -> Value {
        let body = json!({
            "status": "Test", "category": ["Met"],
            "urgency": "Immediate", "severity": "Severe", "certainty": "Likely",
            "expires": (chrono::Utc::now() + chrono::Duration::hours(6)).to_rfc3339(),
            "contact": "Sala operativa 051 000000",
            "info": {
                "it": { "event": "Allerta idraulica", "headline": "Allerta rossa per piena del Reno",
                        "description": "Il livello del fiume supera la soglia di guardia.",
                        "instruction": "Allontanarsi dagli argini e salire ai piani alti." },
                "en": { "event": "Flood warning", "headline": "Red alert: Reno river in flood",
                        "description": "The river is above the warning level.",
                        "instruction": "Keep away from the banks and move upstairs." }
            },
            "area": { "zones": [ZONE] }
        });
        self.send(&self.base, &self.operator, &body, 201).await
    }

    /// Approves `draft`; returns the published notice.
    async fn approve(&self, draft: &Value) -> Value {
        let url = format!("{}/{}/approve", self.base, draft["id"].as_str().unwrap());
        let approval = json!({ "version": draft["version"], "confirm_status": draft["status"] });
        let published = self.send(&url, &self.approver, &approval, 200).await;
        assert_eq!(published["state"], "published", "{published}");
        published
    }

    async fn send(&self, url: &str, token: &str, body: &Value, expect: u16) -> Value {
        let response = self
            .http
            .post(url)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap();
        assert_eq!(status, expect, "{url}: {answer}");
        answer
    }
}
