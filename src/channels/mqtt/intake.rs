//! The intake connection: the hub's persistent session, which the broker keeps reports in
//! while the hub is away. It carries subscriptions and acknowledgements out, and everything
//! devices send (and the broker routes back) in.
//!
//! It speaks MQTT 3.1.1 with rumqttc's codec but runs a loop of its own. rumqttc's event loop
//! reads the socket whenever it sends, so a hub that must stop taking messages could not go on
//! acknowledging the ones it took. Here acknowledgements always leave at once, and the socket
//! is read only while the hub holds fewer than `MAX_UNACKED` unacknowledged messages and a
//! handler is free: beyond that TCP pushes back and the broker keeps the rest. The broker's
//! own window (`max_inflight_messages`) would do this, but Mosquitto 2.0 stops holding it as
//! soon as a client acknowledges.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rumqttc::mqttbytes::v4::{Codec, ConnAck, Connect, Login, Packet, PubAck, Subscribe};
use rumqttc::mqttbytes::v4::{ConnectReturnCode, SubscribeFilter};
use rumqttc::{Publish, QoS};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::codec::Framed;
use tokio_util::task::TaskTracker;

use super::inbound::Inbound;
use super::runner::Outage;

/// Messages taken from the broker and not yet acknowledged, at most.
pub(super) const MAX_UNACKED: usize = 1024;
/// Of those, messages being stored at once (each may hold a payload of up to
/// `intake.max_body_bytes`).
const MAX_HANDLING: usize = 256;
const KEEP_ALIVE: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A PUBACK to send: the connection it belongs to, and the packet id.
pub(super) type Ack = (u64, u16);

/// Where and as whom the intake connection logs in.
pub(super) struct IntakeOptions {
    pub(super) address: (String, u16),
    pub(super) client_id: String,
    pub(super) login: Option<(String, String)>,
    pub(super) max_packet: usize,
}

pub(super) struct IntakeConnection {
    pub(super) options: IntakeOptions,
    pub(super) inbound: Inbound,
    /// Acknowledgements released in order by the handlers.
    pub(super) acks_rx: mpsc::UnboundedReceiver<Ack>,
    pub(super) outage: Outage,
    pub(super) tasks: TaskTracker,
}

/// Why a connection ended.
enum Ended {
    Broken(String),
    Shutdown,
}

/// One connection's state.
struct Session {
    framed: Framed<TcpStream, Codec>,
    connection: u64,
    /// Messages taken and not yet acknowledged on this connection.
    unacked: usize,
    /// A message read while no handler was free.
    waiting: Option<Publish>,
}

impl IntakeConnection {
    /// Connects, and reconnects with backoff, until the hub stops.
    pub(super) async fn run(mut self) {
        let handling = Arc::new(Semaphore::new(MAX_HANDLING));
        loop {
            let ended = match self.connect().await {
                Ok(session) => self.serve(session, &handling).await,
                Err(why) => Ended::Broken(why),
            };
            match ended {
                Ended::Shutdown => return,
                Ended::Broken(why) => {
                    if !self.outage.failed(&why, &self.inbound.shutdown).await {
                        return;
                    }
                }
            }
        }
    }

    async fn connect(&mut self) -> Result<Session, String> {
        let connecting = async {
            let (host, port) = &self.options.address;
            let stream = TcpStream::connect((host.as_str(), *port))
                .await
                .map_err(|err| format!("cannot reach the broker: {err}"))?;
            // Acknowledgements are small packets that must leave at once.
            let _ = stream.set_nodelay(true);
            let codec = Codec {
                max_incoming_size: self.options.max_packet,
                max_outgoing_size: self.options.max_packet,
            };
            let mut framed = Framed::new(stream, codec);
            framed
                .send(Packet::Connect(self.connect_packet()))
                .await
                .map_err(|err| format!("cannot send CONNECT: {err}"))?;
            match framed.next().await {
                Some(Ok(Packet::ConnAck(ConnAck {
                    code: ConnectReturnCode::Success,
                    ..
                }))) => Ok(framed),
                Some(Ok(Packet::ConnAck(refused))) => {
                    Err(format!("the broker refused the login: {:?}", refused.code))
                }
                other => Err(format!("no CONNACK from the broker: {other:?}")),
            }
        };
        let framed = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
            .await
            .map_err(|_| "the broker did not answer CONNECT in time".to_owned())??;
        let connection = self.inbound.order.reset();
        self.inbound.progress.reconnected();
        let mut session = Session {
            framed,
            connection,
            unacked: 0,
            waiting: None,
        };
        self.subscribe(&mut session).await?;
        self.outage.connected();
        Ok(session)
    }

