//! Managing accounts over the API: the admin's role checked first, then the request read and
//! handed to `Accounts`' own operations, which the command line (run by whoever holds the
//! server) calls directly.

use serde::Deserialize;

use super::accounts::{Accounts, UserChanges, UserView};
use super::roles::{Action, Role, Staff};
use crate::problem::{ErrorCode, Problem};

/// `POST /api/v1/users`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    name: String,
    role: String,
    password: String,
}

/// `PATCH /api/v1/users/{name}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    role: Option<String>,
    disabled: Option<bool>,
    password: Option<String>,
}

impl Accounts {
    /// Every account, for an admin.
    pub async fn users(&self, staff: &Staff) -> Result<Vec<UserView>, Problem> {
        staff.require(Action::ManageUsers)?;
        self.list_users().await
    }

    /// A new account, made by an admin (audited under their name).
    pub async fn create_user(&self, staff: &Staff, user: NewUser) -> Result<UserView, Problem> {
        staff.require(Action::ManageUsers)?;
        let role = parse_role(&user.role)?;
        self.add_user(&staff.name, &user.name, role, &user.password)
            .await
    }

    /// A changed role, password or disabled state, by an admin (audited under their name).
    pub async fn change_user(
        &self,
        staff: &Staff,
        name: &str,
        patch: UserPatch,
    ) -> Result<UserView, Problem> {
        staff.require(Action::ManageUsers)?;
        let changes = UserChanges {
            role: patch.role.as_deref().map(parse_role).transpose()?,
            disabled: patch.disabled,
            password: patch.password,
        };
        self.update_user(&staff.name, name, changes).await
    }
}

fn parse_role(value: &str) -> Result<Role, Problem> {
    Role::parse(value).ok_or_else(|| {
        Problem::with_field(
            ErrorCode::InvalidField,
            "role",
            "`role` must be viewer, operator, approver or admin",
        )
    })
}
