//! The accounts service: create and change accounts, recognise a token.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;

use super::passwords::{self, PasswordWork};
use super::roles::{Role, Staff};
use super::throttle::{FailedLogins, ThrottleLimits};
use super::tokens;
use crate::clock::SharedClock;
use crate::metrics::Metrics;
use crate::problem::{ErrorCode, Problem};
use crate::store::reports::from_millis;
use crate::store::users::{self as user_rows, UserRow};
use crate::store::{Store, audit};

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
    pub(super) session_ttl: Duration,
    pub(super) failed_logins: FailedLogins,
    /// Bounds concurrent argon2 work, and the memory it takes.
    pub(super) passwords: PasswordWork,
    pub(super) metrics: Arc<Metrics>,
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

pub(super) fn staff_of(user: &UserRow) -> Result<Staff, Problem> {
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
