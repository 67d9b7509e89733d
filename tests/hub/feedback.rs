//! Every status change goes back to the reporter on the channel the report came from, and
//! never an internal note.

use serde_json::{Value, json};

use crate::support::{Broker, Device, MONTEVERDE, TestApp, WsClient, assert_valid, report, until};

const SECRET: &str = "interno: il segnalante sembra confuso";

fn change_with_notes(status: &str, public: &str) -> Value {
    json!({ "status": status, "public_note": public, "internal_note": SECRET })
}

fn ws_report(client_ref: &str, device: Option<&str>) -> Value {
    let mut body = report(client_ref, MONTEVERDE);
    match device {
        Some(device) => body["device_id"] = json!(device),
        None => {
            body.as_object_mut().unwrap().remove("device_id");
        }
    }
    body
}

#[tokio::test]
async fn a_websocket_reporter_hears_every_status_change_and_never_an_internal_note() {
    let app = TestApp::spawn().await;
    let mut citizen = WsClient::connect(&app.ws_url()).await;
    let ack = citizen.report(&ws_report("ws-f1", None)).await;
    let id = ack["report"]["id"].as_str().unwrap().to_owned();

    app.change(&id, change_with_notes("acknowledged", "Presa in carico"))
        .await;
    let first = citizen.next_text().await;
    app.change(&id, change_with_notes("resolved", "Risolto, grazie"))
        .await;
    let second = citizen.next_text().await;

    for text in [&first, &second] {
        assert!(!text.contains(SECRET), "an internal note leaked: {text}");
        assert_valid("report-update", &serde_json::from_str(text).unwrap());
    }
    let second: Value = serde_json::from_str(&second).unwrap();
    assert_eq!(second["report_id"], id.as_str());
    assert_eq!(second["client_ref"], "ws-f1");
    assert_eq!(second["status"], "resolved");
    assert_eq!(second["public_note"], "Risolto, grazie");
}

