//! The publisher connection: everything the hub says (answers to devices, reporter updates,
//! tasks, notices and its own state, with the Last Will `offline`), on a connection of its
//! own so that nothing it queues can hold back an acknowledgement on the intake connection.

use rumqttc::QoS;
use tokio_util::task::TaskTracker;

use super::field::FieldSync;
use super::notices::NoticeSync;
use super::{MqttLink, hub_state};

pub(super) struct PublisherDriver {
    pub(super) link: MqttLink,
    pub(super) notice_sync: NoticeSync,
    pub(super) field_sync: FieldSync,
    pub(super) tasks: TaskTracker,
}

impl PublisherDriver {
    /// Says the hub is online and puts back on the broker whatever it may have lost: notices
    /// in force, unconfirmed updates, open tasks. From a task: only the event loop empties
    /// the request queue these wait for room in.
    pub(super) fn connected(&self) {
        let (link, notices, field) = (
            self.link.clone(),
            self.notice_sync.clone(),
            self.field_sync.clone(),
        );
        self.tasks.spawn(async move {
            link.send(link.topics.hub_state(), true, hub_state("online"))
                .await;
            notices.republish_all().await;
            field.republish_all().await;
        });
    }

    /// The hub's last word before a clean disconnect, and the disconnect itself.
    pub(super) fn goodbye(&self) {
        let client = &self.link.client;
        let _ = client.try_publish(
            self.link.topics.hub_state(),
            QoS::AtLeastOnce,
            true,
            hub_state("offline"),
        );
        let _ = client.try_disconnect();
    }
}
