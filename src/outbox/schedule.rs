//! When a failed delivery is tried again: a fixed schedule with jitter, the destination's own
//! `Retry-After` when it gives one, and a horizon after which the delivery is dead.

use std::time::Duration;

/// Waits after the 1st, 2nd, ... failure; the last repeats until the horizon.
pub const SCHEDULE: [Duration; 6] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
];
/// Each wait is moved by up to this share either way, so destinations that failed together
/// are not all retried in the same second.
const JITTER: f64 = 0.2;
/// A `Retry-After` longer than this is read as this: a destination cannot park a delivery.
const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The wait after `failures` failures (1 for the first), honouring `retry_after` when the
/// destination named one. `unit` is a uniform random number in [0, 1).
pub fn wait_after(failures: u32, retry_after: Option<Duration>, unit: f64) -> Duration {
    if let Some(asked) = retry_after {
        return asked.clamp(Duration::from_secs(1), LONGEST_RETRY_AFTER);
    }
    let step = (failures.max(1) as usize - 1).min(SCHEDULE.len() - 1);
    SCHEDULE[step].mul_f64(1.0 + JITTER * (2.0 * unit - 1.0))
}

/// A uniform random number in [0, 1).
pub fn unit_random() -> f64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_follow_the_schedule_within_the_jitter_and_repeat_the_last_step() {
        for (failures, expected) in [(1, 5.0), (2, 300.0), (6, 36_000.0), (40, 36_000.0)] {
            let low = wait_after(failures, None, 0.0).as_secs_f64();
            let high = wait_after(failures, None, 0.999_999).as_secs_f64();
            let tolerance = expected * 1e-4;
            assert!(
                (low - expected * 0.8).abs() < tolerance,
                "{failures}: {low}"
            );
            assert!(
                (high - expected * 1.2).abs() < tolerance,
                "{failures}: {high}"
            );
        }
    }

    #[test]
    fn a_destination_s_retry_after_is_honoured_within_bounds() {
        let asked = Some(Duration::from_secs(90));
        assert_eq!(wait_after(1, asked, 0.5), Duration::from_secs(90));
        let absurd = Some(Duration::from_secs(30 * 24 * 3600));
        assert_eq!(wait_after(1, absurd, 0.5), LONGEST_RETRY_AFTER);
    }
}
