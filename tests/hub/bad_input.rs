//! Bad input over HTTP: each case gets a specific error naming the field, and nothing is stored.

use base64::Engine;
use serde_json::{Value, json};

use crate::support::{MONTEVERDE, TestApp, assert_valid, report};

/// Small limits so oversize cases stay small.
pub async fn strict_app() -> TestApp {
    TestApp::spawn_with(|config| {
        config.intake.max_text_chars = 50;
        config.intake.max_photo_bytes = 1024;
        config.intake.max_body_bytes = 16 * 1024;
    })
    .await
}

fn with(field: &str, value: Value) -> Value {
    let mut body = report("bad-1", MONTEVERDE);
    body[field] = value;
    body
}

fn without(field: &str) -> Value {
    let mut body = report("bad-1", MONTEVERDE);
    body.as_object_mut().unwrap().remove(field);
    body
}

fn photo_of(bytes: &[u8], content_type: &str) -> Value {
    json!({ "content_type": content_type, "data": base64::engine::general_purpose::STANDARD.encode(bytes) })
}

/// (case, JSON body, expected status, error code, field)
type JsonCase = (&'static str, Value, u16, &'static str, Option<&'static str>);

fn json_cases() -> Vec<JsonCase> {
    let big_jpeg = [&[0xFF, 0xD8, 0xFF][..], &[0u8; 2000]].concat();
    vec![
        (
            "missing client_ref",
            without("client_ref"),
            422,
            "missing_field",
            Some("client_ref"),
        ),
        (
            "missing category",
            without("category"),
            422,
            "missing_field",
            Some("category"),
        ),
        (
            "missing lat",
            without("lat"),
            422,
            "missing_field",
            Some("lat"),
        ),
        (
            "missing lon",
            without("lon"),
            422,
            "missing_field",
            Some("lon"),
        ),
        (
            "latitude above 90",
            with("lat", json!(90.5)),
            422,
            "invalid_field",
            Some("lat"),
        ),
        (
            "longitude below -180",
            with("lon", json!(-180.1)),
            422,
            "invalid_field",
            Some("lon"),
        ),
        (
            "latitude as text",
            with("lat", json!("44.4")),
            422,
            "invalid_field",
            Some("lat"),
        ),
        (
            "unknown category",
            with("category", json!("volcano")),
            422,
            "unknown_category",
            Some("category"),
        ),
        (
            "text over the limit",
            with("text", json!("x".repeat(51))),
            422,
            "too_long",
            Some("text"),
        ),
        (
            "unknown field",
            with("colour", json!("red")),
            422,
            "unknown_field",
            Some("colour"),
        ),
        (
            "client_ref with a slash",
            with("client_ref", json!("a/b")),
            422,
            "invalid_field",
            Some("client_ref"),
        ),
        (
            "empty client_ref",
            with("client_ref", json!("")),
            422,
            "invalid_field",
            Some("client_ref"),
        ),
        (
            "photo over the limit",
            with("photo", photo_of(&big_jpeg, "image/jpeg")),
            413,
            "too_large",
            Some("photo"),
        ),
        (
            "photo that is not a JPEG",
            with("photo", photo_of(b"GIF89a....", "image/jpeg")),
            422,
            "invalid_field",
            Some("photo.data"),
        ),
        (
            "photo of an unsupported type",
            with("photo", photo_of(b"GIF89a", "image/gif")),
            415,
            "unsupported_media_type",
            Some("photo.content_type"),
        ),
        (
            "photo that is not base64",
            with("photo", json!({"content_type": "image/png", "data": "%%%"})),
            422,
            "invalid_field",
            Some("photo.data"),
        ),
        (
            "e-mail without @",
            with("contact", json!({"email": "maria.example.org"})),
            422,
            "invalid_field",
            Some("contact.email"),
        ),
        ("a JSON array", json!([1, 2]), 400, "malformed_json", None),
    ]
}

#[tokio::test]
async fn each_invalid_json_report_gets_a_specific_error_and_nothing_is_stored() {
    let app = strict_app().await;
    for (case, body, status, code, field) in json_cases() {
        let response = app.post_report(&body).await;

        assert_eq!(response.status().as_u16(), status, "{case}");
        let error: Value = response.json().await.unwrap();
        assert_valid("error", &error);
        assert_eq!(error["error"], code, "{case}: {error}");
        assert_eq!(error["field"].as_str(), field, "{case}: {error}");
        assert!(!error["message"].as_str().unwrap().is_empty(), "{case}");
    }
    assert_eq!(app.stored_reports(), 0);
}

/// (case, content type, body, expected status, error code)
type RawCase = (
    &'static str,
    Option<&'static str>,
    Vec<u8>,
    u16,
    &'static str,
);

async fn post_raw(app: &TestApp, content_type: Option<&str>, body: Vec<u8>) -> (u16, Value) {
    let mut request = app.http.post(app.url("/api/v1/reports")).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let error: Value = response.json().await.unwrap();
    assert_valid("error", &error);
    (status, error)
}

#[tokio::test]
async fn malformed_bodies_get_specific_errors_and_nothing_is_stored() {
    let app = strict_app().await;
    let valid = report("raw-1", MONTEVERDE).to_string().into_bytes();
    let mut invalid_utf8 = valid.clone();
    invalid_utf8.splice(10..10, [0xFF, 0xFE]);
    let cases: Vec<RawCase> = vec![
        (
            "truncated JSON",
            Some("application/json"),
            br#"{"client_ref": "x", "lat": 4"#.to_vec(),
            400,
            "malformed_json",
        ),
        (
            "invalid UTF-8",
            Some("application/json"),
            invalid_utf8,
            400,
            "invalid_utf8",
        ),
        (
            "form content type",
            Some("application/x-www-form-urlencoded"),
            valid.clone(),
            415,
            "unsupported_media_type",
        ),
        (
            "no content type",
            None,
            valid.clone(),
            415,
            "unsupported_media_type",
        ),
        (
            "a report and more after it",
            Some("application/json"),
            [valid.clone(), b" {}".to_vec()].concat(),
            400,
            "malformed_json",
        ),
        (
            "a charset other than UTF-8",
            Some("application/json; charset=latin1"),
            valid.clone(),
            415,
            "unsupported_media_type",
        ),
        (
            "body over the limit",
            Some("application/json"),
            vec![b' '; 17 * 1024],
            413,
            "too_large",
        ),
        (
            "a number too large for a float",
            Some("application/json"),
            br#"{"client_ref":"x","category":"fire","lat":1e999,"lon":11}"#.to_vec(),
            422,
            "invalid_field",
        ),
    ];
    for (case, content_type, body, status, code) in cases {
        let (got_status, error) = post_raw(&app, content_type, body).await;

        assert_eq!(
            (got_status, error["error"].as_str().unwrap()),
            (status, code),
            "{case}: {error}"
        );
    }
    assert_eq!(app.stored_reports(), 0);
}

#[tokio::test]
async fn bad_query_parameters_name_the_parameter() {
    let app = TestApp::spawn().await;
    let cases = [
        ("bbox=1,2,3", "bbox"),
        ("bbox=12,45,11,44", "bbox"),
        ("since=yesterday", "since"),
        ("limit=0", "limit"),
        ("status=lost", "status"),
        ("category=volcano", "category"),
        ("format=xml", "format"),
        ("zoom=3", "zoom"),
    ];
    for (query, field) in cases {
        let (status, error) = app.get_json(&format!("/api/v1/reports?{query}")).await;

        assert_eq!(status, 422, "{query}");
        assert_valid("error", &error);
        assert_eq!(error["field"], field, "{query}: {error}");
    }
    // A Latin-1 `à`: searched for as written, it would become a replacement character.
    let (status, error) = app.get_json("/api/v1/public/notices?event=citt%E0").await;
    assert_eq!(
        (status, error["error"].as_str(), error["field"].as_str()),
        (400, Some("invalid_utf8"), Some("event")),
        "{error}"
    );
}

#[tokio::test]
async fn empty_and_repeated_query_parameters_are_refused_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let cases = [
        ("/api/v1/reports?since=", "since"),
        ("/api/v1/reports?until=&limit=5", "until"),
        ("/api/v1/reports?limit=", "limit"),
        ("/api/v1/reports?limit=5&limit=6", "limit"),
        (
            "/api/v1/stats?since=2026-01-01T00:00:00Z&since=2026-02-01T00:00:00Z",
            "since",
        ),
        ("/api/v1/zones?level=", "level"),
    ];
    for (path, field) in cases {
        let (status, error) = app.get_json(path).await;

        assert_eq!(status, 422, "{path}");
        assert_valid("error", &error);
        assert_eq!(
            (error["error"].as_str(), error["field"].as_str()),
            (Some("invalid_field"), Some(field)),
            "{path}: {error}"
        );
    }
}

#[tokio::test]
async fn an_unknown_endpoint_is_a_404_that_points_at_the_api_description() {
    let app = TestApp::spawn().await;

    let (status, error) = app.get_json("/api/v1/nothing-here").await;

    assert_eq!(status, 404);
    assert_valid("error", &error);
    assert!(error["message"].as_str().unwrap().contains("openapi.json"));
}
