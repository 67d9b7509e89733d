//! A reporting device on the bench's broker (a rumqttc client): publishes reports at QoS 1 on
//! `<prefix>/reports/<id>` and reads the hub's answers on `<prefix>/devices/<id>/inbox`.

use std::time::{Duration, Instant};

use bytes::Bytes;
use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, Packet, QoS};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// The hub's prefix for the default office.
pub const PREFIX: &str = "vedetta/demo";

pub struct Device {
    pub id: String,
    client: AsyncClient,
    /// Answers on the inbox, with their arrival time.
    answers_rx: mpsc::UnboundedReceiver<(Instant, Bytes)>,
    /// How many of this device's publishes the broker has acknowledged.
    broker_acks_rx: watch::Receiver<usize>,
    poller: JoinHandle<()>,
}

impl Device {
    /// Connects as `id` (its client id) and subscribes to its inbox at QoS 1.
    pub async fn connect(port: u16, id: String) -> Device {
        let mut options = MqttOptions::new(id.clone(), "127.0.0.1", port);
        options
            .set_keep_alive(Duration::from_secs(60))
            .set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut eventloop) = AsyncClient::new(options, 128);
        // Like the WebSocket clients: no Nagle delay on the device's side of the measurement.
        let mut network = eventloop.network_options();
        network.set_tcp_nodelay(true);
        eventloop.set_network_options(network);
        let (answers_tx, answers_rx) = mpsc::unbounded_channel();
        let (broker_acks_tx, broker_acks_rx) = watch::channel(0);
        let (subscribed_tx, subscribed_rx) = oneshot::channel();
        let poller = tokio::spawn(async move {
            let mut subscribed_tx = Some(subscribed_tx);
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::Publish(publish))) => {
                        let _ = answers_tx.send((Instant::now(), publish.payload));
                    }
                    Ok(Event::Incoming(Packet::PubAck(_))) => {
                        broker_acks_tx.send_modify(|acks| *acks += 1);
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        if let Some(subscribed_tx) = subscribed_tx.take() {
                            let _ = subscribed_tx.send(());
                        }
                    }
                    Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
                    Ok(_) => {}
                    Err(err) => panic!("device lost its broker connection: {err}"),
                }
            }
        });
        client
            .subscribe(format!("{PREFIX}/devices/{id}/inbox"), QoS::AtLeastOnce)
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(30), subscribed_rx)
            .await
            .expect("SUBACK in time")
            .unwrap();
        Device {
            id,
            client,
            answers_rx,
            broker_acks_rx,
            poller,
        }
    }

    /// Queues a report at QoS 1 on this device's report topic.
    pub async fn publish(&self, client_ref: &str) {
        let payload = crate::report_json(client_ref, None).to_string();
        self.client
            .publish(
                format!("{PREFIX}/reports/{}", self.id),
                QoS::AtLeastOnce,
                false,
                payload,
            )
            .await
            .unwrap();
    }

    /// When the next answer on the inbox came, and the answer; it must be an `ack`.
    pub async fn next_ack(&mut self, within: Duration) -> (Instant, Bytes) {
        let (at, payload) = tokio::time::timeout(within, self.answers_rx.recv())
            .await
            .unwrap_or_else(|_| panic!("{}: no answer within {within:?}", self.id))
            .expect("the device is connected");
        assert!(
            payload.starts_with(br#"{"type":"ack""#),
            "{}: {}",
            self.id,
            String::from_utf8_lossy(&payload)
        );
        (at, payload)
    }

    /// Whether an `ack` came within `within`.
    pub async fn try_ack(&mut self, within: Duration) -> bool {
        match tokio::time::timeout(within, self.answers_rx.recv()).await {
            Ok(Some((_, payload))) => payload.starts_with(br#"{"type":"ack""#),
            _ => false,
        }
    }

    /// Waits until the broker has acknowledged `count` publishes of this device: they are the
    /// broker's to deliver from then on.
    pub async fn broker_has(&mut self, count: usize) {
        tokio::time::timeout(
            Duration::from_secs(120),
            self.broker_acks_rx.wait_for(|acks| *acks >= count),
        )
        .await
        .expect("the broker acknowledged every publish in time")
        .expect("the device is connected");
    }

    /// Disconnects politely and waits until the DISCONNECT has left.
    pub async fn disconnect(mut self) {
        let _ = self.client.disconnect().await;
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.poller).await;
    }
}

/// `count` devices named `<name>-<n>`, connected at once.
pub async fn connect_all(port: u16, name: &str, count: usize) -> Vec<Device> {
    let connecting: Vec<_> = (0..count)
        .map(|n| tokio::spawn(Device::connect(port, format!("{name}-{n}"))))
        .collect();
    let mut devices = Vec::with_capacity(count);
    for device in connecting {
        devices.push(device.await.unwrap());
    }
    devices
}

impl Drop for Device {
    fn drop(&mut self) {
        self.poller.abort();
    }
}
