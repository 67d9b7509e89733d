//! The four-eyes workflow: who may draft and approve, what is refused, and the audit trail.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::notices::{notice_body, zones};
use crate::support::{TestApp, assert_valid};

fn monteverde() -> Value {
    notice_body("Actual", zones(&["demo-001"]))
}

#[tokio::test]
async fn an_author_cannot_approve_their_own_notice_and_another_approver_can() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let draft = app.draft_notice(&team.approver, &monteverde()).await;

    let (own_status, own) = app.approve_notice(&team.approver, &draft).await;
    let (other_status, published) = app.approve_notice(&team.second_approver, &draft).await;

    assert_eq!(own_status, 403);
    assert_valid("error", &own);
    assert_eq!(own["error"], "four_eyes");
    assert_eq!(other_status, 200, "{published}");
    assert_eq!(
        (published["state"].as_str(), published["approver"].as_str()),
        (Some("published"), Some("bice"))
    );
}

#[tokio::test]
async fn whoever_edited_a_draft_cannot_approve_it_either() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let draft = app.draft_notice(&team.operator, &monteverde()).await;
    let edit = json!({ "version": draft["version"], "content": monteverde() });
    let path = format!("/api/v1/notices/{}", draft["id"].as_str().unwrap());
    let (status, edited) = app
        .send_json(Method::PUT, &path, &team.approver, &edit)
        .await;
    assert_eq!(status, 200, "{edited}");

    let (refused, error) = app.approve_notice(&team.approver, &edited).await;

    assert_eq!((refused, error["error"].as_str()), (403, Some("four_eyes")));
    assert_eq!(edited["editors"], json!(["olga", "aldo"]));
}

#[tokio::test]
async fn each_role_is_refused_what_it_may_not_do() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let draft = app.draft_notice(&team.operator, &monteverde()).await;

    let (viewer_drafts, viewer_error) = app
        .send_json(Method::POST, "/api/v1/notices", &team.viewer, &monteverde())
        .await;
    let (admin_drafts, _) = app
        .send_json(Method::POST, "/api/v1/notices", &team.admin, &monteverde())
        .await;
    let (operator_approves, _) = app.approve_notice(&team.operator, &draft).await;
    let (operator_reads_audit, _) = app.get_json_as("/api/v1/audit", Some(&team.operator)).await;
    let (approver_lists_users, _) = app.get_json_as("/api/v1/users", Some(&team.approver)).await;
    let (anonymous_drafts, anonymous_error) = {
        let response = app
            .http
            .post(app.url("/api/v1/notices"))
            .json(&monteverde())
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json::<Value>().await.unwrap(),
        )
    };

    assert_eq!(
        (
            viewer_drafts,
            admin_drafts,
            operator_approves,
            operator_reads_audit,
            approver_lists_users
        ),
        (403, 403, 403, 403, 403)
    );
    assert_eq!(viewer_error["error"], "forbidden");
    assert!(
        viewer_error["message"]
            .as_str()
            .unwrap()
            .contains("operator or approver role"),
        "{viewer_error}"
    );
    assert_eq!(
        (anonymous_drafts, anonymous_error["error"].as_str()),
        (401, Some("unauthorized"))
    );
    let (viewer_reads, notice) = app
        .get_json_as(
            &format!("/api/v1/notices/{}", draft["id"].as_str().unwrap()),
            Some(&team.viewer),
        )
        .await;
    assert_eq!(
        (viewer_reads, notice["state"].as_str()),
        (200, Some("draft"))
    );
}

#[tokio::test]
async fn approving_an_actual_notice_needs_the_status_named_as_actual() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let draft = app.draft_notice(&team.operator, &monteverde()).await;
    let path = format!("/api/v1/notices/{}/approve", draft["id"].as_str().unwrap());

    let (status, error) = app
        .send_json(
            Method::POST,
            &path,
            &team.approver,
            &json!({ "version": 1, "confirm_status": "Test" }),
        )
        .await;

    assert_eq!(status, 422);
    assert_eq!(error["field"], "confirm_status");
    assert!(
        error["message"].as_str().unwrap().contains("Actual"),
        "{error}"
    );
}

fn with(field: &str, value: Value) -> Value {
    let mut body = monteverde();
    body[field] = value;
    body
}

fn area(value: Value) -> Value {
    with("area", value)
}

fn ring(points: &[(f64, f64)]) -> Value {
    json!(
        points
            .iter()
            .map(|(lat, lon)| json!({ "lat": lat, "lon": lon }))
            .collect::<Vec<_>>()
    )
}

