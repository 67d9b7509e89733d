//! The notice fan-out: one task follows committed notice events and offers each frame to every
//! subscribed session's outlet, in parallel over shards of sessions. Sessions are not woken
//! for a frame their socket takes at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use slab::Slab;

use super::outlet::{Failure, Offer, Outlet, text_frame};
use crate::channels::outbound::NoticeChannel;
use crate::notices::Interest;
use crate::notices::{Destination, NoticeEvent};

/// Live events a subscribing session may collect while its backlog is sent.
const MAX_HELD: usize = 1024;

/// Every subscribed session, in shards that are served in parallel.
#[derive(Clone)]
pub struct Sessions {
    shards: Arc<[Mutex<Slab<Arc<Member>>>]>,
    next_shard: Arc<AtomicUsize>,
}

/// One subscribed session as the fan-out sees it.
pub(super) struct Member {
    subscription: Interest,
    outlet: Arc<Outlet>,
    /// Std mutex: held to place one event, never across an `.await`.
    feed: Mutex<Feed>,
}

enum Feed {
    /// The backlog is being sent; live events wait here, in order.
    Holding(Vec<Arc<NoticeEvent>>),
    /// Live, having sent everything up to this cursor.
    Live(i64),
}

/// Leaves the fan-out when dropped.
pub struct Registration {
    sessions: Sessions,
    shard: usize,
    key: usize,
    member: Arc<Member>,
}

impl Default for Sessions {
    fn default() -> Sessions {
        let shards = std::thread::available_parallelism()
            .map_or(2, std::num::NonZero::get)
            .clamp(1, 16);
        Sessions {
            shards: (0..shards).map(|_| Mutex::new(Slab::new())).collect(),
            next_shard: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl Sessions {
    /// Adds a session; it holds live events until `Registration::go_live`.
    pub fn join(&self, subscription: Interest, outlet: Arc<Outlet>) -> Registration {
        let member = Arc::new(Member {
            subscription,
            outlet,
            feed: Mutex::new(Feed::Holding(Vec::new())),
        });
        let shard = self.next_shard.fetch_add(1, Ordering::Relaxed) % self.shards.len();
        let key = self.shards[shard]
            .lock()
            .expect("shard lock")
            .insert(member.clone());
        Registration {
            sessions: self.clone(),
            shard,
            key,
            member,
        }
    }

    /// Offers one event to every shard at once, each on a blocking thread, like a bare loop of
    /// writes would. The WebSocket frame is encoded once, for everyone.
    async fn deliver(&self, event: Arc<NoticeEvent>) {
        let encoded = text_frame(event.frame.clone());
        let shards: Vec<_> = (0..self.shards.len())
            .map(|shard| {
                let (sessions, event, encoded) = (self.clone(), event.clone(), encoded.clone());
                tokio::task::spawn_blocking(move || sessions.deliver_in(shard, &event, &encoded))
            })
            .collect();
        for shard in shards {
            let _ = shard.await;
        }
    }

    fn deliver_in(&self, shard: usize, event: &Arc<NoticeEvent>, encoded: &Bytes) {
        let members: Vec<Arc<Member>> = self.shards[shard]
            .lock()
            .expect("shard lock")
            .iter()
            .map(|(_, m)| m.clone())
            .collect();
        // Counted here and added once: one shared counter bumped per session would make the
        // shards fight over its cache line.
        let written = members
            .iter()
            .filter(|member| member.subscription.wants(event))
            .filter(|member| member.place(event, encoded) == Offer::Written)
            .count();
        event
            .deliveries
            .add(Destination::WS_SESSIONS, written as u64);
    }

    /// The fan-out fell behind the bus: every session may have missed something.
    fn fail_all(&self) {
        tracing::warn!(
            "the notice fan-out fell behind; sessions must resubscribe with their cursor"
        );
        for shard in self.shards.iter() {
            for (_, member) in shard.lock().expect("shard lock").iter() {
                member.outlet.fail(Failure::TooSlow);
            }
        }
    }
}

impl Member {
    fn place(&self, event: &Arc<NoticeEvent>, encoded: &Bytes) -> Offer {
        let mut feed = self.feed.lock().expect("feed lock");
        match &mut *feed {
            Feed::Holding(held) if held.len() >= MAX_HELD => {
                self.outlet.fail(Failure::TooSlow);
                Offer::Refused
            }
            Feed::Holding(held) => {
                held.push(event.clone());
                Offer::Queued
            }
            Feed::Live(position) if event.seq > *position => {
                *position = event.seq;
                self.outlet.offer(encoded, &event.deliveries)
            }
            Feed::Live(_) => Offer::Refused,
        }
    }
}

impl Registration {
    /// The backlog up to `position` is sent: offer what was held after it, then go live.
    pub fn go_live(&self, position: i64) {
        let mut feed = self.member.feed.lock().expect("feed lock");
        if let Feed::Holding(held) = &mut *feed {
            let mut last = position;
            for event in held.drain(..).filter(|event| event.seq > position) {
                if self
                    .member
                    .outlet
                    .offer(&text_frame(event.frame.clone()), &event.deliveries)
                    == Offer::Written
                {
                    event.deliveries.add(Destination::WS_SESSIONS, 1);
                }
                last = event.seq;
            }
            *feed = Feed::Live(last);
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut shard = self.sessions.shards[self.shard].lock().expect("shard lock");
        if shard.contains(self.key) {
            shard.remove(self.key);
        }
    }
}

/// The WebSocket channel on the notice seam: each event offered to the sessions it concerns.
impl NoticeChannel for Sessions {
    async fn deliver(&self, event: Arc<NoticeEvent>) {
        Sessions::deliver(self, event).await;
    }

    /// Nobody knows which sessions missed what: each is closed and resumes with its cursor.
    async fn catch_up(&self, _missed: u64) {
        self.fail_all();
    }
}
