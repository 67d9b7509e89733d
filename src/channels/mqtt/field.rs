//! Reporters and field devices on MQTT.
//!
//! - Status updates on a report sent over MQTT go to `<prefix>/devices/<id>/updates` at QoS 1;
//!   the device's persistent session keeps them while it is away. The hub subscribes to the
//!   same topics: an update routed back is held by the broker, and is marked confirmed. Updates
//!   still unconfirmed are published again on every (re)connection; devices drop repeats by
//!   their `cursor`.
//! - A task is retained on `<prefix>/devices/<id>/tasks/<task_id>` for each device it was sent
//!   to, replaced as it moves on and cleared when it is done.
//! - Devices publish `state` (Last Will `lost`), `position` and `answers`; errors go back on
//!   the device's inbox.

use rumqttc::Publish;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::MqttLink;
use super::handled::{Handled, Reply};
use super::topics::DeviceTopic;
use crate::bus::{self, Event, Events, Heard};
use crate::channels::frames::ServerFrame;
use crate::problem::{ErrorCode, Problem};
use crate::reports::{DeviceId, Source};
use crate::triage::field::{Task, TaskStatus};
use crate::triage::{ReportChange, Triage};

#[derive(Clone)]
pub(super) struct FieldSync {
    pub(super) link: MqttLink,
    pub(super) triage: Triage,
}

/// What the hub needs to read back from its own update frames.
#[derive(Deserialize)]
struct EchoedUpdate {
    cursor: i64,
}

impl FieldSync {
    /// Mirrors committed report changes and tasks onto the broker.
    pub(super) async fn follow(self, bus: Events, shutdown: CancellationToken) {
        let mut events = bus.subscribe();
        while let Some(heard) = bus::next(&mut events, &shutdown).await {
            match heard {
                Heard::Event(Event::ReportChanged(change)) => self.send_update(&change).await,
                Heard::Event(Event::Task(task)) => self.send_task(&task).await,
                Heard::Event(_) => {}
                Heard::Missed(missed) => {
                    tracing::warn!(missed, "MQTT field sync fell behind; republishing");
                    self.republish_all().await;
                }
            }
        }
    }

    async fn send_update(&self, change: &ReportChange) {
        let (Some(update), Some(device)) = (&change.update, &change.report.device_id) else {
            return;
        };
        if change.report.source != Source::Mqtt {
            return;
        }
        let topic = self.link.topics.device_updates(device);
        self.publish(topic, false, update.frame.clone().into_bytes())
            .await;
    }

    async fn send_task(&self, task: &Task) {
        for device in &task.devices {
            let topic = self.link.topics.device_task(device, &task.id);
            let payload = match task.status {
                TaskStatus::Done => Vec::new(),
                _ => task.frame.clone().into_bytes(),
            };
            self.publish(topic, true, payload).await;
        }
    }

    /// Unconfirmed updates and open tasks, again; run on every (re)connection.
    pub(super) async fn republish_all(&self) {
        let (updates, tasks) = match self.triage.owed_to_devices().await {
            Ok(owed) => owed,
            Err(problem) => {
                return tracing::error!(message = %problem.message, "cannot read what devices are owed");
            }
        };
        for update in updates {
            if let Some(device) = &update.device_id {
                let topic = self.link.topics.device_updates(device);
                self.publish(topic, false, update.frame.into_bytes()).await;
            }
        }
        for task in &tasks {
            self.send_task(task).await;
        }
    }

    /// Queues a publish, waiting for room: see `NoticeSync::send`.
    async fn publish(&self, topic: String, retain: bool, payload: Vec<u8>) {
        self.link.send(topic, retain, payload).await;
    }

    /// Something a device published, or one of the hub's updates routed back. An internal
    /// failure is retried; a bad message is answered with an error on the device's inbox.
    pub(super) async fn on_device_message(&self, publish: &Publish) -> Handled {
        let Some((device, kind)) = self.link.topics.parse_device(&publish.topic) else {
            return Handled::Settled(None);
        };
        let Ok(device) = DeviceId::parse(device, "device_id") else {
            tracing::debug!("ignoring a device message from a topic without a valid device id");
            return Handled::Settled(None);
        };
        let outcome = match kind {
            DeviceTopic::Updates => self.confirm(&publish.payload).await,
            // A cleared retained message: the device is gone for good, nothing to record.
            _ if publish.payload.is_empty() => Ok(()),
            DeviceTopic::State => self.state(device.clone(), &publish.payload).await,
            DeviceTopic::Position => self.position(device.clone(), &publish.payload).await,
            DeviceTopic::Answers => self.answer(device.clone(), &publish.payload).await,
        };
        match outcome {
            Ok(()) => Handled::Settled(None),
            Err(problem) if problem.code == ErrorCode::Internal => Handled::Retry,
            Err(problem) => Handled::Settled(Some(self.error_reply(&device, problem))),
        }
    }

    async fn state(&self, device: DeviceId, payload: &[u8]) -> Result<(), Problem> {
        let raw = Problem::parse_json(payload)?;
        self.triage.device_state(device, raw).await
    }

    async fn position(&self, device: DeviceId, payload: &[u8]) -> Result<(), Problem> {
        let raw = Problem::parse_json(payload)?;
        self.triage.device_position(device, raw).await
    }

    async fn answer(&self, device: DeviceId, payload: &[u8]) -> Result<(), Problem> {
        let raw = Problem::parse_json(payload)?;
        self.triage.answer_task(device, raw).await.map(|_| ())
    }

    /// An update the broker routed back is held for its device. Anything unreadable here is
    /// not the hub's own and is ignored.
    async fn confirm(&self, payload: &[u8]) -> Result<(), Problem> {
        let Ok(echoed) = serde_json::from_slice::<EchoedUpdate>(payload) else {
            return Ok(());
        };
        self.triage.confirm_device_update(echoed.cursor).await
    }

    fn error_reply(&self, device: &DeviceId, problem: Problem) -> Reply {
        let frame = ServerFrame::Error {
            problem,
            client_ref: None,
        };
        Reply {
            topic: self.link.topics.device_inbox(device),
            retain: false,
            payload: frame.to_json().into_bytes(),
        }
    }
}
