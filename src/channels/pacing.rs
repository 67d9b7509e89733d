//! Keeping under a chat service's sending limits: a pacer that gives each sender its moment,
//! and the spacing of a limit with a little slack.

use std::time::Duration;

use governor::Quota;

/// Slack kept under each limit: requests leave evenly spaced but arrive with jitter, and
/// services count in a sliding window.
pub const PACE_MARGIN: f64 = 1.02;

/// The spacing of `count` messages per `seconds`, a little under the limit.
pub fn evenly(seconds: f64, count: u32) -> Duration {
    Duration::from_secs_f64(seconds * PACE_MARGIN / f64::from(count.max(1)))
}

pub fn quota(period: Duration) -> Quota {
    Quota::with_period(period).expect("a positive period")
}

/// Sends spaced by a fixed period, each given its moment when it asks: a sender woken a
/// little late (timers tick in milliseconds) does not push every later one back, as a rate
/// limiter counting from the moment it is checked would, so a long broadcast keeps the pace.
pub struct Pacer {
    period: Duration,
    next: std::sync::Mutex<tokio::time::Instant>,
}

impl Pacer {
    pub fn new(period: Duration) -> Pacer {
        Pacer {
            period,
            next: std::sync::Mutex::new(tokio::time::Instant::now()),
        }
    }

    /// No turn before `wait` from now.
    pub fn hold(&self, wait: Duration) {
        let mut next = self.next.lock().expect("pacer lock");
        *next = (*next).max(tokio::time::Instant::now() + wait);
    }

    pub async fn turn(&self) {
        let moment = {
            let mut next = self.next.lock().expect("pacer lock");
            let moment = (*next).max(tokio::time::Instant::now());
            *next = moment + self.period;
            moment
        };
        tokio::time::sleep_until(moment).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_hundred_waiting_senders_leave_one_period_apart_from_the_first() {
        let pacer = Pacer::new(Duration::from_millis(10));
        let start = tokio::time::Instant::now();
        let turns = (0..100).map(|_| async {
            pacer.turn().await;
            tokio::time::Instant::now()
        });
        let mut left = futures_util::future::join_all(turns).await;
        left.sort();
        assert_eq!(left[0], start);
        assert_eq!(left[99] - start, Duration::from_millis(990));
        assert!(
            left.windows(2)
                .all(|pair| pair[1] - pair[0] == Duration::from_millis(10))
        );
    }
}
