//! MQTT intake after a backlog: reports queued at the broker while the hub was away are all
//! stored and answered, and intake stays live afterwards.

use std::time::Duration;

use serde_json::Value;
use vedetta::channels::mqtt::BrokerState;

use crate::support::{Broker, Device, MONTEVERDE, TIMEOUT, TestApp, assert_valid, report};

const DEVICES: usize = 20;
const REPORTS_PER_DEVICE: usize = 150;
/// Storing and answering a 3,000-report backlog takes a few seconds; this is the bound.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(90);

fn device_report(client_ref: &str) -> Value {
    let mut body = report(client_ref, MONTEVERDE);
    body.as_object_mut().unwrap().remove("device_id");
    body
}

async fn connected(app: &TestApp) {
    let mut state = app.running().hub().mqtt.state.clone();
    tokio::time::timeout(
        TIMEOUT,
        state.wait_for(|now| *now == BrokerState::Connected),
    )
    .await
    .expect("the hub connects to the broker")
    .unwrap();
}

/// A device with a persistent session, so that answers wait for it at the broker too.
async fn persistent_device(broker: &Broker, prefix: &str, id: &str) -> Device {
    Device::connect_with(broker, prefix, id, |options| {
        options.set_clean_session(false);
    })
    .await
}

/// The device's next `count` answers; the whole backlog bounds the wait, not each answer.
async fn answers(device: &mut Device, count: usize) -> Vec<Value> {
    let mut answers = Vec::with_capacity(count);
    for _ in 0..count {
        let (_, payload) = device.next_raw_within(DRAIN_TIMEOUT).await;
        let answer: Value = serde_json::from_slice(&payload).expect("a JSON answer");
        assert_valid("mqtt-inbox", &answer);
        answers.push(answer);
    }
    answers
}

/// Waits until `/readyz` says the hub is ready and MQTT intake is not stuck.
async fn ready(app: &TestApp) -> Value {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let (status, readiness) = app.get_json("/readyz").await;
        assert_valid("readiness", &readiness);
        if status == 200 && readiness["mqtt_intake"]["stalled"] == false {
            return readiness;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not ready: {readiness}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_queued_while_the_hub_was_away_is_stored_answered_and_intake_stays_live() {
    let broker = Broker::start();
    let mut app = TestApp::spawn_with_broker(&broker).await;
    connected(&app).await;
    let prefix = app.config.mqtt_prefix();
    app.stop().await;
    let mut devices = Vec::new();
    for n in 0..DEVICES {
        let mut device = persistent_device(&broker, &prefix, &format!("tablet-{n}")).await;
        for r in 0..REPORTS_PER_DEVICE {
            device
                .publish_report(&device_report(&format!("b-{r}")))
                .await;
        }
        device.broker_has(REPORTS_PER_DEVICE).await;
        devices.push(device);
    }

    app.restart().await;
    let draining = async {
        for device in &mut devices {
            let answered = answers(device, REPORTS_PER_DEVICE).await;
            assert!(answered.iter().all(|answer| answer["type"] == "ack"));
        }
    };
    tokio::time::timeout(DRAIN_TIMEOUT, draining)
        .await
        .expect("every device got an answer for every queued report");

    assert_eq!(app.stored_reports(), (DEVICES * REPORTS_PER_DEVICE) as i64);
    devices[0]
        .publish_report(&device_report("after-the-backlog"))
        .await;
    let live = devices[0].next_answer().await;
    assert_eq!(
        (live["type"].as_str(), live["client_ref"].as_str()),
        (Some("ack"), Some("after-the-backlog"))
    );
    let readiness = ready(&app).await;
    assert_eq!(readiness["mqtt"], "connected");
}