#[tokio::test]
async fn a_websocket_reporter_that_reconnects_gets_exactly_the_updates_it_missed() {
    let app = TestApp::spawn().await;
    let mut before = WsClient::connect(&app.ws_url()).await;
    let with_device = before.report(&ws_report("ws-f2", Some("app-77"))).await;
    let without_device = before.report(&ws_report("ws-f3", None)).await;
    let (a, b) = (
        with_device["report"]["id"].as_str().unwrap().to_owned(),
        without_device["report"]["id"].as_str().unwrap().to_owned(),
    );
    app.move_to(&a, "acknowledged").await;
    let seen = before.next_frame().await;
    drop(before);

    app.change(&a, change_with_notes("in_progress", "Squadra in arrivo"))
        .await;
    app.move_to(&b, "acknowledged").await;
    app.move_to(&a, "resolved").await;
    let mut after = WsClient::connect(&app.ws_url()).await;
    let tokens = json!([
        with_device["report"]["follow_token"],
        without_device["report"]["follow_token"]
    ]);
    let (missed, following) = after
        .follow(json!({ "tokens": tokens, "cursor": seen["cursor"] }))
        .await;

    let summary: Vec<(String, String)> = missed
        .iter()
        .map(|u| {
            (
                u["report_id"].as_str().unwrap().to_owned(),
                u["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (a.clone(), "in_progress".to_owned()),
            (b.clone(), "acknowledged".to_owned()),
            (a.clone(), "resolved".to_owned())
        ]
    );
    assert_eq!(following["sent"], 3);
    assert_eq!(following["cursor"], missed[2]["cursor"]);
    let (again, _) = WsClient::connect(&app.ws_url())
        .await
        .follow(json!({ "tokens": tokens, "cursor": following["cursor"] }))
        .await;
    assert!(again.is_empty(), "nothing is sent twice: {again:?}");
    app.move_to(&b, "resolved").await;
    let live = after.next_frame().await;
    assert_eq!(
        (live["report_id"].as_str(), live["status"].as_str()),
        (Some(b.as_str()), Some("resolved"))
    );
}

#[tokio::test]
async fn a_cursor_from_beyond_the_newest_update_replays_the_reports_updates_and_misses_no_later_one()
 {
    let app = TestApp::spawn().await;
    let mut phone = WsClient::connect(&app.ws_url()).await;
    let ack = phone.report(&ws_report("ws-restored", None)).await;
    let id = ack["report"]["id"].as_str().unwrap().to_owned();
    app.move_to(&id, "acknowledged").await;
    drop(phone);

    // The phone kept a cursor from before the office restored an older backup.
    let mut phone = WsClient::connect(&app.ws_url()).await;
    let tokens = json!([ack["report"]["follow_token"]]);
    let (replayed, following) = phone
        .follow(json!({ "tokens": tokens, "cursor": 9_000_000_000_000_000_i64 }))
        .await;
    app.move_to(&id, "resolved").await;
    let live = phone.next_frame().await;

    assert_eq!(replayed.len(), 1, "{replayed:?}");
    assert_eq!(replayed[0]["status"], "acknowledged");
    assert_eq!(following["cursor"], replayed[0]["cursor"]);
    assert_eq!(
        (live["report_id"].as_str(), live["status"].as_str()),
        (Some(id.as_str()), Some("resolved"))
    );
}

#[tokio::test]
async fn an_mqtt_reporter_gets_updates_on_its_device_topic_even_while_it_was_offline() {
    let broker = Broker::start();
    let app = TestApp::spawn_with_broker(&broker).await;
    let prefix = app.config.mqtt_prefix();
    let persistent = |options: &mut rumqttc::MqttOptions| {
        options.set_clean_session(false);
    };
    let mut device = Device::connect_with(&broker, &prefix, "citizen-app-1", persistent).await;
    device
        .subscribe(&format!("{prefix}/devices/citizen-app-1/updates"))
        .await;
    let mut body = report("m-f1", MONTEVERDE);
    body.as_object_mut().unwrap().remove("device_id");
    device.publish_report(&body).await;
    let id = device.next_answer().await["report"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    device.disconnect().await;

    app.change(&id, change_with_notes("acknowledged", "Ricevuta"))
        .await;
    let mut back = Device::connect_with(&broker, &prefix, "citizen-app-1", persistent).await;
    let (topic, payload) = back.next_on("/updates").await;

    let text = String::from_utf8(payload).unwrap();
    assert_eq!(topic, format!("{prefix}/devices/citizen-app-1/updates"));
    assert!(!text.contains(SECRET));
    let update: Value = serde_json::from_str(&text).unwrap();
    assert_valid("report-update", &update);
    assert_eq!(
        (update["report_id"].as_str(), update["status"].as_str()),
        (Some(id.as_str()), Some("acknowledged"))
    );
    until("the broker's echo confirms the update", || {
        app.count_rows("SELECT count(*) FROM report_updates WHERE confirmed = 0") == 0
    })
    .await;
}

#[tokio::test]
async fn an_open311_reporter_sees_status_notes_and_the_expected_time_on_its_request() {
    let app = TestApp::spawn().await;
    let submitted: Value = app
        .http
        .post(app.url("/open311/v2/requests.json"))
        .form(&[
            ("service_code", "fallen_tree"),
            ("lat", "44.45"),
            ("long", "11.22"),
            ("description", "Albero sulla strada"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = submitted[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/open311/v2/requests/{id}.json");

    app.change(&id, change_with_notes("acknowledged", "Squadra allertata"))
        .await;
    let (_, open) = app.get_json_as(&path, None).await;
    app.change(&id, change_with_notes("resolved", "Albero rimosso"))
        .await;
    let (_, closed) = app.get_json_as(&path, None).await;

    assert_valid("open311-requests", &open);
    assert_eq!(open[0]["status"], "open");
    assert_eq!(open[0]["status_notes"], "Squadra allertata");
    assert!(open[0]["expected_datetime"].is_string());
    assert_eq!(open[0]["agency_responsible"], "Protezione civile - demo");
    assert_eq!(closed[0]["status"], "closed");
    assert_eq!(closed[0]["status_notes"], "Albero rimosso");
    assert!(closed[0]["updated_datetime"].is_string());
    assert!(
        closed[0]["expected_datetime"].is_null(),
        "a closed request expects nothing"
    );
    assert!(!closed.to_string().contains(SECRET));
}

#[tokio::test]
async fn a_reporter_of_a_fire_is_never_given_a_resolution_time_though_the_office_keeps_one() {
    let app = TestApp::spawn().await;
    let fire = app.report_of("h-fire", "fire", MONTEVERDE).await;
    let tree = app.report_of("h-tree", "fallen_tree", MONTEVERDE).await;

    for id in [&fire, &tree] {
        app.change(id, change_with_notes("acknowledged", "Squadra in arrivo"))
            .await;
    }
    let (fire_updates, tree_updates) = (app.updates_of(&fire).await, app.updates_of(&tree).await);
    let (_, fire_request) = app
        .get_json_as(&format!("/open311/v2/requests/{fire}.json"), None)
        .await;

    assert!(
        fire_updates[0].get("expected_at").is_none(),
        "someone may be in danger now: {}",
        fire_updates[0]
    );
    assert!(
        fire_request[0]["expected_datetime"].is_null(),
        "{fire_request}"
    );
    assert!(
        tree_updates[0]["expected_at"].is_string(),
        "{}",
        tree_updates[0]
    );
    assert!(
        app.report_view(&fire).await["resolve_due_at"].is_string(),
        "staff still see the office's own target"
    );
}

#[tokio::test]
async fn an_http_reporter_reads_what_it_was_told_by_report_id_without_internal_notes() {
    let app = TestApp::spawn().await;
    let id = app.report_of("h-f1", "flooding", MONTEVERDE).await;

    app.change(&id, change_with_notes("acknowledged", "Vista"))
        .await;
    app.change(&id, json!({ "internal_note": SECRET })).await;
    let updates = app.updates_of(&id).await;

    assert_eq!(
        updates.len(),
        1,
        "an internal note alone tells the reporter nothing"
    );
    assert_eq!(updates[0]["public_note"], "Vista");
    assert!(!json!(updates).to_string().contains(SECRET));
    assert_eq!(app.history_of(&id).await[1]["internal_note"], SECRET);
}

#[tokio::test]
async fn staff_watching_the_queue_see_new_reports_and_changes_live_with_internal_notes() {
    let app = TestApp::spawn().await;
    let mut anonymous = WsClient::connect(&app.ws_url()).await;
    let mut operator = WsClient::connect(&app.ws_url()).await;
    operator.auth(&app.operator_token().await).await;

    let refused = anonymous.watch().await;
    let watching = operator.watch().await;
    let id = app.report_of("q-1", "flooding", MONTEVERDE).await;
    let received = operator.next_of("report").await;
    app.change(&id, change_with_notes("acknowledged", "Vista"))
        .await;
    let changed = operator.next_of("report").await;

    assert_eq!(
        (refused["type"].as_str(), refused["error"].as_str()),
        (Some("error"), Some("unauthorized"))
    );
    assert_eq!(watching["type"], "watching");
    assert_eq!(
        (
            received["event"].as_str(),
            received["report"]["id"].as_str()
        ),
        (Some("received"), Some(id.as_str()))
    );
    assert_eq!(received["report"]["contact"]["email"], "maria@example.org");
    assert!(received["report"]["incident_id"].is_string());
    assert_eq!(changed["event"], "changed");
    assert_eq!(changed["report"]["status"], "acknowledged");
    assert_eq!(changed["change"]["internal_note"], SECRET);
}
