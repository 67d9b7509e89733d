//! The accounts service: create and change accounts, log in, recognise a token.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Serialize;
use serde_json::json;

use super::roles::{Role, Staff};
use super::{passwords, tokens};
use crate::clock::SharedClock;
use crate::problem::{ErrorCode, Problem};
use crate::store::reports::from_millis;
use crate::store::users::{self as user_rows, UserRow};
use crate::store::{Store, StoreError, audit};

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
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: SharedClock,
    session_ttl: Duration,
    /// Failed-login throttles, by address and by account name.
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_name: DefaultKeyedRateLimiter<String>,
}

impl Accounts {
    pub fn new(
        store: Store,
        clock: SharedClock,
        session_ttl: Duration,
        logins_per_minute: u32,
    ) -> Accounts {
        let quota =
            Quota::per_minute(NonZeroU32::new(logins_per_minute.max(1)).expect("at least one"));
        Accounts {
            inner: Arc::new(Inner {
                store,
                clock,
                session_ttl,
                per_ip: RateLimiter::keyed(quota),
                per_name: RateLimiter::keyed(quota),
            }),
        }
    }

    fn now(&self) -> i64 {
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
        let hash = hash_off_thread(password.to_owned()).await?;
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
            Some(password) => Some(hash_off_thread(password).await?),
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
    }

    pub async fn list_users(&self) -> Result<Vec<UserView>, Problem> {
        let rows = self.inner.store.read(user_rows::list).await?;
        rows.into_iter().map(view_of).collect()
    }

    /// Checks a name and password and opens a session. Failures are throttled per address and
    /// per name, and a wrong name costs as much time as a wrong password.
    pub async fn login(
        &self,
        ip: Option<IpAddr>,
        name: &str,
        password: &str,
    ) -> Result<Login, Problem> {
        self.check_throttle(ip, name)?;
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
        let password = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || passwords::verify(&password, &phc))
            .await
            .map_err(|err| Problem::internal(&err))?;
        match usable.filter(|_| matches) {
            Some(user) => self.open_session(user).await,
            None => {
                self.record_failed_login(name).await?;
                Err(Problem::new(
                    ErrorCode::InvalidCredentials,
                    "wrong user name or password",
                ))
            }
        }
    }

    fn check_throttle(&self, ip: Option<IpAddr>, name: &str) -> Result<(), Problem> {
        let ip_ok = ip.is_none_or(|ip| self.inner.per_ip.check_key(&ip).is_ok());
        let name_ok = self.inner.per_name.check_key(&name.to_owned()).is_ok();
        if ip_ok && name_ok {
            return Ok(());
        }
        Err(Problem::new(
            ErrorCode::RateLimited,
            "too many login attempts; wait a minute and try again",
        ))
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
    }

    /// Housekeeping: forgets expired sessions and idle throttle entries.
    pub async fn prune(&self) -> Result<(), StoreError> {
        self.inner.per_ip.retain_recent();
        self.inner.per_name.retain_recent();
        let now = self.now();
        self.inner
            .store
            .write(move |ctx| user_rows::delete_expired_sessions(ctx.conn(), now).map(|_| ()))
            .await
    }
}

async fn hash_off_thread(password: String) -> Result<String, Problem> {
    tokio::task::spawn_blocking(move || passwords::hash(&password))
        .await
        .map_err(|err| Problem::internal(&err))
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
