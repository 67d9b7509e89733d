//! Open311 GeoReport v2: services, form-encoded requests, status by id, JSON and XML.

use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::Value;

use crate::support::{TestApp, assert_valid};

async fn post_form(app: &TestApp, form: &[(&str, &str)]) -> (u16, Value) {
    let response = app
        .http
        .post(app.url("/open311/v2/requests.json"))
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

const FLOOD_IN_MONTEVERDE: &[(&str, &str)] = &[
    ("service_code", "flooding"),
    ("lat", "44.45"),
    ("long", "11.22"),
    ("description", "Sottopasso allagato"),
    ("email", "luca@example.org"),
    ("first_name", "Luca"),
    ("device_id", "web-42"),
    ("client_ref", "o311-1"),
];

/// Element names in document order, checking the XML is well-formed on the way.
fn element_names(xml: &str) -> Vec<String> {
    let mut reader = Reader::from_str(xml);
    let mut names = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(start) | Event::Empty(start) => {
                names.push(String::from_utf8(start.name().as_ref().to_vec()).unwrap());
            }
            Event::Eof => return names,
            _ => {}
        }
    }
}

#[tokio::test]
async fn services_list_every_category_in_json_and_xml() {
    let app = TestApp::spawn().await;

    let (status, services) = app.get_json("/open311/v2/services.json").await;
    let xml = app
        .http
        .get(app.url("/open311/v2/services.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert_eq!(status, 200);
    assert_valid("open311-services", &services);
    assert_eq!(
        services.as_array().unwrap().len(),
        app.config.categories.len()
    );
    assert_eq!(services[0]["service_code"], "flooding");
    assert_eq!(services[0]["service_name"], "Allagamento");
    let names = element_names(&xml);
    assert_eq!(names[0], "services");
    assert_eq!(
        names.iter().filter(|n| *n == "service").count(),
        app.config.categories.len()
    );
}

#[tokio::test]
async fn a_form_encoded_request_becomes_a_report_readable_by_its_id() {
    let app = TestApp::spawn().await;

    let (status, created) = post_form(&app, FLOOD_IN_MONTEVERDE).await;

    assert_eq!(status, 201);
    assert_valid("open311-submitted", &created);
    let id = created[0]["service_request_id"].as_str().unwrap();
    let (status, requests) = app
        .get_json(&format!("/open311/v2/requests/{id}.json"))
        .await;
    assert_eq!(status, 200);
    assert_valid("open311-requests", &requests);
    let request = &requests[0];
    assert_eq!(
        (request["status"].as_str(), request["service_code"].as_str()),
        (Some("open"), Some("flooding"))
    );
    assert_eq!(
        (request["lat"].as_f64(), request["long"].as_f64()),
        (Some(44.45), Some(11.22))
    );
    assert_eq!(request["description"], "Sottopasso allagato");
    assert!(
        !requests.to_string().contains("luca@example.org"),
        "no e-mail in public status"
    );
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(
        (report["source"].as_str(), report["zones"][0]["id"].as_str()),
        (Some("open311"), Some("demo-001"))
    );
}

#[tokio::test]
async fn a_retried_open311_post_with_the_same_client_ref_returns_the_same_id() {
    let app = TestApp::spawn().await;

    let (first_status, first) = post_form(&app, FLOOD_IN_MONTEVERDE).await;
    // Sent again as Apache HttpClient labels a form by default: ASCII all the same.
    let retry = app
        .http
        .post(app.url("/open311/v2/requests.json"))
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=ISO-8859-1",
        )
        .body(serde_urlencoded::to_string(FLOOD_IN_MONTEVERDE).unwrap())
        .send()
        .await
        .unwrap();
    let second_status = retry.status().as_u16();
    let second: Value = retry.json().await.unwrap();

    assert_eq!((first_status, second_status), (201, 200));
    assert_eq!(
        first[0]["service_request_id"],
        second[0]["service_request_id"]
    );
    assert_eq!(app.stored_reports(), 1);
}

#[tokio::test]
async fn an_idempotency_key_header_makes_a_retry_safe_and_its_reuse_is_refused_naming_the_header() {
    let app = TestApp::spawn().await;
    let fire = [
        ("service_code", "fire"),
        ("lat", "44.33"),
        ("long", "11.40"),
    ];
    let flood = [
        ("service_code", "flooding"),
        ("lat", "44.33"),
        ("long", "11.40"),
    ];
    let post = |form: &[(&str, &str)]| {
        app.http
            .post(app.url("/open311/v2/requests.json"))
            .header("Idempotency-Key", "key-9")
            .form(form)
            .send()
    };

    let first: Value = post(&fire).await.unwrap().json().await.unwrap();
    let second: Value = post(&fire).await.unwrap().json().await.unwrap();
    let reused = post(&flood).await.unwrap();

    assert_eq!(
        first[0]["service_request_id"],
        second[0]["service_request_id"]
    );
    assert_eq!(reused.status(), 409);
    let errors: Value = reused.json().await.unwrap();
    let description = errors[0]["description"].as_str().unwrap();
    assert!(description.contains("`Idempotency-Key`"), "{errors}");
    assert!(!description.contains("client_ref"), "{errors}");
    assert_eq!(app.stored_reports(), 1);
}

#[tokio::test]
async fn an_idempotency_key_that_cannot_be_a_client_ref_is_refused_naming_the_header() {
    let app = TestApp::spawn().await;

    let response = app
        .http
        .post(app.url("/open311/v2/requests.json"))
        .header("Idempotency-Key", "key with spaces")
        .form(&[
            ("service_code", "fire"),
            ("lat", "44.33"),
            ("long", "11.40"),
        ])
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 422);
    let errors: Value = response.json().await.unwrap();
    assert!(
        errors[0]["description"]
            .as_str()
            .unwrap()
            .starts_with("`Idempotency-Key` must be"),
        "{errors}"
    );
    assert_eq!(app.stored_reports(), 0);
}