/// (case, draft, field the 422 names)
fn bad_drafts() -> Vec<(&'static str, Value, &'static str)> {
    let mut no_status = monteverde();
    no_status.as_object_mut().unwrap().remove("status");
    let mut no_language = monteverde();
    no_language["info"] = json!({ "": { "event": "Senza lingua" } });
    vec![
        ("no status: never defaulted to Actual", no_status, "status"),
        (
            "a status CAP does not have",
            with("status", json!("Real")),
            "status",
        ),
        (
            "an urgency CAP does not have",
            with("urgency", json!("Soon")),
            "urgency",
        ),
        (
            "a severity CAP does not have",
            with("severity", json!("Huge")),
            "severity",
        ),
        (
            "a certainty CAP does not have",
            with("certainty", json!("Sure")),
            "certainty",
        ),
        (
            "a category CAP does not have",
            with("category", json!(["Weather"])),
            "category[0]",
        ),
        (
            "expires in the past",
            with("expires", json!("2020-01-01T00:00:00Z")),
            "expires",
        ),
        ("text with no language", no_language, "info"),
        (
            "an unknown zone",
            area(json!({ "zones": ["demo-001", "atlantis"] })),
            "area.zones[1]",
        ),
        ("an empty area", area(json!({})), "area"),
        (
            "a polygon that is not closed",
            area(
                json!({ "polygons": [ring(&[(44.40, 11.20), (44.40, 11.30), (44.45, 11.30), (44.45, 11.20)])] }),
            ),
            "area.polygons[0]",
        ),
        (
            "a polygon of three points",
            area(json!({ "polygons": [ring(&[(44.40, 11.20), (44.40, 11.30), (44.40, 11.20)])] })),
            "area.polygons[0]",
        ),
        (
            "a polygon that crosses itself",
            area(
                json!({ "polygons": [ring(&[(44.40, 11.20), (44.45, 11.30), (44.40, 11.30), (44.45, 11.20), (44.40, 11.20)])] }),
            ),
            "area.polygons[0]",
        ),
        (
            "a circle with a negative radius",
            area(json!({ "circles": [{ "lat": 44.4, "lon": 11.3, "radius_km": -1 }] })),
            "area.circles[0].radius_km",
        ),
        (
            "a circle with a negative radius",
            area(json!({ "circles": [{ "lat": 44.4, "lon": 11.3, "radius_km": -2 }] })),
            "area.circles[0].radius_km",
        ),
        (
            "an Update drafted as new",
            with("msg_type", json!("Update")),
            "msg_type",
        ),
    ]
}

#[tokio::test]
async fn each_invalid_draft_gets_a_422_naming_the_field_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let team = app.team().await;

    for (case, body, field) in bad_drafts() {
        let (status, error) = app
            .send_json(Method::POST, "/api/v1/notices", &team.operator, &body)
            .await;

        assert_eq!(status, 422, "{case}: {error}");
        assert_valid("error", &error);
        assert_eq!(error["field"], field, "{case}: {error}");
    }
    assert_eq!(app.count_rows("SELECT count(*) FROM notices"), 0);
}

#[tokio::test]
async fn an_area_lists_the_zones_it_covers_but_not_those_it_only_touches() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let circle = json!({ "circles": [{ "lat": 44.40, "lon": 11.31, "radius_km": 1.0 }] });

    let in_monteverde = app.draft_notice(&team.operator, &monteverde()).await;
    let around_the_corner = app
        .draft_notice(&team.operator, &notice_body("Test", circle))
        .await;

    let ids = |notice: &Value| -> Vec<String> {
        notice["covered_zones"]
            .as_array()
            .unwrap()
            .iter()
            .map(|z| z["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&in_monteverde), ["demo-d1", "demo-001"]);
    assert_eq!(
        ids(&around_the_corner),
        ["demo-d1", "demo-001", "demo-002", "demo-003", "demo-004"]
    );
}

#[tokio::test]
async fn a_stale_edit_gets_409_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let draft = app.draft_notice(&team.operator, &monteverde()).await;
    let path = format!("/api/v1/notices/{}", draft["id"].as_str().unwrap());
    let mut changed = monteverde();
    changed["severity"] = json!("Extreme");
    let (first, _) = app
        .send_json(
            Method::PUT,
            &path,
            &team.operator,
            &json!({ "version": 1, "content": changed }),
        )
        .await;

    let (second, error) = app
        .send_json(
            Method::PUT,
            &path,
            &team.operator,
            &json!({ "version": 1, "content": monteverde() }),
        )
        .await;

    assert_eq!(
        (first, second, error["error"].as_str()),
        (200, 409, Some("stale_version"))
    );
    let (_, notice) = app.get_json(&path).await;
    assert_eq!(
        (
            notice["version"].as_i64(),
            notice["content"]["severity"].as_str()
        ),
        (Some(2), Some("Extreme"))
    );
}

#[tokio::test]
async fn a_rejected_notice_carries_its_reason_and_returns_to_draft_when_edited() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let draft = app.draft_notice(&team.operator, &monteverde()).await;
    let path = format!("/api/v1/notices/{}", draft["id"].as_str().unwrap());

    let (status, rejected) = app
        .send_json(
            Method::POST,
            &format!("{path}/reject"),
            &team.approver,
            &json!({ "version": 1, "reason": "Manca l'orario" }),
        )
        .await;
    let (approve_rejected, _) = app.approve_notice(&team.second_approver, &rejected).await;
    let (_, edited) = app
        .send_json(
            Method::PUT,
            &path,
            &team.operator,
            &json!({ "version": 2, "content": monteverde() }),
        )
        .await;

    assert_eq!(
        (
            status,
            rejected["state"].as_str(),
            rejected["rejection_reason"].as_str()
        ),
        (200, Some("rejected"), Some("Manca l'orario"))
    );
    assert_eq!(approve_rejected, 409);
    assert_eq!(
        (edited["state"].as_str(), edited["rejection_reason"].clone()),
        (Some("draft"), Value::Null)
    );
}