    fn connect_packet(&self) -> Connect {
        let mut connect = Connect::new(self.options.client_id.clone());
        connect.clean_session = false;
        connect.keep_alive = KEEP_ALIVE.as_secs() as u16;
        connect.login = self
            .options
            .login
            .as_ref()
            .map(|(user, password)| Login::new(user, password));
        connect
    }

    /// Subscribing on every connect is harmless and covers a broker that lost the session.
    async fn subscribe(&self, session: &mut Session) -> Result<(), String> {
        let topics = &self.inbound.link.topics;
        let mut filters = vec![topics.reports_filter(), topics.notices_filter()];
        filters.extend(topics.device_filters());
        let mut subscribe = Subscribe::new_many(
            filters
                .into_iter()
                .map(|filter| SubscribeFilter::new(filter, QoS::AtLeastOnce)),
        );
        subscribe.pkid = 1;
        session
            .framed
            .send(Packet::Subscribe(subscribe))
            .await
            .map_err(|err| format!("cannot subscribe: {err}"))
    }

    /// Serves one connection until it breaks or the hub stops.
    async fn serve(&mut self, mut session: Session, handling: &Arc<Semaphore>) -> Ended {
        let mut ping =
            tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE / 2, KEEP_ALIVE / 2);
        let shutdown = self.inbound.shutdown.clone();
        loop {
            let reads = session.unacked < MAX_UNACKED && session.waiting.is_none();
            let step = tokio::select! {
                biased;
                _ = shutdown.cancelled() => {
                    let _ = session.framed.send(Packet::Disconnect).await;
                    return Ended::Shutdown;
                }
                Some(ack) = self.acks_rx.recv() => self.acknowledge(&mut session, ack).await,
                permit = acquire(handling), if session.waiting.is_some() => {
                    let publish = session.waiting.take().expect("a message waits");
                    self.hand_over(&session, publish, permit).await;
                    Ok(())
                }
                _ = ping.tick() => send(&mut session, Packet::PingReq).await,
                packet = session.framed.next(), if reads => self.read(&mut session, packet, handling).await,
            };
            if let Err(why) = step {
                return Ended::Broken(why);
            }
        }
    }

    async fn acknowledge(
        &self,
        session: &mut Session,
        (connection, pkid): Ack,
    ) -> Result<(), String> {
        // An acknowledgement for an earlier connection: the broker delivers that message again.
        if connection != session.connection {
            return Ok(());
        }
        send(session, Packet::PubAck(PubAck::new(pkid))).await?;
        session.unacked = session.unacked.saturating_sub(1);
        self.inbound.progress.acked();
        Ok(())
    }

    async fn read(
        &self,
        session: &mut Session,
        packet: Option<Result<Packet, rumqttc::mqttbytes::Error>>,
        handling: &Arc<Semaphore>,
    ) -> Result<(), String> {
        match packet {
            Some(Ok(Packet::Publish(publish))) => {
                if publish.qos != QoS::AtMostOnce {
                    session.unacked += 1;
                    self.inbound.progress.received();
                }
                match handling.clone().try_acquire_owned() {
                    Ok(permit) => self.hand_over(session, publish, permit).await,
                    Err(_) => session.waiting = Some(publish),
                }
                Ok(())
            }
            Some(Ok(_)) => Ok(()),
            Some(Err(err)) => Err(format!("a packet from the broker could not be read: {err}")),
            None => Err("the broker closed the connection".to_owned()),
        }
    }

    /// Gives a message to a handler, with its place in the order of acknowledgements.
    async fn hand_over(&self, session: &Session, publish: Publish, permit: OwnedSemaphorePermit) {
        let place = self.inbound.order.place(&publish);
        debug_assert!(place.is_none_or(|place| place.connection == session.connection));
        let inbound = self.inbound.clone();
        self.tasks.spawn(inbound.handle(publish, place, permit));
    }
}

async fn send(session: &mut Session, packet: Packet) -> Result<(), String> {
    session
        .framed
        .send(packet)
        .await
        .map_err(|err| format!("cannot write to the broker: {err}"))
}

async fn acquire(semaphore: &Arc<Semaphore>) -> OwnedSemaphorePermit {
    semaphore
        .clone()
        .acquire_owned()
        .await
        .expect("the semaphore is never closed")
}
