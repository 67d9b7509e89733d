//! The MQTT topic tree under the office prefix (default `vedetta/<office>`).
//!
//! | topic                              | direction     | QoS | retained |
//! |------------------------------------|---------------|-----|----------|
//! | `<prefix>/reports/<device_id>`     | device -> hub | 1   | no       |
//! | `<prefix>/devices/<device_id>/inbox` | hub -> device | 1 | no       |
//! | `<prefix>/devices/<device_id>/updates` | hub -> device | 1 | no     |
//! | `<prefix>/devices/<device_id>/tasks/<task_id>` | hub -> device | 1 | yes |
//! | `<prefix>/devices/<device_id>/state` | device -> hub | 1 | yes    |
//! | `<prefix>/devices/<device_id>/position` | device -> hub | 1 | yes |
//! | `<prefix>/devices/<device_id>/answers` | device -> hub | 1 | no     |
//! | `<prefix>/hub/state`               | hub -> all    | 1   | yes      |
//! | `<prefix>/notices/<zone_id>/<thread_id>` | hub -> all | 1 | yes   |

use crate::reports::DeviceId;

/// What a device topic the hub subscribes to carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceTopic {
    /// `online`, `offline`, or `lost` from the device's Last Will; retained.
    State,
    /// Where the device is; retained.
    Position,
    /// Answers to tasks.
    Answers,
    /// The hub's own reporter updates, routed back: the broker holds them.
    Updates,
}

impl DeviceTopic {
    const ALL: [(DeviceTopic, &'static str); 4] = [
        (DeviceTopic::State, "state"),
        (DeviceTopic::Position, "position"),
        (DeviceTopic::Answers, "answers"),
        (DeviceTopic::Updates, "updates"),
    ];
}

#[derive(Debug, Clone)]
pub struct Topics {
    prefix: String,
}

impl Topics {
    pub fn new(prefix: impl Into<String>) -> Topics {
        Topics {
            prefix: prefix.into(),
        }
    }

    /// The hub's subscription for reports from every device.
    pub fn reports_filter(&self) -> String {
        format!("{}/reports/+", self.prefix)
    }

    /// The device segment of a report topic, if `topic` is one.
    pub fn report_device<'t>(&self, topic: &'t str) -> Option<&'t str> {
        let device = topic
            .strip_prefix(&self.prefix)?
            .strip_prefix("/reports/")?;
        (!device.is_empty() && !device.contains('/')).then_some(device)
    }

    /// Where the hub answers one device: acks, errors and (later) status updates and tasks.
    pub fn device_inbox(&self, device: &DeviceId) -> String {
        self.inbox_of(device.as_str())
    }

    /// The inbox of a report topic's device segment that is no valid device id (one topic
    /// level, so a topic of its own): where that device is told why nothing was stored.
    pub fn inbox_of(&self, segment: &str) -> String {
        format!("{}/devices/{segment}/inbox", self.prefix)
    }

    /// Status updates on the reports a device sent over MQTT.
    pub fn device_updates(&self, device: &DeviceId) -> String {
        format!("{}/devices/{}/updates", self.prefix, device.as_str())
    }

    /// Where a task is retained for one device until it is done.
    pub fn device_task(&self, device: &DeviceId, task_id: &str) -> String {
        format!(
            "{}/devices/{}/tasks/{task_id}",
            self.prefix,
            device.as_str()
        )
    }

    /// The hub's subscriptions to what devices say.
    pub fn device_filters(&self) -> Vec<String> {
        DeviceTopic::ALL
            .iter()
            .map(|(_, leaf)| format!("{}/devices/+/{leaf}", self.prefix))
            .collect()
    }

    /// (device, kind) of a device topic the hub subscribes to.
    pub fn parse_device<'t>(&self, topic: &'t str) -> Option<(&'t str, DeviceTopic)> {
        let rest = topic
            .strip_prefix(&self.prefix)?
            .strip_prefix("/devices/")?;
        let (device, leaf) = rest.split_once('/')?;
        let kind = DeviceTopic::ALL
            .iter()
            .find(|(_, name)| *name == leaf)
            .map(|(kind, _)| *kind)?;
        (!device.is_empty()).then_some((device, kind))
    }

    /// Every notice topic: the hub subscribes to it to count and reconcile what the broker holds.
    pub fn notices_filter(&self) -> String {
        format!("{}/notices/#", self.prefix)
    }

    /// Where the notice of a thread is retained for one zone.
    pub fn notice(&self, zone_id: &str, thread_id: &str) -> String {
        format!("{}/notices/{zone_id}/{thread_id}", self.prefix)
    }

    /// (zone, thread) of a notice topic.
    pub fn parse_notice<'t>(&self, topic: &'t str) -> Option<(&'t str, &'t str)> {
        let rest = topic
            .strip_prefix(&self.prefix)?
            .strip_prefix("/notices/")?;
        let (zone, thread) = rest.split_once('/')?;
        (!zone.is_empty() && !thread.is_empty() && !thread.contains('/')).then_some((zone, thread))
    }

    /// The hub's own presence, retained; its Last Will sets it to offline.
    pub fn hub_state(&self) -> String {
        format!("{}/hub/state", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_single_level_under_reports_is_a_device() {
        let topics = Topics::new("vedetta/demo");

        assert_eq!(
            topics.report_device("vedetta/demo/reports/tab-1"),
            Some("tab-1")
        );
        assert_eq!(topics.report_device("vedetta/demo/reports/"), None);
        assert_eq!(topics.report_device("vedetta/demo/reports/a/b"), None);
        assert_eq!(topics.report_device("vedetta/other/reports/tab-1"), None);
        assert_eq!(topics.report_device("vedetta/demoX/reports/tab-1"), None);
    }

    #[test]
    fn device_topics_name_the_device_and_what_it_says() {
        let topics = Topics::new("vedetta/demo");

        assert_eq!(
            topics.parse_device("vedetta/demo/devices/tab-1/state"),
            Some(("tab-1", DeviceTopic::State))
        );
        assert_eq!(
            topics.parse_device("vedetta/demo/devices/tab-1/answers"),
            Some(("tab-1", DeviceTopic::Answers))
        );
        assert_eq!(
            topics.parse_device("vedetta/demo/devices/tab-1/inbox"),
            None
        );
        assert_eq!(
            topics.parse_device("vedetta/demo/devices/tab-1/tasks/t1"),
            None
        );
    }
}
