//! Housekeeping of accounts, every minute: expired sessions and idle throttle entries go.

use super::accounts::Accounts;
use crate::problem::Problem;
use crate::store::users as user_rows;

impl Accounts {
    /// Housekeeping: forgets expired sessions and idle throttle entries.
    pub async fn prune(&self) -> Result<(), Problem> {
        self.inner.failed_logins.prune();
        let now = self.now();
        Ok(self
            .inner
            .store
            .write(move |ctx| user_rows::delete_expired_sessions(ctx.conn(), now).map(|_| ()))
            .await?)
    }
}
