//! Telling long-lived logins (WebSocket sessions) that an account changed, so they check again.

use std::time::Duration;

use tokio::sync::watch;

use super::accounts::Accounts;

/// How often a long-lived login checks its token even when this hub changed no account: the
/// `vedetta users` command changes accounts from another process, and tokens expire.
pub const RECHECK_LOGIN_EVERY: Duration = Duration::from_secs(5);

impl Accounts {
    /// Changes whenever an account's role, password or state changes or a session ends here;
    /// a holder of a token then checks it again with [`Accounts::authenticate`].
    pub fn login_changes(&self) -> watch::Receiver<u64> {
        self.inner.login_changes.subscribe()
    }

    pub(super) fn logins_changed(&self) {
        self.inner.login_changes.send_modify(|count| *count += 1);
    }
}