#[tokio::test]
async fn asking_for_more_service_requests_by_id_than_one_answer_holds_is_refused_naming_the_limit()
{
    let app = TestApp::spawn().await;
    let ids = (0..1001)
        .map(|n| format!("r{n}"))
        .collect::<Vec<_>>()
        .join(",");
    let url = format!("/open311/v2/requests.json?service_request_id={ids}");

    let response = app.http.get(app.url(&url)).send().await.unwrap();

    assert_eq!(response.status(), 422);
    let errors: Value = response.json().await.unwrap();
    assert_valid("open311-errors", &errors);
    let description = errors[0]["description"].as_str().unwrap();
    assert!(description.contains("at most 1000"), "{errors}");
}

/// (form, expected status, field named in the description)
type FormCase = (&'static [(&'static str, &'static str)], u16, &'static str);

#[tokio::test]
async fn bad_open311_requests_get_open311_errors_naming_the_field_and_store_nothing() {
    let app = TestApp::spawn().await;
    let cases: &[FormCase] = &[
        (
            &[("service_code", "fire"), ("lat", "NaN"), ("long", "11.4")],
            422,
            "lat",
        ),
        (
            &[("service_code", "fire"), ("lat", "44.4"), ("long", "inf")],
            422,
            "long",
        ),
        (
            &[("service_code", "fire"), ("lat", "44.4"), ("long", "200")],
            422,
            "long",
        ),
        (
            &[
                ("service_code", "fire"),
                ("long", "11.4"),
                ("address_string", "Via Roma 1"),
            ],
            422,
            "lat",
        ),
        (&[("lat", "44.4"), ("long", "11.4")], 422, "service_code"),
        (
            &[
                ("service_code", "volcano"),
                ("lat", "44.4"),
                ("long", "11.4"),
            ],
            422,
            "service_code",
        ),
        (
            &[
                ("service_code", "fire"),
                ("lat", "44.4"),
                ("long", "11.4"),
                ("email", "not-an-address"),
            ],
            422,
            "email",
        ),
    ];
    for (form, status, field) in cases {
        let (got, errors) = post_form(&app, form).await;

        assert_eq!(got, *status, "{form:?}");
        assert_valid("open311-errors", &errors);
        assert_eq!(errors[0]["code"], *status);
        assert!(
            errors[0]["description"]
                .as_str()
                .unwrap()
                .contains(&format!("`{field}`")),
            "{form:?}: {errors}"
        );
    }
    assert_eq!(app.stored_reports(), 0);
}

