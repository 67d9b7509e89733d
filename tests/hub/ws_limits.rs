//! WebSocket sessions within bounds: broken and oversize messages get their close codes, every
//! frame type has a rate, and a peer that stops answering pings is let go.

use futures_util::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

use crate::support::{TestApp, WsClient, until};

#[tokio::test]
async fn invalid_utf8_in_a_text_frame_is_closed_with_1007() {
    let app = TestApp::spawn().await;
    let mut client = WsClient::connect(&app.ws_url()).await;

    let broken = Frame::message(vec![b'{', 0xff, 0xfe, b'}'], OpCode::Data(Data::Text), true);
    client.send(Message::Frame(broken)).await;
    // A client that goes on sending still gets the close, not a reset.
    client.send_unanswered(2_000).await;

    let (code, reason) = client.closed().await.expect("a close frame");
    assert_eq!(code, 1007, "{reason}");
}

#[tokio::test]
async fn a_message_over_twice_the_limit_is_closed_with_1009_not_reset() {
    let app = TestApp::spawn_with(|config| config.intake.max_body_bytes = 1024 * 1024).await;
    let (mut stream, _) = tokio_tungstenite::connect_async(app.ws_url())
        .await
        .unwrap();
    let seven_mib = "x".repeat(7 * 1024 * 1024);

    let _ = stream.send(Message::text(seven_mib)).await;
    let mut client = WsClient::from_stream(stream);

    let (code, reason) = client.closed().await.expect("a close frame, not a reset");
    assert_eq!(code, 1009, "{reason}");
}

#[tokio::test]
async fn follow_frames_beyond_their_rate_are_refused_and_a_session_that_keeps_on_is_closed() {
    let app = TestApp::spawn_with(|config| config.ws.queries_per_minute = 30).await;
    let mut client = WsClient::connect(&app.ws_url()).await;
    let token = format!(
        "vft_019a0000-0000-7000-8000-000000000000.{}",
        "B".repeat(43)
    );
    let follow = json!({ "type": "follow", "tokens": [token] });

    let mut codes = Vec::new();
    for _ in 0..15 {
        client.send_json(&follow).await;
        codes.push(
            client.next_frame().await["error"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for _ in 0..30 {
        client.send(Message::text(follow.to_string())).await;
    }

    assert!(
        codes[..10].iter().all(|code| code == "unauthorized"),
        "{codes:?}"
    );
    assert!(
        codes[10..].iter().all(|code| code == "rate_limited"),
        "{codes:?}"
    );
    let (code, _) = client
        .closed()
        .await
        .expect("closed after ignoring the refusals");
    assert_eq!(code, 1008);
    assert!(
        app.running()
            .hub()
            .metrics
            .render()
            .contains("limit=\"ws_frames\"")
    );
}

#[tokio::test]
async fn a_client_flooding_frames_past_its_rate_gets_the_1008_close_not_a_reset() {
    let app = TestApp::spawn_with(|config| config.ws.frames_per_second = 5).await;
    let mut client = WsClient::connect(&app.ws_url()).await;

    // Far more than the 10 of the burst and the 20 refusals that close the session, sent
    // without reading, so that the hub closes with frames of this client still unread.
    client.send_unanswered(2_000).await;

    let (code, reason) = client.closed().await.expect("a close frame, not a reset");
    assert_eq!(code, 1008, "{reason}");
}

#[tokio::test]
async fn every_frame_counts_against_the_session_frame_rate() {
    let app = TestApp::spawn_with(|config| config.ws.frames_per_second = 5).await;
    let mut client = WsClient::connect(&app.ws_url()).await;

    for _ in 0..12 {
        client.send(Message::text("{\"type\": \"nonsense\"}")).await;
    }
    let mut codes = Vec::new();
    for _ in 0..12 {
        codes.push(
            client.next_frame().await["error"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }

    assert_eq!(
        codes
            .iter()
            .filter(|code| *code == "unknown_frame_type")
            .count(),
        10
    );
    assert_eq!(
        codes.iter().filter(|code| *code == "rate_limited").count(),
        2
    );
}

#[tokio::test]
async fn a_peer_that_answers_no_ping_is_let_go() {
    let app = TestApp::spawn_with(|config| config.ws.ping_interval_secs = 1).await;
    let metrics = app.running().hub().metrics.clone();
    let no_pong = || {
        metrics
            .render()
            .contains("vedetta_ws_closed_total{reason=\"no_pong\"} 1")
    };

    // Never read: a client that does not read never answers a ping.
    let (silent, _) = tokio_tungstenite::connect_async(app.ws_url())
        .await
        .unwrap();
    until("the silent session is dropped", no_pong).await;

    let mut client = WsClient::from_stream(silent);
    assert!(
        client.closed().await.is_none(),
        "the hub dropped the connection"
    );
}
