//! PUBACKs leave in the order their PUBLISHes arrived, as MQTT 3.1.1 (section 4.6) requires
//! of a receiver. Messages are handled concurrently and finish in any order; each finished one
//! waits here until every earlier one has finished too.
//!
//! Order also keeps the broker honest: Mosquitto 2.0 loses count of the window of messages it
//! may send unacknowledged (`max_inflight_messages`) when acknowledgements come out of order,
//! and then sends a whole backlog at once.

use std::collections::BTreeMap;

use rumqttc::{Publish, QoS};
use std::sync::Mutex;

use tokio::sync::mpsc;

use super::intake::Ack;

/// What acknowledging a message needs: its packet id (a handler drops the payload before
/// waiting for its turn).
pub(super) struct AckTicket {
    pkid: u16,
}

impl AckTicket {
    pub(super) fn of(publish: &Publish) -> AckTicket {
        AckTicket { pkid: publish.pkid }
    }
}

/// A message's place in the order of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Place {
    pub(super) connection: u64,
    seq: u64,
}

#[derive(Default)]
struct Order {
    /// Counts connections: a message of an earlier one is delivered again, not acknowledged.
    connection: u64,
    next: u64,
    /// The earliest message not yet acknowledged.
    front: u64,
    finished: BTreeMap<u64, AckTicket>,
}

impl Order {
    /// Files `ticket` as handled and takes every ticket now handled with nothing unhandled
    /// before it, in order.
    fn release(&mut self, place: Place, ticket: AckTicket) -> Vec<AckTicket> {
        if place.connection != self.connection {
            return Vec::new();
        }
        self.finished.insert(place.seq, ticket);
        let mut ready = Vec::new();
        while let Some(ticket) = self.finished.remove(&(self.front + 1)) {
            self.front += 1;
            ready.push(ticket);
        }
        ready
    }
}

/// The order of the current connection's messages. Std mutex: held while a run of
/// acknowledgements is queued (which never waits), so that two runs never interleave.
#[derive(Default)]
pub(super) struct AckOrder {
    order: Mutex<Order>,
}

impl AckOrder {
    /// A new connection, whose number it returns: what the old one owed, the broker
    /// delivers again.
    pub(super) fn reset(&self) -> u64 {
        let mut order = self.order.lock().expect("ack order lock");
        let connection = order.connection + 1;
        *order = Order {
            connection,
            ..Order::default()
        };
        connection
    }

    /// Takes the next place; `None` for QoS 0, which is not acknowledged.
    pub(super) fn place(&self, publish: &Publish) -> Option<Place> {
        if publish.qos == QoS::AtMostOnce {
            return None;
        }
        let mut order = self.order.lock().expect("ack order lock");
        order.next += 1;
        Some(Place {
            connection: order.connection,
            seq: order.next,
        })
    }

    /// Records that the message at `place` is handled, and queues the acknowledgement of
    /// every message now handled with nothing unhandled before it.
    pub(super) fn finished(
        &self,
        place: Place,
        ticket: AckTicket,
        acks: &mpsc::UnboundedSender<Ack>,
    ) {
        let mut order = self.order.lock().expect("ack order lock");
        for ticket in order.release(place, ticket) {
            if acks.send((place.connection, ticket.pkid)).is_err() {
                tracing::debug!("the intake connection is gone; the broker will deliver again");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish(pkid: u16) -> Publish {
        let mut publish = Publish::new("t", QoS::AtLeastOnce, vec![1]);
        publish.pkid = pkid;
        publish
    }

    /// The packet ids a finish releases, without a broker to send them to.
    fn release(order: &AckOrder, place: Place, pkid: u16) -> Vec<u16> {
        let ticket = AckTicket::of(&publish(pkid));
        let released = order.order.lock().unwrap().release(place, ticket);
        released.iter().map(|ticket| ticket.pkid).collect()
    }

    #[test]
    fn acknowledgements_wait_for_every_earlier_message() {
        let order = AckOrder::default();
        let places = [
            order.place(&publish(1)).unwrap(),
            order.place(&publish(2)).unwrap(),
            order.place(&publish(3)).unwrap(),
        ];

        assert_eq!(release(&order, places[2], 3), Vec::<u16>::new());
        assert_eq!(release(&order, places[1], 2), Vec::<u16>::new());
        assert_eq!(release(&order, places[0], 1), vec![1, 2, 3]);
    }

    #[test]
    fn a_message_of_an_earlier_connection_is_left_to_the_broker() {
        let order = AckOrder::default();
        let old = order.place(&publish(1)).unwrap();
        order.reset();
        let new = order.place(&publish(1)).unwrap();

        assert_eq!(release(&order, old, 1), Vec::<u16>::new());
        assert_eq!(release(&order, new, 1), vec![1]);
        let qos0 = Publish::new("t", QoS::AtMostOnce, vec![]);
        assert!(order.place(&qos0).is_none());
    }
}
