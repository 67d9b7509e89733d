//! Refusals below the handlers speak the same JSON error: broken paths, oversize heads, bodies
//! declared over the limit, methods a route does not take, and requests that never finish.

use tokio::io::AsyncWriteExt;

use crate::support::raw::{closed_by_hub, connect_from, exchange, read_answer};
use crate::support::{TestApp, assert_valid};

fn assert_json_error(answer: &crate::support::raw::RawAnswer, status: u16, code: &str) {
    assert_eq!(answer.status, status, "{}", answer.head);
    assert!(
        answer
            .header("content-type")
            .is_some_and(|kind| kind.starts_with("application/json")),
        "{}",
        answer.head
    );
    let error = answer.json();
    assert_valid("error", &error);
    assert_eq!(error["error"], code, "{error}");
}

async fn raw_get(app: &TestApp, path: &str, extra_headers: &str) -> crate::support::raw::RawAnswer {
    let mut stream = connect_from(app.running().http_addr(), "127.0.0.1").await;
    let request = format!("GET {path} HTTP/1.1\r\nhost: hub\r\n{extra_headers}\r\n");
    exchange(&mut stream, request.as_bytes()).await
}

#[tokio::test]
async fn a_path_that_does_not_decode_and_a_wrong_method_get_json_errors() {
    let app = TestApp::spawn().await;

    let bad_path = raw_get(&app, "/api/v1/reports/%ff/updates", "").await;
    let bad_cap = raw_get(&app, "/cap/%ff%fe.xml", "").await;
    let mut stream = connect_from(app.running().http_addr(), "127.0.0.1").await;
    let wrong_method = exchange(
        &mut stream,
        b"DELETE /api/v1/reports HTTP/1.1\r\nhost: hub\r\n\r\n",
    )
    .await;

    assert_json_error(&bad_path, 400, "malformed_request");
    assert_json_error(&bad_cap, 400, "malformed_request");
    assert_json_error(&wrong_method, 405, "method_not_allowed");
    let said = wrong_method.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(said.ends_with("it takes: GET,HEAD,POST"), "{said}");
    let open311 = raw_get(&app, "/open311/v2/requests/%ff.json", "").await;
    assert_eq!(open311.status, 400);
    let errors = open311.json();
    assert_valid("open311-errors", &errors);
    assert_eq!(errors[0]["code"], 400);
    assert!(
        wrong_method
            .header("allow")
            .is_some_and(|allow| allow.contains("POST"))
    );
}

#[tokio::test]
async fn an_overlong_path_and_oversize_headers_get_json_414_and_431() {
    let app = TestApp::spawn().await;
    let long_path = format!("/api/v1/zones?level={}", "x".repeat(10 * 1024));
    let huge_path = format!("/api/v1/zones?level={}", "x".repeat(70 * 1024));
    let huge_header = format!("x-filler: {}\r\n", "y".repeat(32 * 1024));

    let too_long = raw_get(&app, &long_path, "").await;
    let way_too_long = raw_get(&app, &huge_path, "").await;
    let too_many_headers = raw_get(&app, "/api/v1/categories", &huge_header).await;

    assert_json_error(&too_long, 414, "uri_too_long");
    assert_json_error(&way_too_long, 431, "headers_too_large");
    assert_json_error(&too_many_headers, 431, "headers_too_large");
}

#[tokio::test]
async fn a_body_declared_over_the_limit_is_refused_at_once_and_the_connection_closed() {
    let app = TestApp::spawn().await;
    let token = app.operator_token().await;
    let mut report = connect_from(app.running().http_addr(), "127.0.0.1").await;
    let mut cap = connect_from(app.running().http_addr(), "127.0.0.1").await;

    let refused = exchange(
        &mut report,
        b"POST /api/v1/reports HTTP/1.1\r\nhost: hub\r\ncontent-type: application/json\r\ncontent-length: 99999999999\r\n\r\n",
    )
    .await;
    let cap_request = format!(
        "POST /api/v1/notices/import HTTP/1.1\r\nhost: hub\r\nauthorization: Bearer {token}\r\ncontent-type: application/cap+xml\r\ncontent-length: {}\r\n\r\n",
        2 * 1024 * 1024
    );
    let cap_refused = exchange(&mut cap, cap_request.as_bytes()).await;

    assert_json_error(&refused, 413, "too_large");
    assert!(
        refused.json()["message"]
            .as_str()
            .unwrap()
            .contains("99999999999")
    );
    assert_json_error(&cap_refused, 413, "too_large");
    closed_by_hub(&mut report).await;
    assert_eq!(app.stored_reports(), 0);
}

