//! The accounts service: create and change accounts, log in, recognise a token.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;

use super::passwords::{self, PasswordWork};
use super::roles::{Role, Staff};
use super::throttle::{Attempt, FailedLogins, ThrottleLimits, Throttled};
use super::tokens;
use crate::clock::SharedClock;
use crate::metrics::Metrics;
use crate::problem::{ErrorCode, Problem};
use crate::store::reports::from_millis;
use crate::store::users::{self as user_rows, UserRow};
use crate::store::{Store, audit};

/// A successful login.
#[derive(Debug, Clone, Serialize)]
pub struct Login {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: Staff,
}

/// An account as admins see it: never the password hash.
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an admin may change on an account.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

#[derive(Clone)]
pub struct Accounts {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) store: Store,
    clock: SharedClock,
    session_ttl: Duration,
    pub(super) failed_logins: FailedLogins,
    /// Bounds concurrent argon2 work, and the memory it takes.
    passwords: PasswordWork,
    metrics: Arc<Metrics>,
    /// Counts changes that may end or alter a login (see `login_changes`).
    pub(super) login_changes: tokio::sync::watch::Sender<u64>,
}

/// How accounts behave, from the `auth` configuration.
#[derive(Debug, Clone)]
pub struct AccountSettings {
    pub session_ttl: Duration,
    pub throttle: ThrottleLimits,
    /// Password hashes and checks running at once.
    pub password_checks: usize,
    /// How long a login waits for a free password check before a 503.
    pub password_wait: std::time::Duration,
}

impl AccountSettings {
    pub fn from_config(config: &crate::config::Config) -> AccountSettings {
        let auth = &config.auth;
        AccountSettings {
            session_ttl: Duration::hours(auth.session_hours.into()),
            throttle: ThrottleLimits {
                per_address: auth.failed_logins_per_minute_per_address,
                per_account_and_address: auth.failed_logins_per_minute,
            },
            password_checks: auth.max_concurrent_password_checks,
            password_wait: std::time::Duration::from_secs(auth.password_check_wait_secs),
        }
    }
}

impl Accounts {
    pub(super) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn new(
        store: Store,
        clock: SharedClock,
        settings: AccountSettings,
        metrics: Arc<Metrics>,
    ) -> Accounts {
        Accounts {
            inner: Arc::new(Inner {
                store,
                clock,
                session_ttl: settings.session_ttl,
                failed_logins: FailedLogins::new(settings.throttle),
                passwords: PasswordWork::new(settings.password_checks, settings.password_wait),
                metrics,
                login_changes: tokio::sync::watch::Sender::new(0),
            }),
        }
    }

    pub(super) fn now(&self) -> i64 {
        self.inner.clock.now().timestamp_millis()
    }

