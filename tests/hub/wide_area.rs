//! A notice area wider than the office usually warns (several regions, or many municipalities)
//! is approved only when the approver says it is meant: a slipped click must not evacuate a
//! province.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::notices::{notice_body, zones};
use crate::support::{TestApp, assert_valid};

async fn approve(
    app: &TestApp,
    token: &str,
    draft: &Value,
    confirm_wide_area: Option<bool>,
) -> (u16, Value) {
    let mut approval = json!({ "version": draft["version"], "confirm_status": draft["status"] });
    if let Some(confirm) = confirm_wide_area {
        approval["confirm_wide_area"] = json!(confirm);
    }
    let path = format!("/api/v1/notices/{}/approve", draft["id"].as_str().unwrap());
    app.send_json(Method::POST, &path, token, &approval).await
}

#[tokio::test]
async fn a_wide_area_is_published_only_once_the_approver_confirms_it() {
    let app = TestApp::spawn_with(|config| config.notices.wide_area_zones = 2).await;
    let team = app.team().await;
    let draft = app
        .draft_notice(&team.operator, &notice_body("Actual", zones(&["demo-d1"])))
        .await;
    let path = format!("/api/v1/notices/{}", draft["id"].as_str().unwrap());

    let (_, shown) = app.get_json_as(&path, Some(&team.approver)).await;
    let (unconfirmed, refusal) = approve(&app, &team.approver, &draft, None).await;
    let (declined, _) = approve(&app, &team.approver, &draft, Some(false)).await;
    let (confirmed, published) = approve(&app, &team.approver, &draft, Some(true)).await;

    assert_valid("notice", &shown);
    assert_eq!(shown["wide_area"]["finest_zones"], 4);
    assert_eq!(shown["wide_area"]["limit"], 2);
    assert_eq!((unconfirmed, declined), (422, 422), "{refusal}");
    assert_eq!(refusal["field"], "confirm_wide_area");
    assert!(
        refusal["message"]
            .as_str()
            .unwrap()
            .contains("covers 4 zones"),
        "{refusal}"
    );
    assert_eq!(confirmed, 200, "{published}");
    assert_eq!(published["state"], "published");
}

#[tokio::test]
async fn a_small_area_needs_no_confirmation() {
    let app = TestApp::spawn_with(|config| config.notices.wide_area_zones = 2).await;
    let team = app.team().await;
    let draft = app
        .draft_notice(&team.operator, &notice_body("Actual", zones(&["demo-001"])))
        .await;

    let (_, shown) = app
        .get_json_as(
            &format!("/api/v1/notices/{}", draft["id"].as_str().unwrap()),
            Some(&team.approver),
        )
        .await;
    let (status, published) = approve(&app, &team.approver, &draft, None).await;

    assert!(shown.get("wide_area").is_none(), "{shown}");
    assert_eq!(status, 200, "{published}");
}
