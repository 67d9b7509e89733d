//! The hub under measurement: in this process, notices published through the real workflow.

use std::time::Duration;

use serde_json::json;
use vedetta::auth::{Role, Staff};
use vedetta::config::Config;
use vedetta::notices::Interest;
use vedetta::notices::{Notice, Notices, RawNotice};

use crate::client::Clients;
use crate::{FRAME_BYTES, MEMORY_SUBSCRIBERS, ROUNDS, SUBSCRIBERS, WARMUP_ROUNDS, now_ns};

pub struct HubRun {
    pub latencies: Vec<Duration>,
    /// From the approval's start until it returned, committed: the part of each round that
    /// comes before the fan-out.
    pub approvals: Vec<Duration>,
    /// The exact frame the hub sent in the last round; the other peers send the same.
    pub frame: String,
    pub bytes_per_connection: f64,
    /// CPU the whole hub process used per round, in ms.
    pub cpu_per_round: f64,
}

fn staff(name: &str, role: Role) -> Staff {
    Staff {
        id: 0,
        name: name.into(),
        role,
    }
}

fn body(description: usize) -> RawNotice {
    serde_json::from_value(json!({
        "status": "Test", "category": ["Met"], "urgency": "Immediate", "severity": "Severe", "certainty": "Likely",
        "expires": (chrono::Utc::now() + chrono::Duration::hours(6)).to_rfc3339(),
        "info": { "it": { "event": "Allerta idraulica", "headline": "Allerta rossa per piena del Reno",
                          "description": "x".repeat(description), "instruction": "Allontanarsi dagli argini." } },
        "area": { "zones": ["demo-001"] }
    }))
    .unwrap()
}

/// Resident memory of this process, from /proc.
fn resident_bytes() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: f64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096.0
}

pub fn measure() -> HubRun {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = runtime
        .block_on(vedetta::app::start(Config::ephemeral(dir.path())))
        .unwrap();
    let notices = app.hub().notices.clone();
    let (operator, approver) = (staff("olga", Role::Operator), staff("aldo", Role::Approver));
    let publish = |draft: &Notice| {
        runtime
            // Confirmed as meant, whatever its width: the bench measures delivery only.
            .block_on(notices.approve(&approver, &draft.id, draft.version, "Test", true))
            .unwrap()
    };
    let probe = runtime
        .block_on(notices.draft(&operator, body(100)))
        .unwrap();
    publish(&probe);
    let padding = 100 + FRAME_BYTES - last_frame(&runtime, &notices).len();
    let drafts: Vec<Notice> = (0..WARMUP_ROUNDS + ROUNDS)
        .map(|_| {
            runtime
                .block_on(notices.draft(&operator, body(padding)))
                .unwrap()
        })
        .collect();

    let url = format!("ws://{}/ws", app.http_addr());
    let before = resident_bytes();
    let mut clients = Clients::spawn(&url, SUBSCRIBERS, true);
    let (mut latencies, mut approvals) = (Vec::new(), Vec::new());
    let cpu_start = crate::cpu_ms();
    for (round, draft) in drafts.iter().enumerate() {
        let published = now_ns();
        publish(draft);
        let approved = now_ns();
        let last_receipt = clients.round();
        if round >= WARMUP_ROUNDS {
            latencies.push(Duration::from_nanos((last_receipt - published) as u64));
            approvals.push(Duration::from_nanos((approved - published) as u64));
        }
    }
    let cpu_per_round = (crate::cpu_ms() - cpu_start) / (WARMUP_ROUNDS + ROUNDS) as f64;
    // The memory target is stated at 15,000 connections: the rest join after the rounds.
    let more = Clients::spawn(&url, MEMORY_SUBSCRIBERS - SUBSCRIBERS, true);
    let bytes_per_connection = (resident_bytes() - before) / MEMORY_SUBSCRIBERS as f64;
    let frame = last_frame(&runtime, &notices);
    drop((clients, more));
    runtime.block_on(app.shutdown()).unwrap();
    HubRun {
        latencies,
        approvals,
        frame,
        bytes_per_connection,
        cpu_per_round,
    }
}

fn last_frame(runtime: &tokio::runtime::Runtime, notices: &Notices) -> String {
    let owed = runtime
        .block_on(notices.owed(Interest::Everything, Some(0)))
        .unwrap();
    String::from_utf8(owed.events.last().unwrap().frame.clone()).unwrap()
}