    /// Creates an account. `actor` is the admin (or `cli`) doing it.
    pub async fn add_user(
        &self,
        actor: &str,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<UserView, Problem> {
        let name = parse_user_name(name)?;
        passwords::check_password_strength(password)?;
        let hash = self.inner.passwords.hash(password.to_owned()).await?;
        let now = self.now();
        let actor = actor.to_owned();
        self.inner
            .store
            .write(move |ctx| {
                let Some(_) = user_rows::insert(ctx.conn(), &name, role.as_str(), &hash, now)?
                else {
                    return Err(Problem::with_field(
                        ErrorCode::InvalidState,
                        "name",
                        format!("an account named `{name}` already exists"),
                    ));
                };
                audit::append(
                    ctx.conn(),
                    now,
                    &actor,
                    "user_create",
                    Some(&format!("user:{name}")),
                    &json!({ "role": role }),
                )?;
                view_of(user_rows::find(ctx.conn(), &name)?.expect("just inserted"))
            })
            .await
    }

    /// Changes role, password or disabled flag. A change of password or disabling ends sessions.
    pub async fn update_user(
        &self,
        actor: &str,
        name: &str,
        changes: UserChanges,
    ) -> Result<UserView, Problem> {
        if let Some(password) = &changes.password {
            passwords::check_password_strength(password)?;
        }
        let hash = match changes.password.clone() {
            Some(password) => Some(self.inner.passwords.hash(password).await?),
            None => None,
        };
        let (now, actor, name) = (self.now(), actor.to_owned(), name.to_owned());
        self.inner
            .store
            .write(move |ctx| {
                let conn = ctx.conn();
                let user = user_rows::find(conn, &name)?.ok_or_else(|| no_such_user(&name))?;
                user_rows::update(conn, user.id, changes.role.map(Role::as_str), hash.as_deref(), changes.disabled, now)?;
                if user.role == Role::Admin.as_str() && user_rows::count_admins(conn)? == 0 {
                    return Err(Problem::new(ErrorCode::InvalidState, "this would leave no enabled admin; make another admin first"));
                }
                if hash.is_some() || changes.disabled == Some(true) {
                    user_rows::delete_sessions_of(conn, user.id)?;
                }
                let detail = json!({ "role": changes.role, "disabled": changes.disabled, "password_changed": hash.is_some() });
                audit::append(conn, now, &actor, "user_update", Some(&format!("user:{name}")), &detail)?;
                view_of(user_rows::find(conn, &name)?.expect("exists"))
            })
            .await
            .inspect(|_| self.logins_changed())
    }

    pub async fn list_users(&self) -> Result<Vec<UserView>, Problem> {
        let rows = self.inner.store.read(user_rows::list).await?;
        rows.into_iter().map(view_of).collect()
    }

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
        self.inner.metrics.login("throttled");
        let (limit, retry_after, whom) = match throttled {
            Throttled::Address { retry_after } => {
                ("login_address", retry_after, "from this address")
            }
            Throttled::Account { retry_after } => (
                "login_account",
                retry_after,
                "for this account from this address",
            ),
        };
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

    /// The staff member a bearer token belongs to, or 401.
    pub async fn authenticate(&self, token: &str) -> Result<Staff, Problem> {
        let invalid = || {
            Problem::new(
                ErrorCode::Unauthorized,
                "the token is invalid or expired; log in again at POST /api/v1/auth/login",
            )
        };
        if !tokens::looks_like_token(token) {
            return Err(invalid());
        }
        let (token_hash, now) = (tokens::token_hash(token), self.now());
        let found = self
            .inner
            .store
            .read(move |conn| user_rows::session_user(conn, &token_hash, now))
            .await?;
        let (id, name, role) = found.ok_or_else(invalid)?;
        let role = Role::parse(&role)
            .ok_or_else(|| Problem::internal(&format!("stored role {role:?} is unknown")))?;
        Ok(Staff { id, name, role })
    }

    pub async fn logout(&self, staff: &Staff, token: &str) -> Result<(), Problem> {
        let (token_hash, now, name) = (tokens::token_hash(token), self.now(), staff.name.clone());
        self.inner
            .store
            .write(move |ctx| -> Result<(), Problem> {
                user_rows::delete_session(ctx.conn(), &token_hash)?;
                audit::append(
                    ctx.conn(),
                    now,
                    &name,
                    "logout",
                    None,
                    &serde_json::Value::Null,
                )?;
                Ok(())
            })
            .await
            .inspect(|()| self.logins_changed())
    }
}

/// 2 to 32 characters: lowercase letters, digits, '.', '_', '-', starting with a letter.
fn parse_user_name(name: &str) -> Result<String, Problem> {
    let valid = (2..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if valid {
        return Ok(name.to_owned());
    }
    Err(Problem::with_field(
        ErrorCode::InvalidField,
        "name",
        "an account name is 2 to 32 lowercase letters, digits, '.', '_' or '-', starting with a letter",
    ))
}

fn no_such_user(name: &str) -> Problem {
    Problem::new(
        ErrorCode::NotFound,
        format!("there is no account named `{name}`"),
    )
}

fn staff_of(user: &UserRow) -> Result<Staff, Problem> {
    let role = Role::parse(&user.role)
        .ok_or_else(|| Problem::internal(&format!("stored role {:?} is unknown", user.role)))?;
    Ok(Staff {
        id: user.id,
        name: user.name.clone(),
        role,
    })
}

fn view_of(user: UserRow) -> Result<UserView, Problem> {
    Ok(UserView {
        role: staff_of(&user)?.role,
        name: user.name,
        disabled: user.disabled,
        created_at: from_millis(user.created_at),
        updated_at: from_millis(user.updated_at),
    })
}