#[tokio::test]
async fn an_oversize_cap_import_sent_without_a_length_still_gets_a_json_413() {
    let app = TestApp::spawn().await;
    let token = app.operator_token().await;
    let stream = connect_from(app.running().http_addr(), "127.0.0.1").await;
    let (mut reading, mut writing) = stream.into_split();
    let head = format!(
        "POST /api/v1/notices/import HTTP/1.1\r\nhost: hub\r\nauthorization: Bearer {token}\r\ncontent-type: application/cap+xml\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    let chunk = vec![b'x'; 64 * 1024];

    let sender = tokio::spawn(async move {
        writing.write_all(head.as_bytes()).await?;
        for _ in 0..32 {
            writing
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            writing.write_all(&chunk).await?;
            writing.write_all(b"\r\n").await?;
        }
        writing.write_all(b"0\r\n\r\n").await
    });
    let answer = crate::support::raw::read_answer_from(&mut reading).await;
    let _ = sender.await;

    assert_json_error(&answer, 413, "too_large");
}

#[tokio::test]
async fn silent_and_half_sent_requests_are_timed_out_and_answered_when_begun() {
    let app = TestApp::spawn_with(|config| config.http.header_read_timeout_secs = 1).await;
    let addr = app.running().http_addr();
    let mut silent = connect_from(addr, "127.0.0.1").await;
    let mut half = connect_from(addr, "127.0.0.1").await;

    half.write_all(b"GET /api/v1/categories HTTP/1.1\r\nhost: hu")
        .await
        .unwrap();
    let timed_out = read_answer(&mut half).await;
    closed_by_hub(&mut silent).await;

    assert_json_error(&timed_out, 408, "timeout");
    closed_by_hub(&mut half).await;
}

#[tokio::test]
async fn a_body_that_trickles_in_too_slowly_gets_408() {
    let app = TestApp::spawn_with(|config| config.http.request_timeout_secs = 1).await;
    let mut stream = connect_from(app.running().http_addr(), "127.0.0.1").await;

    let answer = exchange(
        &mut stream,
        b"POST /api/v1/reports HTTP/1.1\r\nhost: hub\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"client_ref\":",
    )
    .await;

    assert_json_error(&answer, 408, "timeout");
    assert_eq!(app.stored_reports(), 0);
}

#[tokio::test]
async fn connections_over_the_per_address_limit_are_refused_with_json_and_others_still_connect() {
    let app = TestApp::spawn_with(|config| config.http.max_connections_per_ip = 3).await;
    let addr = app.running().http_addr();
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = connect_from(addr, "127.0.0.5").await;
        let answer = exchange(&mut stream, b"GET /healthz HTTP/1.1\r\nhost: hub\r\n\r\n").await;
        assert_eq!(answer.status, 200);
        held.push(stream);
    }

    let mut fourth = connect_from(addr, "127.0.0.5").await;
    let refused = read_answer(&mut fourth).await;
    let mut elsewhere = connect_from(addr, "127.0.0.6").await;
    let served = exchange(
        &mut elsewhere,
        b"GET /healthz HTTP/1.1\r\nhost: hub\r\n\r\n",
    )
    .await;

    assert_json_error(&refused, 429, "rate_limited");
    assert!(refused.header("retry-after").is_some());
    assert_eq!(served.status, 200);
    drop(held);
}

#[tokio::test]
async fn under_open311_even_a_layers_refusal_is_an_open311_error_list() {
    let app = TestApp::spawn().await;
    let slow =
        TestApp::spawn_with(|config| config.limits.http_requests_per_second_per_ip = 1).await;
    let long_path = format!("/open311/v2/requests.json?status={}", "x".repeat(10 * 1024));
    let oversize =
        "content-type: application/x-www-form-urlencoded\r\ncontent-length: 99999999\r\n";

    let mut answers = vec![
        (414, raw_get(&app, &long_path, "").await),
        (404, raw_get(&app, "/open311/v2/discovery.json", "").await),
    ];
    let mut stream = connect_from(app.running().http_addr(), "127.0.0.1").await;
    let request = format!("POST /open311/v2/requests.json HTTP/1.1\r\nhost: hub\r\n{oversize}\r\n");
    answers.push((413, exchange(&mut stream, request.as_bytes()).await));
    let limited = loop {
        let answer = raw_get(&slow, "/open311/v2/services.json", "").await;
        if answer.status != 200 {
            break answer;
        }
    };
    answers.push((429, limited));

    for (status, answer) in answers {
        assert_eq!(answer.status, status, "{}", answer.head);
        let errors = answer.json();
        assert_valid("open311-errors", &errors);
        assert_eq!(errors[0]["code"], status, "{errors}");
    }
}
