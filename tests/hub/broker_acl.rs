//! The office broker as `ops/` configures it: logins, and the ACL that keeps each device to its
//! own topics while the hub works under the whole prefix.

use serde_json::Value;
use vedetta::channels::mqtt::BrokerState;

use crate::support::{Broker, Device, MONTEVERDE, TIMEOUT, TestApp, report};

const HUB_PASSWORD: &str = "hub secret";

fn device_report(client_ref: &str) -> Value {
    let mut body = report(client_ref, MONTEVERDE);
    body.as_object_mut().unwrap().remove("device_id");
    body
}

async fn tablet(broker: &Broker, id: &str) -> Device {
    Device::connect_with(broker, "vedetta/demo", id, |options| {
        options.set_credentials(id, format!("{id} secret"));
    })
    .await
}

#[tokio::test]
async fn with_the_office_acl_a_device_can_neither_report_as_another_nor_read_its_answers() {
    let broker = Broker::start_secured(&[
        ("vedetta-hub", HUB_PASSWORD),
        ("tablet-1", "tablet-1 secret"),
        ("tablet-2", "tablet-2 secret"),
    ]);
    let app = TestApp::spawn_with(|config| {
        config.mqtt.enabled = true;
        config.mqtt.url = format!(
            "mqtt://vedetta-hub:hub%20secret@127.0.0.1:{}",
            broker.port()
        );
    })
    .await;
    let mut link = app.running().hub().mqtt.state.clone();
    tokio::time::timeout(
        TIMEOUT,
        link.wait_for(|state| *state == BrokerState::Connected),
    )
    .await
    .expect("the hub logs in to the secured broker")
    .unwrap();
    let mut honest = tablet(&broker, "tablet-1").await;
    let mut spoofer = tablet(&broker, "tablet-2").await;
    spoofer
        .subscribe("vedetta/demo/devices/tablet-1/inbox")
        .await;

    // Denied by the ACL: the broker drops it, so the hub never sees it.
    spoofer
        .publish_to("vedetta/demo/reports/tablet-1", &device_report("forged-1"))
        .await;
    honest.publish_report(&device_report("real-1")).await;
    let honest_ack = honest.next_answer().await;
    spoofer.publish_report(&device_report("own-1")).await;
    let (topic, spoofer_ack) = spoofer.next_message().await;

    assert_eq!(honest_ack["type"], "ack");
    assert_eq!(honest_ack["client_ref"], "real-1");
    assert_eq!(
        topic, "vedetta/demo/devices/tablet-2/inbox",
        "tablet-2 read nothing of tablet-1's inbox before its own answer"
    );
    assert_eq!(spoofer_ack["client_ref"], "own-1");
    assert_eq!(
        app.stored_reports(),
        2,
        "the forged report was never stored"
    );
    assert_eq!(
        app.count_rows("SELECT count(*) FROM reports WHERE client_ref = 'forged-1'"),
        0
    );
}
