//! Prometheus metrics: what the hub counts, and the text exposition served at `/metrics`.
//!
//! Every label value is a `&'static str` chosen in the code (a channel, an outcome, a reason),
//! so nothing a sender wrote, and no person, device or address, can ever become a label.

use std::sync::Arc;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// A label set whose values can only be compile-time strings.
pub type Labels<const N: usize> = [(&'static str, &'static str); N];

/// The writer thread's numbers; the store owns them, the registry reads them.
#[derive(Clone)]
pub struct WriterMetrics {
    /// Jobs per committed transaction.
    pub batch_size: Histogram,
    /// From BEGIN to the end of COMMIT (fsync included).
    pub commit_seconds: Histogram,
    /// Copying the write-ahead log back into the database, mostly beside the writer.
    pub checkpoint_seconds: Histogram,
    /// Jobs by outcome: `committed`, `failed` (refused or rolled back), `panicked`.
    pub jobs: Family<Labels<1>, Counter>,
}

impl Default for WriterMetrics {
    fn default() -> WriterMetrics {
        WriterMetrics {
            batch_size: Histogram::new(exponential_buckets(1.0, 2.0, 10)),
            commit_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 14)),
            checkpoint_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 14)),
            jobs: Family::default(),
        }
    }
}

impl WriterMetrics {
    pub fn job(&self, outcome: &'static str) {
        self.jobs.get_or_create(&[("outcome", outcome)]).inc();
    }
}

/// Everything the hub counts. Cheap to share: each metric is a handle onto shared atomics.
pub struct Metrics {
    registry: Registry,
    /// Reports by `channel` and `outcome` (`accepted`, `duplicate`, or the error code).
    pub reports: Family<Labels<2>, Counter>,
    /// Refusals for being over a limit, by `limit`.
    pub rate_limited: Family<Labels<1>, Counter>,
    /// Login attempts by `outcome`: `ok`, `failed`, `throttled`, `busy`.
    pub logins: Family<Labels<1>, Counter>,
    /// Notices published, by CAP `msg_type`.
    pub notices_published: Family<Labels<1>, Counter>,
    /// Open WebSocket sessions.
    pub ws_sessions: Gauge,
    /// WebSocket sessions the hub closed, by `reason`.
    pub ws_closed: Family<Labels<1>, Counter>,
    /// Open TCP connections to the HTTP listener (WebSocket sessions included).
    pub connections: Gauge,
    /// Connections refused at accept, by `reason`.
    pub connections_refused: Family<Labels<1>, Counter>,
    /// The MQTT link, refreshed when metrics are read.
    pub mqtt: MqttMetrics,
    /// Outbox deliveries waiting, by `channel`; refreshed when metrics are read.
    pub outbox_waiting: Family<Labels<1>, Gauge>,
    /// Age in seconds of the oldest waiting delivery, by `channel`.
    pub outbox_oldest_seconds: Family<Labels<1>, Gauge<f64, std::sync::atomic::AtomicU64>>,
}

/// MQTT numbers, copied from the link's own state at each scrape.
#[derive(Clone, Default)]
pub struct MqttMetrics {
    /// 1 for the link's current state (`connected`, `connecting`...), 0 for the others.
    pub state: Family<Labels<1>, Gauge>,
    /// Messages received from the broker and not yet acknowledged.
    pub unacked: Gauge,
    /// Messages being handled right now.
    pub in_flight: Gauge,
    /// 1 while intake is stuck (see `/readyz`).
    pub stalled: Gauge,
    pub received: Counter,
    pub acked: Counter,
}

impl Metrics {
    /// Builds the registry, including the writer's metrics owned by the store.
    pub fn new(writer: &WriterMetrics) -> Arc<Metrics> {
        let mut metrics = Metrics {
            reports: Family::default(),
            rate_limited: Family::default(),
            logins: Family::default(),
            notices_published: Family::default(),
            ws_sessions: Gauge::default(),
            ws_closed: Family::default(),
            connections: Gauge::default(),
            connections_refused: Family::default(),
            mqtt: MqttMetrics::default(),
            outbox_waiting: Family::default(),
            outbox_oldest_seconds: Family::default(),
            registry: Registry::with_prefix("vedetta"),
        };
        let mut registry = std::mem::take(&mut metrics.registry);
        metrics.register(&mut registry, writer);
        metrics.registry = registry;
        Arc::new(metrics)
    }

