//! Frames shared by WebSocket and MQTT: JSON objects with a `type` field.
//!
//! Client frames are in `schemas/ws-client-frame.schema.json`; what the hub sends is in
//! `schemas/ws-server-frame.schema.json` (WebSocket) and `schemas/mqtt-inbox.schema.json` (MQTT).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::problem::{ErrorCode, Problem};
use crate::reports::{RawSubmission, Receipt};

/// What a client may send.
#[derive(Debug)]
pub enum ClientFrame {
    Report(RawSubmission),
    Auth(AuthFrame),
    Subscribe(SubscribeFrame),
    Follow(FollowFrame),
    Watch(WatchFrame),
    Viewing(ViewingFrame),
}

impl ClientFrame {
    /// The frame's type if answering it reads the database (it has its own, slower rate).
    pub fn reads_database(&self) -> Option<&'static str> {
        match self {
            ClientFrame::Report(_) | ClientFrame::Viewing(_) => None,
            ClientFrame::Auth(_) => Some("auth"),
            ClientFrame::Subscribe(_) => Some("subscribe"),
            ClientFrame::Follow(_) => Some("follow"),
            ClientFrame::Watch(_) => Some("watch"),
        }
    }
}

/// `{"type": "follow", "tokens": ["vft_..."], "cursor": 17}`: a reporter asks for the updates
/// on its reports, from after `cursor`, naming each by the `follow_token` of its ack.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowFrame {
    #[serde(rename = "type")]
    _kind: String,
    #[serde(default)]
    pub tokens: Vec<String>,
    pub cursor: Option<i64>,
    /// No longer a way to follow: anyone could name a device. Read only to say so.
    device_id: Option<Value>,
    client_refs: Option<Value>,
}

impl FollowFrame {
    /// Refuses the old ways of following, which let anyone read someone else's updates.
    pub fn check_no_identity(&self) -> Result<(), Problem> {
        let field = match (&self.device_id, &self.client_refs) {
            (Some(_), _) => "device_id",
            (None, Some(_)) => "client_refs",
            (None, None) => return Ok(()),
        };
        Err(Problem::with_field(
            ErrorCode::InvalidField,
            field,
            format!(
                "reports are no longer followed by `{field}`: send `tokens`, the `follow_token` of each report's ack"
            ),
        ))
    }
}

/// `{"type": "watch"}`: staff receive every new report, change, overdue alert, incident,
/// task and device state, live.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchFrame {
    #[serde(rename = "type")]
    _kind: String,
}

/// `{"type": "viewing", "report_id": "..."}`: staff say which report they have open
/// (`null`: none), so that colleagues watching the queue see it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewingFrame {
    #[serde(rename = "type")]
    _kind: String,
    #[serde(default)]
    pub report_id: Option<String>,
}

/// `{"type": "auth", "token": "..."}`: staff log a session in with their API token.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthFrame {
    #[serde(rename = "type")]
    _kind: String,
    pub token: String,
}

/// `{"type": "subscribe", ...}` with exactly one of `zones`, `point` or `all`, and optionally the
/// `cursor` of the last notice frame received.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscribeFrame {
    #[serde(rename = "type")]
    _kind: String,
    pub zones: Option<Vec<String>>,
    pub point: Option<PointFrame>,
    pub all: Option<bool>,
    pub cursor: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointFrame {
    pub lat: f64,
    pub lon: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportFrame {
    #[serde(rename = "type")]
    kind: String,
    report: RawSubmission,
}

/// A frame the hub refused, with the `client_ref` it carried (if any) so the client can match it.
#[derive(Debug)]
pub struct Refusal {
    pub problem: Problem,
    pub client_ref: Option<String>,
}

/// What the hub sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// First frame of a session: who answers and what it accepts.
    Welcome {
        office: String,
        version: &'static str,
        max_message_bytes: usize,
    },
    /// A report is on disk.
    Ack { client_ref: String, report: Receipt },
    /// The session now acts as this staff member.
    Authenticated { user: crate::auth::Staff },
    /// The notices in force (or missed since `cursor`) were sent; live ones follow.
    Subscribed { cursor: i64, sent: usize },
    /// The updates missed since the `follow` cursor were sent; live ones follow.
    Following { cursor: i64, sent: usize },
    /// Live staff events follow.
    Watching,
    Error {
        #[serde(flatten)]
        problem: Problem,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_ref: Option<String>,
    },
}

