//! The floor of MQTT intake: the shared group-commit floor (`benches/support/floor.rs`) with
//! the row the hub writes for a device's report. No broker, network or JSON.

use std::time::Duration;

use chrono::Utc;
use vedetta::bench_floor::NewReport;
use vedetta::reports::{ClientRef, Contact, DeviceId, Location, Source, ZoneRef};

use crate::AT;

/// Ack latencies over `measure` after `warmup`, with `senders` threads each waiting for its
/// commit before the next insert.
pub fn measure(senders: usize, warmup: Duration, measure: Duration) -> Vec<Duration> {
    crate::floor_loop::measure(senders, warmup, measure, new_report)
}

/// The row the hub writes for a device's MQTT report at `AT`.
fn new_report(n: usize, seq: usize) -> NewReport {
    let zone = |id: &str, level: &str, name: &str| ZoneRef {
        id: id.into(),
        level: level.into(),
        name: name.into(),
    };
    NewReport {
        id: uuid::Uuid::now_v7().to_string(),
        source: Source::Mqtt,
        device_id: Some(DeviceId::parse(&format!("floor-{n}"), "device_id").unwrap()),
        client_ref: ClientRef::parse(&format!("floor-{n}-{seq}"), "client_ref").unwrap(),
        fingerprint: vec![0; 32],
        category: "flooding".into(),
        location: Location {
            lat: AT.0,
            lon: AT.1,
        },
        text: "Acqua alta in via Roma".into(),
        contact: Some(Contact {
            name: Some("Maria Rossi".into()),
            phone: Some("+39 333 1234567".into()),
            email: Some("maria@example.org".into()),
        }),
        media_url: None,
        photo: None,
        zones: vec![
            zone("demo-001", "municipality", "Monteverde"),
            zone("demo-d1", "district", "Distretto Demo Valle del Reno"),
        ],
        in_area: true,
        received_at: Utc::now(),
        acknowledge_due_at: Some(Utc::now() + chrono::Duration::minutes(15)),
        resolve_due_at: Some(Utc::now() + chrono::Duration::hours(24)),
        incident_id: None,
        follow_token_hash: None,
    }
}