    fn register(&self, registry: &mut Registry, writer: &WriterMetrics) {
        let r = registry;
        r.register(
            "reports",
            "Reports by channel and outcome",
            self.reports.clone(),
        );
        r.register(
            "rate_limited",
            "Refusals over a limit",
            self.rate_limited.clone(),
        );
        r.register("logins", "Login attempts by outcome", self.logins.clone());
        r.register(
            "outbox_waiting",
            "Outbox deliveries queued or retrying, by channel",
            self.outbox_waiting.clone(),
        );
        r.register(
            "outbox_oldest_waiting_seconds",
            "Age of the oldest outbox delivery still waiting, by channel",
            self.outbox_oldest_seconds.clone(),
        );
        r.register(
            "notices_published",
            "Notices published by msg_type",
            self.notices_published.clone(),
        );
        r.register(
            "ws_sessions",
            "Open WebSocket sessions",
            self.ws_sessions.clone(),
        );
        r.register(
            "ws_closed",
            "WebSocket sessions closed by the hub",
            self.ws_closed.clone(),
        );
        r.register(
            "connections",
            "Open HTTP connections",
            self.connections.clone(),
        );
        r.register(
            "connections_refused",
            "Connections refused at accept",
            self.connections_refused.clone(),
        );
        register_writer(r, writer);
        register_mqtt(r, &self.mqtt);
    }

    pub fn report(&self, channel: &'static str, outcome: &'static str) {
        self.reports
            .get_or_create(&[("channel", channel), ("outcome", outcome)])
            .inc();
    }

    pub fn limited(&self, limit: &'static str) {
        self.rate_limited.get_or_create(&[("limit", limit)]).inc();
    }

    pub fn login(&self, outcome: &'static str) {
        self.logins.get_or_create(&[("outcome", outcome)]).inc();
    }

    pub fn ws_closed(&self, reason: &'static str) {
        self.ws_closed.get_or_create(&[("reason", reason)]).inc();
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}

impl MqttMetrics {
    /// Copies the link's state; counters only move forward.
    pub fn refresh(&self, state: &'static str, states: &[&'static str], intake: MqttCounts) {
        for each in states {
            let value = i64::from(*each == state);
            self.state.get_or_create(&[("state", each)]).set(value);
        }
        self.unacked.set(intake.unacked as i64);
        self.in_flight.set(intake.in_flight as i64);
        self.stalled.set(i64::from(intake.stalled));
        self.received
            .inc_by(intake.received_total.saturating_sub(self.received.get()));
        self.acked
            .inc_by(intake.acked_total.saturating_sub(self.acked.get()));
    }
}

/// Counts one open thing (a session) on a gauge for as long as it lives.
pub struct GaugeGuard(Gauge);

impl GaugeGuard {
    pub fn new(gauge: &Gauge) -> GaugeGuard {
        gauge.inc();
        GaugeGuard(gauge.clone())
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// What the MQTT link reports at a scrape.
#[derive(Debug, Clone, Copy, Default)]
pub struct MqttCounts {
    pub unacked: u64,
    pub in_flight: u64,
    pub stalled: bool,
    pub received_total: u64,
    pub acked_total: u64,
}

fn register_writer(r: &mut Registry, writer: &WriterMetrics) {
    r.register(
        "writer_batch_size",
        "Jobs per committed transaction",
        writer.batch_size.clone(),
    );
    r.register(
        "writer_commit_seconds",
        "Transaction time, fsync included",
        writer.commit_seconds.clone(),
    );
    r.register(
        "writer_checkpoint_seconds",
        "Copying the write-ahead log back into the database",
        writer.checkpoint_seconds.clone(),
    );
    r.register("writer_jobs", "Write jobs by outcome", writer.jobs.clone());
}

fn register_mqtt(r: &mut Registry, mqtt: &MqttMetrics) {
    r.register("mqtt_state", "MQTT link state", mqtt.state.clone());
    r.register(
        "mqtt_unacked",
        "MQTT messages waiting for their acknowledgement",
        mqtt.unacked.clone(),
    );
    r.register(
        "mqtt_in_flight",
        "MQTT messages being handled",
        mqtt.in_flight.clone(),
    );
    r.register(
        "mqtt_stalled",
        "1 while MQTT intake is stuck",
        mqtt.stalled.clone(),
    );
    r.register(
        "mqtt_received",
        "QoS 1 messages received from the broker",
        mqtt.received.clone(),
    );
    r.register(
        "mqtt_acked",
        "Acknowledgements sent to the broker",
        mqtt.acked.clone(),
    );
}
