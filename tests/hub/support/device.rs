//! A field device on the real broker: publishes reports, reads its inbox.

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::{Broker, TIMEOUT, assert_valid};

pub struct Device {
    pub id: String,
    pub client: AsyncClient,
    prefix: String,
    inbox_rx: mpsc::UnboundedReceiver<(String, Vec<u8>)>,
    subscribed_rx: mpsc::UnboundedReceiver<()>,
    /// How many of this device's QoS 1 publishes the broker has acknowledged.
    broker_acks_rx: watch::Receiver<usize>,
    poller: JoinHandle<()>,
}

impl Device {
    /// Connects as `id` (its MQTT client id) and subscribes to its inbox at QoS 1.
    pub async fn connect(broker: &Broker, prefix: &str, id: &str) -> Device {
        Device::connect_with(broker, prefix, id, |_| {}).await
    }

    /// Connects after letting the test set options: a persistent session, a Last Will.
    pub async fn connect_with(
        broker: &Broker,
        prefix: &str,
        id: &str,
        adjust: impl FnOnce(&mut MqttOptions),
    ) -> Device {
        let mut options = MqttOptions::new(id, "127.0.0.1", broker.port());
        options.set_max_packet_size(2 * 1024 * 1024, 2 * 1024 * 1024);
        adjust(&mut options);
        let (client, mut eventloop) = AsyncClient::new(options, 100);
        let (inbox_tx, inbox_rx) = mpsc::unbounded_channel();
        let (subscribed_tx, subscribed_rx) = mpsc::unbounded_channel();
        let (broker_acks_tx, broker_acks_rx) = watch::channel(0);
        let poller = tokio::spawn(async move {
            while let Ok(event) = eventloop.poll().await {
                match event {
                    Event::Incoming(Packet::PubAck(_)) => {
                        broker_acks_tx.send_modify(|acks| *acks += 1);
                    }
                    Event::Incoming(Packet::Publish(publish)) => {
                        let _ = inbox_tx.send((publish.topic.clone(), publish.payload.to_vec()));
                    }
                    Event::Incoming(Packet::SubAck(_)) => {
                        let _ = subscribed_tx.send(());
                    }
                    Event::Outgoing(rumqttc::Outgoing::Disconnect) => break,
                    _ => {}
                }
            }
        });
        let mut device = Device {
            id: id.to_owned(),
            client,
            prefix: prefix.to_owned(),
            inbox_rx,
            subscribed_rx,
            broker_acks_rx,
            poller,
        };
        let inbox = format!("{prefix}/devices/{id}/inbox");
        device.subscribe(&inbox).await;
        device
    }

    /// Subscribes and waits for the broker's SUBACK.
    pub async fn subscribe(&mut self, filter: &str) {
        self.client
            .subscribe(filter, QoS::AtLeastOnce)
            .await
            .expect("subscribe");
        tokio::time::timeout(TIMEOUT, self.subscribed_rx.recv())
            .await
            .expect("SUBACK within the timeout");
    }

    /// Waits until the broker has acknowledged `count` of this device's publishes: they are
    /// the broker's to deliver from then on.
    pub async fn broker_has(&mut self, count: usize) {
        tokio::time::timeout(TIMEOUT, self.broker_acks_rx.wait_for(|acks| *acks >= count))
            .await
            .expect("the broker acknowledged every publish in time")
            .expect("the device is connected");
    }

    /// Publishes raw bytes on this device's report topic at QoS 1.
    pub async fn publish_report_bytes(&self, payload: Vec<u8>) {
        let topic = format!("{}/reports/{}", self.prefix, self.id);
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .expect("publish");
    }

    /// Publishes on `<prefix>/devices/<id>/<leaf>` at QoS 1.
    pub async fn publish_own(&self, leaf: &str, payload: Vec<u8>, retain: bool) {
        let topic = format!("{}/devices/{}/{leaf}", self.prefix, self.id);
        self.client
            .publish(topic, QoS::AtLeastOnce, retain, payload)
            .await
            .expect("publish");
    }

    /// The next message on a topic containing `suffix`, skipping others.
    pub async fn next_on(&mut self, suffix: &str) -> (String, Vec<u8>) {
        loop {
            let (topic, payload) = self.next_raw().await;
            if topic.contains(suffix) {
                return (topic, payload);
            }
        }
    }

    /// Disconnects politely and waits until the broker has the DISCONNECT.
    pub async fn disconnect(mut self) {
        let _ = self.client.disconnect().await;
        let _ = tokio::time::timeout(TIMEOUT, &mut self.poller).await;
    }

    /// Publishes JSON at QoS 1 on any topic: for what a device should not be able to do.
    pub async fn publish_to(&self, topic: &str, payload: &Value) {
        self.client
            .publish(
                topic,
                QoS::AtLeastOnce,
                false,
                payload.to_string().into_bytes(),
            )
            .await
            .expect("publish");
    }

    pub async fn publish_report(&self, report: &Value) {
        assert_valid("report-submission", report);
        self.publish_report_bytes(report.to_string().into_bytes())
            .await;
    }

    /// The next message on any subscribed topic, as (topic, JSON).
    pub async fn next_message(&mut self) -> (String, Value) {
        let (topic, payload) = self.next_raw().await;
        (
            topic,
            serde_json::from_slice(&payload).expect("JSON payload"),
        )
    }

    /// The next message as (topic, bytes): an empty payload clears a retained message.
    pub async fn next_raw(&mut self) -> (String, Vec<u8>) {
        self.next_raw_within(TIMEOUT).await
    }

    /// The next message, waiting at most `wait` (a backlog may keep a device waiting long).
    pub async fn next_raw_within(&mut self, wait: std::time::Duration) -> (String, Vec<u8>) {
        tokio::time::timeout(wait, self.inbox_rx.recv())
            .await
            .expect("a message within the timeout")
            .expect("the device is connected")
    }

    /// The next answer on this device's inbox, checked against `mqtt-inbox`.
    pub async fn next_answer(&mut self) -> Value {
        let (topic, answer) = self.next_message().await;
        assert_eq!(topic, format!("{}/devices/{}/inbox", self.prefix, self.id));
        assert_valid("mqtt-inbox", &answer);
        answer
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        self.poller.abort();
    }
}
