//! What one session may send, and how alive it must stay: a rate for every frame and a lower
//! one for frames that cost a database read, close codes for broken messages, and pings that
//! find peers that are gone.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::error::CapacityError;

use crate::config::WsConfig;
use crate::problem::{ErrorCode, Problem};

/// WebSocket close codes (RFC 6455 section 7.4.1).
pub(super) const GOING_AWAY: u16 = 1001;
pub(super) const PROTOCOL_ERROR: u16 = 1002;
pub(super) const INVALID_PAYLOAD: u16 = 1007;
pub(super) const POLICY_VIOLATION: u16 = 1008;
pub(super) const MESSAGE_TOO_BIG: u16 = 1009;

/// Frames refused in a row before the session is closed: a client that ignores the error
/// frames is not listening.
const MAX_REFUSED_IN_A_ROW: u32 = 20;

/// What becomes of a frame.
pub(super) enum Verdict {
    Admit,
    /// Answered with this error frame; the session stays open.
    Refuse(Problem),
    /// The session is closed with this code and reason.
    Close(u16, &'static str),
}

/// What a ping tick finds.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Liveness {
    /// The peer spoke since the last ping: ping again.
    Alive,
    /// Nothing came back since the last ping: the peer is gone.
    Gone,
}

pub(super) struct Guard {
    /// Every data frame; `None`: no limit.
    frames: Option<DefaultDirectRateLimiter>,
    /// Frames that read the database (auth, subscribe, follow, watch).
    queries: Option<DefaultDirectRateLimiter>,
    refused_in_a_row: u32,
    /// The peer sent something since the last ping.
    heard: bool,
}

impl Guard {
    pub(super) fn new(config: &WsConfig) -> Guard {
        let frames = NonZeroU32::new(config.frames_per_second).map(|rate| {
            let burst = rate.saturating_mul(NonZeroU32::new(2).expect("two"));
            RateLimiter::direct(Quota::per_second(rate).allow_burst(burst))
        });
        let queries = NonZeroU32::new(config.queries_per_minute).map(|rate| {
            let burst = NonZeroU32::new(rate.get().min(10)).expect("at least one");
            RateLimiter::direct(Quota::per_minute(rate).allow_burst(burst))
        });
        Guard {
            frames,
            queries,
            refused_in_a_row: 0,
            heard: true,
        }
    }

    /// Any message from the peer, a pong included, shows it is there.
    pub(super) fn heard(&mut self) {
        self.heard = true;
    }

    /// Checks a data frame against the session's frame rate.
    pub(super) fn admit_frame(&mut self) -> Verdict {
        let over = self
            .frames
            .as_ref()
            .is_some_and(|limit| limit.check().is_err());
        self.verdict(over, "frames")
    }

    /// Checks a frame that reads the database against the slower rate for those.
    pub(super) fn admit_query(&mut self, kind: &'static str) -> Verdict {
        let over = self
            .queries
            .as_ref()
            .is_some_and(|limit| limit.check().is_err());
        self.verdict(over, kind)
    }

    /// A frame passed every check: the refusals in a row are over.
    pub(super) fn admitted(&mut self) {
        self.refused_in_a_row = 0;
    }

    fn verdict(&mut self, over: bool, what: &'static str) -> Verdict {
        if !over {
            return Verdict::Admit;
        }
        self.refused_in_a_row += 1;
        if self.refused_in_a_row > MAX_REFUSED_IN_A_ROW {
            return Verdict::Close(
                POLICY_VIOLATION,
                "too many frames over the rate limit; reconnect later and send fewer",
            );
        }
        let (field, message) = match what {
            "frames" => (
                None,
                "too many frames on this connection (ws.frames_per_second); wait a second and send again".to_owned(),
            ),
            kind => (
                Some("type"),
                format!("too many `{kind}` frames on this connection (ws.queries_per_minute); wait a few seconds and send it again"),
            ),
        };
        let problem = match field {
            Some(field) => Problem::with_field(ErrorCode::RateLimited, field, message),
            None => Problem::new(ErrorCode::RateLimited, message),
        };
        Verdict::Refuse(problem.retry_after(if field.is_some() { 5 } else { 1 }))
    }

    /// On each ping tick: whether the peer answered the last one.
    pub(super) fn ping_tick(&mut self) -> Liveness {
        match std::mem::replace(&mut self.heard, false) {
            true => Liveness::Alive,
            false => Liveness::Gone,
        }
    }
}

/// How often a session is pinged, if at all.
pub(super) fn ping_every(config: &WsConfig) -> Option<Duration> {
    (config.ping_interval_secs > 0).then(|| Duration::from_secs(config.ping_interval_secs))
}

/// The close code and reason for a message the WebSocket layer could not read, and whether
/// the rest of it must be drained first (so that closing does not reset the connection).
pub(super) fn close_for(error: &WsError) -> Option<(u16, &'static str, bool)> {
    match error {
        WsError::Utf8(_) => Some((INVALID_PAYLOAD, "text frames must be valid UTF-8", false)),
        WsError::Capacity(CapacityError::MessageTooLong { .. }) => Some((
            MESSAGE_TOO_BIG,
            "message over twice max_message_bytes; send a smaller photo or text",
            true,
        )),
        WsError::Capacity(_) => Some((MESSAGE_TOO_BIG, "message too big", true)),
        WsError::Protocol(_) => Some((PROTOCOL_ERROR, "not a valid WebSocket frame", false)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(frames_per_second: u32, queries_per_minute: u32) -> WsConfig {
        WsConfig {
            frames_per_second,
            queries_per_minute,
            ..WsConfig::default()
        }
    }

    #[test]
    fn frames_over_the_rate_are_refused_and_a_client_that_keeps_on_is_closed() {
        let mut guard = Guard::new(&config(5, 0));
        let mut admit = || match guard.admit_frame() {
            Verdict::Admit => {
                guard.admitted();
                Verdict::Admit
            }
            other => other,
        };
        let verdicts: Vec<Verdict> = (0..40).map(|_| admit()).collect();

        assert!(
            verdicts[..10].iter().all(|v| matches!(v, Verdict::Admit)),
            "a burst of twice the rate"
        );
        assert!(matches!(&verdicts[10], Verdict::Refuse(p) if p.code == ErrorCode::RateLimited));
        assert!(matches!(verdicts[31], Verdict::Close(POLICY_VIOLATION, _)));
    }

    #[test]
    fn frames_that_read_the_database_have_their_own_slower_rate() {
        let mut guard = Guard::new(&config(0, 30));
        for _ in 0..10 {
            assert!(matches!(guard.admit_query("follow"), Verdict::Admit));
        }

        let Verdict::Refuse(problem) = guard.admit_query("follow") else {
            panic!("the eleventh follow in a burst is refused");
        };
        assert_eq!(problem.field.as_deref(), Some("type"));
        assert!(problem.message.contains("`follow`"));
    }

    #[test]
    fn a_peer_that_says_nothing_between_two_pings_is_gone() {
        let mut guard = Guard::new(&config(0, 0));

        assert_eq!(guard.ping_tick(), Liveness::Alive);
        guard.heard();
        assert_eq!(guard.ping_tick(), Liveness::Alive);
        assert_eq!(guard.ping_tick(), Liveness::Gone);
    }
}
