//! How many TCP connections the listener holds: in total, and from one address (an IPv6 /64
//! counts as one). A connection over either limit is answered at once and closed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::addr::limit_key;
use crate::metrics::Metrics;

/// Connection limits, shared by the accept loop and every open connection's slot.
#[derive(Clone)]
pub struct ConnectionLimits {
    inner: Arc<Inner>,
}

struct Inner {
    /// 0: no limit.
    total: usize,
    /// 0: no limit.
    per_address: usize,
    /// Std mutex: held for a count change, never across an `.await`.
    open: Mutex<Open>,
    metrics: Arc<Metrics>,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// Why a connection was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The hub holds as many connections as it may.
    Full,
    /// This address holds as many as one address may.
    AddressFull,
}

/// One open connection's place; giving it back (on drop) frees it for the next.
pub struct ConnectionSlot {
    limits: ConnectionLimits,
    key: IpAddr,
}

impl ConnectionLimits {
    pub fn new(total: usize, per_address: usize, metrics: Arc<Metrics>) -> ConnectionLimits {
        ConnectionLimits {
            inner: Arc::new(Inner {
                total,
                per_address,
                open: Mutex::new(Open::default()),
                metrics,
            }),
        }
    }

    /// Takes a slot for a connection from `peer`, or says which limit is reached.
    pub fn admit(&self, peer: IpAddr) -> Result<ConnectionSlot, Refused> {
        let inner = &self.inner;
        let key = limit_key(peer);
        let mut open = inner.open.lock().expect("connection limits lock");
        if inner.total > 0 && open.total >= inner.total {
            return Err(self.refused(Refused::Full, "total"));
        }
        let from_address = open.by_address.get(&key).copied().unwrap_or(0);
        if inner.per_address > 0 && from_address >= inner.per_address {
            return Err(self.refused(Refused::AddressFull, "per_address"));
        }
        open.total += 1;
        *open.by_address.entry(key).or_default() += 1;
        inner.metrics.connections.inc();
        Ok(ConnectionSlot {
            limits: self.clone(),
            key,
        })
    }

    fn refused(&self, refused: Refused, reason: &'static str) -> Refused {
        self.inner
            .metrics
            .connections_refused
            .get_or_create(&[("reason", reason)])
            .inc();
        refused
    }

    fn release(&self, key: IpAddr) {
        let mut open = self.inner.open.lock().expect("connection limits lock");
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.by_address.get_mut(&key) {
            *count -= 1;
            if *count == 0 {
                open.by_address.remove(&key);
            }
        }
        self.inner.metrics.connections.dec();
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.limits.release(self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(total: usize, per_address: usize) -> ConnectionLimits {
        ConnectionLimits::new(total, per_address, Metrics::new(&Default::default()))
    }

    #[test]
    fn an_address_at_its_limit_is_refused_while_others_connect_until_the_total() {
        let limits = limits(3, 2);
        let (a, b, c): (IpAddr, IpAddr, IpAddr) = (
            "192.0.2.1".parse().unwrap(),
            "192.0.2.2".parse().unwrap(),
            "192.0.2.3".parse().unwrap(),
        );

        let first = limits.admit(a).unwrap();
        let _second = limits.admit(a).unwrap();
        assert_eq!(limits.admit(a).err(), Some(Refused::AddressFull));
        let _third = limits.admit(b).unwrap();
        assert_eq!(limits.admit(c).err(), Some(Refused::Full));
        drop(first);

        assert!(
            limits.admit(a).is_ok(),
            "a closed connection frees its slot"
        );
    }
}