impl ServerFrame {
    pub fn ack(receipt: Receipt) -> ServerFrame {
        ServerFrame::Ack {
            client_ref: receipt.client_ref.as_str().to_owned(),
            report: receipt,
        }
    }

    pub fn refused(refusal: Refusal) -> ServerFrame {
        ServerFrame::Error {
            problem: refusal.problem,
            client_ref: refusal.client_ref,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("server frames always serialize")
    }
}

/// Reads a client frame, dispatching on `type` before checking the rest so errors name fields.
pub fn parse_client_frame(bytes: &[u8]) -> Result<ClientFrame, Refusal> {
    // The frame nearly every message is, read straight into its type; anything that does not
    // read cleanly so goes the long way below, which says exactly what is wrong.
    let object = bytes.trim_ascii_start().first() == Some(&b'{');
    if object
        && let Ok(frame) = serde_json::from_slice::<ReportFrame>(bytes)
        && frame.kind == "report"
    {
        return Ok(ClientFrame::Report(frame.report));
    }
    let value: Value = Problem::parse_json(bytes).map_err(|problem| Refusal {
        problem,
        client_ref: None,
    })?;
    let client_ref = value
        .pointer("/report/client_ref")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let refuse = |problem: Problem| Refusal {
        problem,
        client_ref: client_ref.clone(),
    };
    match value.get("type").and_then(Value::as_str) {
        Some("report") => {
            let frame: ReportFrame = Problem::from_value(value).map_err(refuse)?;
            Ok(ClientFrame::Report(frame.report))
        }
        Some("auth") => Ok(ClientFrame::Auth(
            Problem::from_value(value).map_err(refuse)?,
        )),
        Some("subscribe") => Ok(ClientFrame::Subscribe(
            Problem::from_value(value).map_err(refuse)?,
        )),
        Some("follow") => Ok(ClientFrame::Follow(
            Problem::from_value(value).map_err(refuse)?,
        )),
        Some("watch") => Ok(ClientFrame::Watch(
            Problem::from_value(value).map_err(refuse)?,
        )),
        Some("viewing") => Ok(ClientFrame::Viewing(
            Problem::from_value(value).map_err(refuse)?,
        )),
        Some(other) => Err(refuse(Problem::with_field(
            ErrorCode::UnknownFrameType,
            "type",
            format!(
                "`{}` is not a frame type this hub knows; send report, subscribe, follow, watch, viewing or auth",
                other.chars().take(40).collect::<String>()
            ),
        ))),
        None => Err(refuse(Problem::with_field(
            ErrorCode::MissingField,
            "type",
            "every frame needs a string `type`, such as \"report\"",
        ))),
    }
}

/// The `client_ref` of a raw report payload, read leniently, for correlating an error.
pub fn client_ref_hint(bytes: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Hint {
        client_ref: Option<String>,
    }
    serde_json::from_slice::<Hint>(bytes).ok()?.client_ref
}

/// The answer to a report: an ack, or an error carrying the report's `client_ref`.
pub fn answer(outcome: Result<Receipt, Problem>, client_ref: Option<String>) -> ServerFrame {
    match outcome {
        Ok(receipt) => ServerFrame::ack(receipt),
        Err(problem) => ServerFrame::Error {
            problem,
            client_ref,
        },
    }
}

/// A message over the size limit, before any parsing.
pub fn too_large(size: usize, limit: usize) -> Problem {
    Problem::new(
        ErrorCode::TooLarge,
        format!("the message has {size} bytes; the limit is {limit}: send a smaller photo or text"),
    )
}