#[tokio::test]
async fn an_update_is_one_step_shows_its_changes_and_replaces_the_original() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let original = app.publish_notice(&team, &monteverde()).await;
    let id = original["id"].as_str().unwrap();

    let (status, draft) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/notices/{id}/update"),
            &team.operator,
            &Value::Null,
        )
        .await;
    assert_eq!(status, 201, "{draft}");
    assert_eq!(
        (draft["msg_type"].as_str(), draft["references_id"].as_str()),
        (Some("Update"), Some(id))
    );
    assert_eq!(
        draft["content"], original["content"],
        "the update starts from the original"
    );
    let mut content = draft["content"].clone();
    content["info"]["it"]["headline"] = json!("Allerta rossa prorogata");
    content["area"] = zones(&["demo-001", "demo-002"]);
    let path = format!("/api/v1/notices/{}", draft["id"].as_str().unwrap());
    app.send_json(
        Method::PUT,
        &path,
        &team.operator,
        &json!({ "version": 1, "content": content }),
    )
    .await;
    let (_, reviewed) = app.get_json_as(&path, Some(&team.approver)).await;
    let (approved, published) = app.approve_notice(&team.approver, &reviewed).await;

    assert_valid("notice", &reviewed);
    let changed: Vec<&str> = reviewed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["area.zones", "info.it.headline"]);
    assert_eq!(approved, 200);
    assert_eq!(published["thread_id"], original["thread_id"]);
    let (_, replaced) = app.get_json(&format!("/api/v1/notices/{id}")).await;
    assert_eq!(replaced["state"], "superseded");
    let (again, error) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/notices/{id}/update"),
            &team.operator,
            &Value::Null,
        )
        .await;
    assert_eq!(
        (again, error["error"].as_str()),
        (409, Some("invalid_state"))
    );
}

#[tokio::test]
async fn a_cancel_is_one_step_and_withdraws_the_original() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let original = app.publish_notice(&team, &monteverde()).await;

    let cancel = app.follow_up(&team, &original, "cancel").await;

    assert_eq!(
        (cancel["msg_type"].as_str(), cancel["state"].as_str()),
        (Some("Cancel"), Some("published"))
    );
    let (_, withdrawn) = app
        .get_json(&format!(
            "/api/v1/notices/{}",
            original["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(withdrawn["state"], "cancelled");
    let (_, page) = app.get_json("/api/v1/notices?state=published").await;
    assert_valid("notice-page", &page);
    let published: Vec<&str> = page["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["msg_type"].as_str().unwrap())
        .collect();
    assert_eq!(published, ["Cancel"]);
}

#[tokio::test]
async fn every_action_is_in_the_append_only_audit_log_for_admins() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let original = app.publish_notice(&team, &monteverde()).await;
    app.follow_up(&team, &original, "cancel").await;
    let draft = app.draft_notice(&team.operator, &monteverde()).await;
    let path = format!("/api/v1/notices/{}", draft["id"].as_str().unwrap());
    app.send_json(
        Method::PUT,
        &path,
        &team.operator,
        &json!({ "version": 1, "content": monteverde() }),
    )
    .await;
    app.send_json(
        Method::POST,
        &format!("{path}/reject"),
        &team.approver,
        &json!({ "version": 2, "reason": "no" }),
    )
    .await;

    let (status, page) = app
        .get_json_as("/api/v1/audit?limit=200", Some(&team.admin))
        .await;

    assert_eq!(status, 200);
    assert_valid("audit-page", &page);
    let actions: Vec<(String, String)> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("olga", "login"),
        ("olga", "draft"),
        ("olga", "edit"),
        ("aldo", "approve"),
        ("aldo", "publish"),
        ("olga", "cancel"),
        ("aldo", "reject"),
        ("test", "user_create"),
    ] {
        assert!(
            actions.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} in {actions:?}"
        );
    }
    let db = rusqlite::Connection::open(app.data_dir.path().join(vedetta::DATABASE_FILE)).unwrap();
    let tampering = db.execute("UPDATE audit SET actor = 'nobody'", []);
    let erasing = db.execute("DELETE FROM audit", []);
    assert!(tampering.unwrap_err().to_string().contains("append-only"));
    assert!(erasing.is_err());
}
