//! Logging in: a name and password checked under the failed-login limits, then a session.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::accounts::{Accounts, staff_of};
use super::passwords;
use super::roles::Staff;
use super::throttle::{Attempt, Throttled};
use super::tokens;
use crate::problem::{ErrorCode, Problem};
use crate::store::audit;
use crate::store::reports::from_millis;
use crate::store::users::{self as user_rows, UserRow};

/// A successful login.
#[derive(Debug, Clone, Serialize)]
pub struct Login {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: Staff,
}

impl Accounts {
    /// Checks a name and password and opens a session. Failures are throttled per address and
    /// per name from that address, and a wrong name costs as much time as a wrong password.
    pub async fn login(
        &self,
        ip: Option<IpAddr>,
        name: &str,
        password: &str,
    ) -> Result<Login, Problem> {
        let attempt = self.begin_attempt(ip, name).await?;
        let lookup = name.to_owned();
        let user = self
            .inner
            .store
            .read(move |conn| user_rows::find(conn, &lookup))
            .await?;
        let usable = user.filter(|user| !user.disabled);
        let phc = usable.as_ref().map_or_else(
            || passwords::decoy_hash().to_owned(),
            |user| user.password_hash.clone(),
        );
        let checked = self.inner.passwords.verify(password.to_owned(), phc).await;
        let matches = checked.inspect_err(|_| self.inner.metrics.login("busy"))?;
        match usable.filter(|_| matches) {
            Some(user) => {
                self.inner.metrics.login("ok");
                drop(attempt);
                self.open_session(user).await
            }
            None => {
                self.inner.metrics.login("failed");
                attempt.failed();
                self.record_failed_login(name).await?;
                Err(Problem::new(
                    ErrorCode::InvalidCredentials,
                    "wrong user name or password",
                ))
            }
        }
    }

    /// Refuses a login over the failed-login limits; counts any other as a possible failure
    /// while it is checked.
    async fn begin_attempt(&self, ip: Option<IpAddr>, name: &str) -> Result<Attempt<'_>, Problem> {
        let throttled = match self.inner.failed_logins.attempt(ip, name).await {
            Ok(attempt) => return Ok(attempt),
            Err(throttled) => throttled,
        };
        let (limit, retry_after, whom) = match throttled {
            Throttled::Address { retry_after } => {
                ("login_address", retry_after, "from this address")
            }
            Throttled::Account { retry_after } => (
                "login_account",
                retry_after,
                "for this account from this address",
            ),
            Throttled::StillChecking => {
                self.inner.metrics.login("busy");
                return Err(Problem::new(
                    ErrorCode::Unavailable,
                    "the hub is still checking other logins from this address; try again in a few seconds",
                )
                .retry_after(2));
            }
        };
        self.inner.metrics.login("throttled");
        self.inner.metrics.limited(limit);
        let secs = retry_after.as_secs().max(1);
        Err(Problem::new(
            ErrorCode::RateLimited,
            format!("too many failed logins {whom}; wait {secs} seconds and try again"),
        )
        .retry_after(secs))
    }

    async fn open_session(&self, user: UserRow) -> Result<Login, Problem> {
        let token = tokens::new_token();
        let token_hash = tokens::token_hash(&token);
        let now = self.now();
        let expires_at = now + self.inner.session_ttl.num_milliseconds();
        let staff = staff_of(&user)?;
        self.inner
            .store
            .write(move |ctx| -> Result<(), Problem> {
                user_rows::insert_session(ctx.conn(), &token_hash, user.id, now, expires_at)?;
                audit::append(
                    ctx.conn(),
                    now,
                    &user.name,
                    "login",
                    None,
                    &serde_json::Value::Null,
                )?;
                Ok(())
            })
            .await?;
        Ok(Login {
            token,
            expires_at: from_millis(expires_at),
            user: staff,
        })
    }

    /// A failed login is audited under the account it tried, if that account exists: a name
    /// that matches nothing may be a password typed in the wrong box, so it is not written down.
    async fn record_failed_login(&self, name: &str) -> Result<(), Problem> {
        let (now, name) = (self.now(), name.to_owned());
        self.inner
            .store
            .write(move |ctx| -> Result<(), Problem> {
                if user_rows::find(ctx.conn(), &name)?.is_some() {
                    audit::append(
                        ctx.conn(),
                        now,
                        "anonymous",
                        "login_failed",
                        Some(&format!("user:{name}")),
                        &serde_json::Value::Null,
                    )?;
                }
                Ok(())
            })
            .await
    }
}
