//! The public archive of notices: what the office published, chain by chain, for anyone, with
//! nothing of the workflow, never a draft or a rejected notice, each linked to its signed CAP.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::notices::{assert_signed_by, notice_body, zones};
use crate::support::{TestApp, assert_valid};

async fn archive(app: &TestApp, query: &str) -> Value {
    let response = app
        .http
        .get(app.url(&format!("/api/v1/public/notices{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_valid("public-notices", &body);
    body
}

fn ids(chain: &Value) -> Vec<&str> {
    chain["notices"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect()
}

#[tokio::test]
async fn the_archive_shows_each_chain_in_order_with_its_marks_and_never_a_draft_or_a_rejected_notice()
 {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let test = app
        .publish_notice(&team, &notice_body("Test", zones(&["demo-002"])))
        .await;
    let alert = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    let update = app.follow_up(&team, &alert, "update").await;
    let cancel = app.follow_up(&team, &update, "cancel").await;
    let draft = app
        .draft_notice(&team.operator, &notice_body("Actual", zones(&["demo-003"])))
        .await;
    let rejected = app
        .draft_notice(&team.operator, &notice_body("Actual", zones(&["demo-004"])))
        .await;
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!(
                "/api/v1/notices/{}/reject",
                rejected["id"].as_str().unwrap()
            ),
            &team.approver,
            &json!({ "version": rejected["version"], "reason": "zona sbagliata" }),
        )
        .await;
    assert_eq!(status, 200);

    let page = archive(&app, "").await;

    let chains = page["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 2, "{page}");
    assert_eq!(
        ids(&chains[0]),
        [&alert["id"], &update["id"], &cancel["id"]].map(|id| id.as_str().unwrap()),
        "the newest chain first, oldest notice first"
    );
    let marks: Vec<(&str, &str)> = chains[0]["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["msg_type"].as_str().unwrap(),
                n["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        marks,
        [
            ("Alert", "superseded"),
            ("Update", "cancelled"),
            ("Cancel", "published")
        ]
    );
    assert_eq!(chains[1]["notices"][0]["status"], "Test");
    assert_eq!(ids(&chains[1]), [test["id"].as_str().unwrap()]);
    let text = page.to_string();
    for hidden in [&draft["id"], &rejected["id"]] {
        assert!(
            !text.contains(hidden.as_str().unwrap()),
            "{hidden} is not public"
        );
    }
    for workflow in [
        "\"author\"",
        "\"approver\"",
        "\"editors\"",
        "zona sbagliata",
        "olga",
        "aldo",
    ] {
        assert!(!text.contains(workflow), "{workflow} is not public");
    }
    let certificate = app.data_dir.path().join(vedetta::notices::CAP_CERT_FILE);
    for notice in chains.iter().flat_map(|c| c["notices"].as_array().unwrap()) {
        let cap = app
            .http
            .get(notice["cap_url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(cap.status(), 200, "anyone reads a published notice's CAP");
        assert_signed_by(&cap.text().await.unwrap(), &certificate);
    }
}

#[tokio::test]
async fn the_archive_filters_by_severity_event_zone_and_period_and_pages_with_a_cursor() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let before = chrono::Utc::now() - chrono::Duration::seconds(5);
    let mut minor = notice_body("Actual", zones(&["demo-002"]));
    minor["severity"] = json!("Minor");
    minor["info"]["it"]["event"] = json!("Vento forte");
    minor["info"]["en"]["event"] = json!("Strong wind");
    let wind = app.publish_notice(&team, &minor).await;
    let flood = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;

    let severe = archive(&app, "?severity=Severe").await;
    let windy = archive(&app, "?event=VENTO").await;
    let in_zone = archive(&app, "?zone=demo-002").await;
    let later = archive(
        &app,
        &format!("?since={}", urlencoding(&chrono::Utc::now().to_rfc3339())),
    )
    .await;
    let all = archive(
        &app,
        &format!("?since={}", urlencoding(&before.to_rfc3339())),
    )
    .await;
    let first = archive(&app, "?limit=1").await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = archive(&app, &format!("?limit=1&cursor={cursor}")).await;

    assert_eq!(ids(&severe["chains"][0]), [flood["id"].as_str().unwrap()]);
    assert_eq!(severe["chains"].as_array().unwrap().len(), 1);
    assert_eq!(ids(&windy["chains"][0]), [wind["id"].as_str().unwrap()]);
    assert_eq!(ids(&in_zone["chains"][0]), [wind["id"].as_str().unwrap()]);
    assert!(later["chains"].as_array().unwrap().is_empty());
    assert_eq!(all["chains"].as_array().unwrap().len(), 2);
    assert_eq!(ids(&first["chains"][0]), [flood["id"].as_str().unwrap()]);
    assert_eq!(ids(&second["chains"][0]), [wind["id"].as_str().unwrap()]);
    let refused = app
        .http
        .get(app.url("/api/v1/public/notices?author=olga"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
}

fn urlencoding(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn each_published_notice_has_a_stable_public_page_and_the_archive_has_an_atom_feed() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let alert = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    let update = app.follow_up(&team, &alert, "update").await;
    let draft = app
        .draft_notice(&team.operator, &notice_body("Actual", zones(&["demo-003"])))
        .await;

    let (status, chain) = app
        .get_json_as(
            &format!("/api/v1/public/notices/{}", alert["id"].as_str().unwrap()),
            None,
        )
        .await;
    let (draft_status, problem) = app
        .get_json_as(
            &format!("/api/v1/public/notices/{}", draft["id"].as_str().unwrap()),
            None,
        )
        .await;
    let page = app
        .http
        .get(alert["page_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let (_, atom) = app.get_text("/feeds/archivio.atom").await;
    let feed: atom_syndication::Feed = atom.parse().expect("the archive feed parses as Atom");

    assert_eq!(status, 200, "{chain}");
    assert_valid("public-notice-chain", &chain);
    assert_eq!(
        ids(&chain),
        [
            alert["id"].as_str().unwrap(),
            update["id"].as_str().unwrap()
        ],
        "an old notice's page shows the whole chain, so the reader sees what replaced it"
    );
    assert!(
        alert["page_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/archivio/{}", alert["id"].as_str().unwrap()))
    );
    assert_eq!(chain["notices"][0]["page_url"], alert["page_url"]);
    assert_eq!(
        (draft_status, problem["error"].as_str()),
        (404, Some("not_found"))
    );
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let entries: Vec<(&str, &str)> = feed
        .entries
        .iter()
        .map(|entry| (entry.links[0].href.as_str(), entry.links[1].href.as_str()))
        .collect();
    assert_eq!(
        entries,
        [
            (
                update["cap_url"].as_str().unwrap(),
                update["page_url"].as_str().unwrap()
            ),
            (
                alert["cap_url"].as_str().unwrap(),
                alert["page_url"].as_str().unwrap()
            ),
        ],
        "newest first, the CAP document and the office's page of each"
    );
    assert!(!atom.contains(draft["id"].as_str().unwrap()));
}

#[tokio::test]
async fn the_page_of_a_draft_or_of_an_unknown_id_answers_404_even_to_a_browser_holding_the_page() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let alert = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;
    let draft = app
        .draft_notice(&team.operator, &notice_body("Actual", zones(&["demo-003"])))
        .await;
    let published = app
        .http
        .get(alert["page_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let held = published.headers()[reqwest::header::ETAG].clone();

    for id in [draft["id"].as_str().unwrap(), "nessun-avviso"] {
        let page = app
            .http
            .get(app.url(&format!("/archivio/{id}")))
            .header(reqwest::header::IF_NONE_MATCH, held.clone())
            .send()
            .await
            .unwrap();

        assert_eq!(page.status(), 404, "{id}");
        assert!(page.headers().get(reqwest::header::ETAG).is_none());
        assert!(
            page.headers()[reqwest::header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "the page still tells a person the notice is not there"
        );
    }
    assert_eq!(published.status(), 200);
}
