//! A staff login held by a WebSocket session, checked again whenever an account may have changed.

use tokio::sync::watch;
use tokio::time::{Interval, MissedTickBehavior};

use crate::auth::{Accounts, RECHECK_LOGIN_EVERY, Staff};
use crate::problem::ErrorCode;

/// Who the session is logged in as, and what tells it to check that again: a session outlives
/// the request that logged it in, so a logout, a disabled account or a new role must reach it.
pub(super) struct StaffLogin {
    pub(super) staff: Staff,
    token: String,
    changes: watch::Receiver<u64>,
    recheck: Interval,
}

/// What a second look at the login found.
pub(super) enum Recheck {
    Holds,
    /// Logged out, disabled, expired, or its role or password changed.
    Ended,
}

impl StaffLogin {
    pub(super) fn new(staff: Staff, token: &str, accounts: &Accounts) -> StaffLogin {
        let start = tokio::time::Instant::now() + RECHECK_LOGIN_EVERY;
        let mut recheck = tokio::time::interval_at(start, RECHECK_LOGIN_EVERY);
        recheck.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut changes = accounts.login_changes();
        changes.mark_unchanged();
        StaffLogin {
            staff,
            token: token.to_owned(),
            changes,
            recheck,
        }
    }

    /// Resolves when the login is due another look: an account changed here, or the periodic
    /// check (for changes made by `vedetta users` from another process, and expiry).
    pub(super) async fn due(&mut self) {
        tokio::select! {
            changed = self.changes.changed() => {
                if changed.is_err() {
                    // The accounts service is gone (shutdown): only the periodic check is left.
                    self.recheck.tick().await;
                }
            }
            _ = self.recheck.tick() => {}
        }
    }

    /// Whether the token still logs in the same person with the same role. A store that cannot
    /// answer now is not a logout: the next look decides.
    pub(super) async fn recheck(&self, accounts: &Accounts) -> Recheck {
        match accounts.authenticate(&self.token).await {
            Ok(staff) if staff == self.staff => Recheck::Holds,
            Ok(_) => Recheck::Ended,
            Err(problem) if problem.code == ErrorCode::Unauthorized => Recheck::Ended,
            Err(_) => Recheck::Holds,
        }
    }
}
