//! Field teams over a real Mosquitto: dispatch, device answers, presence and position.

use rumqttc::{LastWill, MqttOptions, QoS};
use serde_json::{Value, json};

use crate::support::{Broker, Device, MONTEVERDE, TestApp, WsClient, assert_valid, report};

async fn with_team(broker: &Broker, devices: &[&str]) -> TestApp {
    let app = TestApp::spawn_with_broker(broker).await;
    let body = json!({ "id": "squadra-1", "name": "Squadra Monteverde", "devices": devices });
    assert_valid("triage-requests#/$defs/team", &body);
    let token = app.operator_token().await;
    let (code, team) = app.post_as(&token, "/api/v1/teams", &body).await;
    assert_eq!(code, 200, "{team}");
    assert_valid("team", &team);
    app
}

/// A field tablet that follows its tasks.
async fn tablet(broker: &Broker, app: &TestApp, id: &str) -> Device {
    let prefix = app.config.mqtt_prefix();
    let mut device = Device::connect(broker, &prefix, id).await;
    device
        .subscribe(&format!("{prefix}/devices/{id}/tasks/+"))
        .await;
    device
}

async fn answer(device: &Device, task_id: &str, status: &str, note: Option<&str>) {
    let mut body = json!({ "task_id": task_id, "status": status });
    if let Some(note) = note {
        body["note"] = json!(note);
    }
    assert_valid("mqtt-task-answer", &body);
    device
        .publish_own("answers", body.to_string().into_bytes(), false)
        .await;
}

/// The next task message and its JSON (`Null` once it is cleared).
async fn next_task(device: &mut Device) -> (String, Value) {
    let (topic, payload) = device.next_on("/tasks/").await;
    if payload.is_empty() {
        return (topic, Value::Null);
    }
    let task: Value = serde_json::from_slice(&payload).unwrap();
    assert_valid("mqtt-task", &task);
    (topic, task)
}

#[tokio::test]
async fn a_dispatched_report_reaches_the_team_and_each_device_answer_moves_it_on() {
    let broker = Broker::start();
    let app = with_team(&broker, &["tab-1", "tab-2"]).await;
    let mut first = tablet(&broker, &app, "tab-1").await;
    let id = app.report_id(&report("d-1", MONTEVERDE)).await;
    let token = app.operator_token().await;

    let request = json!({ "team": "squadra-1", "note": "Portare le pompe" });
    assert_valid("triage-requests#/$defs/dispatch", &request);
    let (code, task) = app
        .post_as(&token, &format!("/api/v1/reports/{id}/dispatch"), &request)
        .await;
    assert_eq!(code, 201, "{task}");
    assert_valid("task", &task);
    let task_id = task["id"].as_str().unwrap();
    let (topic, sent) = next_task(&mut first).await;
    let late_joiner = tablet(&broker, &app, "tab-2").await;

    assert!(topic.ends_with(&format!("/devices/tab-1/tasks/{task_id}")));
    assert_eq!(sent["reports"][0]["id"], id.as_str());
    assert_eq!(sent["note"], "Portare le pompe");
    assert!(
        !sent.to_string().contains("maria@example.org"),
        "no reporter contact details"
    );
    assert_eq!(app.report_view(&id).await["status"], "acknowledged");

    let mut second = late_joiner;
    let (_, retained) = next_task(&mut second).await;
    assert_eq!(
        retained["task_id"], task_id,
        "the task waits for a device that joins later"
    );
    answer(&second, task_id, "accepted", Some("arriviamo in 10 minuti")).await;
    let (_, accepted) = next_task(&mut first).await;
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(app.report_view(&id).await["status"], "in_progress");

    answer(&first, task_id, "done", None).await;
    let (_, cleared) = next_task(&mut first).await;
    assert!(cleared.is_null(), "a done task is cleared");
    let resolved = app.report_view(&id).await;
    assert_eq!(resolved["status"], "resolved");
    let history = app.history_of(&id).await;
    let actors: Vec<&str> = history
        .iter()
        .map(|entry| entry["actor"].as_str().unwrap())
        .collect();
    assert_eq!(actors, ["olga", "device:tab-2", "device:tab-1"]);
    assert_eq!(history[1]["internal_note"], "arriviamo in 10 minuti");
    assert!(
        app.updates_of(&id)
            .await
            .iter()
            .all(|u| u.get("public_note").is_none())
    );
    assert_eq!(
        app.count_rows("SELECT count(*) FROM audit WHERE action IN ('dispatch', 'task.answer')"),
        3
    );
}

