//! A real WebSocket client (tokio-tungstenite) that checks every frame against the schema.

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{TIMEOUT, assert_valid};

pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub welcome: Value,
}

impl WsClient {
    /// Connects and reads the `welcome` frame.
    pub async fn connect(url: &str) -> WsClient {
        let (stream, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("websocket connects");
        let mut client = WsClient {
            stream,
            welcome: Value::Null,
        };
        client.welcome = client.next_frame().await;
        assert_eq!(client.welcome["type"], "welcome");
        client
    }

    /// Wraps a connection the test set up itself; the `welcome` is left for the test to read.
    pub fn from_stream(stream: WebSocketStream<MaybeTlsStream<TcpStream>>) -> WsClient {
        WsClient {
            stream,
            welcome: Value::Null,
        }
    }

    pub async fn send_json(&mut self, frame: &Value) {
        assert_valid("ws-client-frame", frame);
        self.send(Message::text(frame.to_string())).await;
    }

    /// Sends anything, valid or not.
    pub async fn send(&mut self, message: Message) {
        self.stream.send(message).await.expect("websocket send");
    }

    /// Sends `count` frames without reading, until the first send fails.
    pub async fn send_unanswered(&mut self, count: usize) {
        for _ in 0..count {
            if self
                .stream
                .send(Message::text("{\"type\": 1}"))
                .await
                .is_err()
            {
                return;
            }
        }
    }

    /// Sends a report frame and returns the hub's answer.
    pub async fn report(&mut self, report: &Value) -> Value {
        self.send_json(&serde_json::json!({ "type": "report", "report": report }))
            .await;
        self.next_frame().await
    }

    /// Subscribes; returns the frames owed before `subscribed`, and `subscribed` itself.
    pub async fn subscribe(&mut self, subscription: Value) -> (Vec<Value>, Value) {
        let mut frame = subscription;
        frame["type"] = serde_json::json!("subscribe");
        self.send_json(&frame).await;
        let mut owed = Vec::new();
        loop {
            let next = self.next_frame().await;
            match next["type"].as_str() {
                Some("subscribed") => return (owed, next),
                Some("error") => panic!("subscription refused: {next}"),
                _ => owed.push(next),
            }
        }
    }

    /// Follows reports; returns the updates replayed, and `following` itself.
    pub async fn follow(&mut self, follow: Value) -> (Vec<Value>, Value) {
        let mut frame = follow;
        frame["type"] = serde_json::json!("follow");
        self.send_json(&frame).await;
        let mut replayed = Vec::new();
        loop {
            let next = self.next_frame().await;
            match next["type"].as_str() {
                Some("following") => return (replayed, next),
                Some("error") => panic!("follow refused: {next}"),
                _ => replayed.push(next),
            }
        }
    }

    /// Staff: watches the live queue.
    pub async fn watch(&mut self) -> Value {
        self.send_json(&serde_json::json!({ "type": "watch" }))
            .await;
        self.next_frame().await
    }

    /// The next frame of type `kind`, skipping others (the live queue carries many kinds).
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.next_frame().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Logs the session in as the holder of `token`.
    pub async fn auth(&mut self, token: &str) -> Value {
        self.send_json(&serde_json::json!({ "type": "auth", "token": token }))
            .await;
        self.next_frame().await
    }

    /// The next text frame from the hub, checked against `ws-server-frame`.
    pub async fn next_frame(&mut self) -> Value {
        let text = self.next_text().await;
        let frame: Value = serde_json::from_str(&text).expect("frames are JSON");
        assert_valid("ws-server-frame", &frame);
        frame
    }

    /// The next text frame exactly as it came off the wire.
    pub async fn next_text(&mut self) -> String {
        loop {
            let message = tokio::time::timeout(TIMEOUT, self.stream.next())
                .await
                .expect("a frame within the timeout")
                .expect("the connection is open")
                .expect("a readable frame");
            match message {
                Message::Text(text) => return text.to_string(),
                Message::Close(frame) => panic!("the hub closed the connection: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// Waits for the hub to close the connection and returns the close code and reason.
    pub async fn closed(&mut self) -> Option<(u16, String)> {
        loop {
            let next = tokio::time::timeout(TIMEOUT, self.stream.next())
                .await
                .expect("close within the timeout");
            match next {
                Some(Ok(Message::Close(frame))) => {
                    return frame.map(|f| (f.code.into(), f.reason.to_string()));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }
}