#[tokio::test]
async fn a_json_body_to_the_form_endpoint_is_refused_with_415() {
    let app = TestApp::spawn().await;

    let response = app
        .http
        .post(app.url("/open311/v2/requests.json"))
        .json(&serde_json::json!({"service_code": "fire"}))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 415);
    assert_valid("open311-errors", &response.json().await.unwrap());
}

#[tokio::test]
async fn requests_filter_by_service_code_and_status_and_render_as_xml() {
    let app = TestApp::spawn().await;
    post_form(&app, FLOOD_IN_MONTEVERDE).await;
    post_form(
        &app,
        &[
            ("service_code", "fire"),
            ("lat", "44.33"),
            ("long", "11.40"),
        ],
    )
    .await;

    let (_, fires) = app
        .get_json("/open311/v2/requests.json?service_code=fire")
        .await;
    let (_, open) = app.get_json("/open311/v2/requests.json?status=open").await;
    let (_, closed) = app
        .get_json("/open311/v2/requests.json?status=closed")
        .await;
    let xml = app
        .http
        .get(app.url("/open311/v2/requests.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert_valid("open311-requests", &fires);
    assert_eq!(fires.as_array().unwrap().len(), 1);
    assert_eq!(open.as_array().unwrap().len(), 2);
    assert!(closed.as_array().unwrap().is_empty());
    let names = element_names(&xml);
    assert_eq!(names[0], "service_requests");
    assert_eq!(names.iter().filter(|n| *n == "request").count(), 2);
}

#[tokio::test]
async fn an_unknown_request_id_is_a_404_in_open311_format() {
    let app = TestApp::spawn().await;

    let (status, errors) = app
        .get_json("/open311/v2/requests/does-not-exist.json")
        .await;

    assert_eq!(status, 404);
    assert_valid("open311-errors", &errors);
}

/// The text of the first element named `name`, line breaks read as XML 1.0 reads them.
fn element_text(xml: &str, name: &str) -> Option<String> {
    let mut reader = Reader::from_str(xml);
    let mut inside = false;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(start) => inside = start.name().as_ref() == name.as_bytes(),
            Event::Text(text) if inside => return Some(text.xml10_content().unwrap().into_owned()),
            Event::Eof => return None,
            _ => inside = false,
        }
    }
}

#[tokio::test]
async fn a_description_sent_with_crlf_line_breaks_reads_the_same_in_open311_xml_as_in_json() {
    let app = TestApp::spawn().await;
    let mut form = FLOOD_IN_MONTEVERDE.to_vec();
    form.retain(|(field, _)| *field != "description");
    form.push(("description", "Sottopasso allagato\r\nauto ferma\rdentro"));
    let (_, created) = post_form(&app, &form).await;
    let id = created[0]["service_request_id"].as_str().unwrap();

    let (_, requests) = app
        .get_json(&format!("/open311/v2/requests/{id}.json"))
        .await;
    let xml = app
        .get_text_as_operator(&format!("/open311/v2/requests/{id}.xml"))
        .await;

    let written = "Sottopasso allagato\nauto ferma\ndentro";
    assert_eq!(requests[0]["description"], written);
    assert_eq!(element_text(&xml, "description").as_deref(), Some(written));
}