#[tokio::test]
async fn a_repeated_answer_changes_nothing_and_bad_answers_get_errors_on_the_inbox() {
    let broker = Broker::start();
    let app = with_team(&broker, &["tab-3"]).await;
    let mut device = tablet(&broker, &app, "tab-3").await;
    let outsider = Device::connect(&broker, &app.config.mqtt_prefix(), "tab-x").await;
    let mut outsider = outsider;
    let id = app.report_id(&report("d-2", MONTEVERDE)).await;
    let token = app.operator_token().await;
    let (_, task) = app
        .post_as(
            &token,
            &format!("/api/v1/reports/{id}/dispatch"),
            &json!({ "team": "squadra-1" }),
        )
        .await;
    let task_id = task["id"].as_str().unwrap();
    next_task(&mut device).await;

    answer(&device, task_id, "accepted", None).await;
    next_task(&mut device).await;
    answer(&device, task_id, "accepted", None).await;
    device
        .publish_own("answers", b"{not json".to_vec(), false)
        .await;
    let malformed = device.next_answer().await;
    answer(&device, "no-such-task", "done", None).await;
    let unknown = device.next_answer().await;
    answer(&outsider, task_id, "done", None).await;
    let not_theirs = outsider.next_answer().await;
    device
        .publish_own("position", br#"{"lat": 95, "lon": 11}"#.to_vec(), false)
        .await;
    let off_the_map = device.next_answer().await;

    assert_eq!(malformed["error"], "malformed_json");
    assert_eq!(
        (unknown["error"].as_str(), unknown["field"].as_str()),
        (Some("not_found"), Some("task_id"))
    );
    assert_eq!(not_theirs["error"], "forbidden");
    assert_eq!(off_the_map["field"], "lat");
    assert_eq!(app.report_view(&id).await["status"], "in_progress");
    assert_eq!(
        app.count_rows("SELECT count(*) FROM task_answers"),
        1,
        "the repeat was not stored"
    );
    assert_eq!(
        app.count_rows("SELECT count(*) FROM devices WHERE lat IS NOT NULL"),
        0
    );
}

#[tokio::test]
async fn dispatching_to_an_unknown_team_is_refused_and_nothing_changes() {
    let broker = Broker::start();
    let app = with_team(&broker, &["tab-4"]).await;
    let id = app.report_id(&report("d-3", MONTEVERDE)).await;
    let token = app.operator_token().await;

    let (code, refusal) = app
        .post_as(
            &token,
            &format!("/api/v1/reports/{id}/dispatch"),
            &json!({ "team": "nessuna" }),
        )
        .await;

    assert_eq!((code, refusal["field"].as_str()), (404, Some("team")));
    assert_eq!(app.report_view(&id).await["status"], "received");
    assert_eq!(app.count_rows("SELECT count(*) FROM tasks"), 0);
}

/// The first device frame on the staff queue that satisfies `wanted`. State and position
/// arrive on two topics, so their order is not fixed.
async fn device_frame(staff: &mut WsClient, wanted: impl Fn(&Value) -> bool) -> Value {
    loop {
        let frame = staff.next_of("device").await;
        if wanted(&frame["device"]) {
            return frame;
        }
    }
}

#[tokio::test]
async fn a_device_that_drops_off_becomes_lost_by_its_last_will() {
    let broker = Broker::start();
    let app = with_team(&broker, &["tab-5"]).await;
    let prefix = app.config.mqtt_prefix();
    let mut staff = WsClient::connect(&app.ws_url()).await;
    staff.auth(&app.operator_token().await).await;
    staff.watch().await;
    let state_topic = format!("{prefix}/devices/tab-5/state");
    let will = LastWill::new(&state_topic, r#"{"state":"lost"}"#, QoS::AtLeastOnce, true);
    let device = Device::connect_with(&broker, &prefix, "tab-5", |options: &mut MqttOptions| {
        options.set_last_will(will);
    })
    .await;

    let online = json!({ "state": "online" });
    assert_valid("mqtt-device-state", &online);
    device
        .publish_own("state", online.to_string().into_bytes(), true)
        .await;
    let position = json!({ "lat": 44.45, "lon": 11.22, "accuracy_m": 8.0 });
    assert_valid("mqtt-device-position", &position);
    device
        .publish_own("position", position.to_string().into_bytes(), true)
        .await;
    let online_here = device_frame(&mut staff, |device| {
        device["state"] == "online" && device["position"]["lat"] == 44.45
    })
    .await;
    drop(device);
    let lost = device_frame(&mut staff, |device| device["state"] == "lost").await;

    assert_eq!(online_here["device"]["device_id"], "tab-5");
    assert_eq!(
        lost["device"]["position"]["lon"], 11.22,
        "the last position stays"
    );
    let (_, listed) = app.get_json("/api/v1/devices").await;
    let listed = &listed["devices"][0];
    assert_valid("device", listed);
    assert_eq!(listed["state"], "lost");
    assert_eq!(listed["position"]["accuracy_m"], 8.0);
    assert_eq!(listed["teams"], json!(["squadra-1"]));
    let (unknown, _) = app.get_json("/api/v1/devices/tab-404").await;
    assert_eq!(unknown, 404);
}
