//! Roles and what each may do. Every endpoint names the action it needs.

use serde::{Deserialize, Serialize};

use crate::problem::{ErrorCode, Problem};

/// A staff member's role. Least privilege: each role gets only what its work needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads reports, notices and the map.
    Viewer,
    /// Also drafts notices and triages reports.
    Operator,
    /// Also approves or rejects notices drafted by others. Can draft too (a supervisor on shift).
    Approver,
    /// Manages accounts and reads the audit log; drafts and approves nothing.
    Admin,
}

/// Something a caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Reports (without contact details), incidents, statistics, teams, devices, notices.
    Read,
    /// Handle reports: change statuses, write notes, dispatch, escalate.
    Triage,
    /// See who reported: contact details, device ids and photos.
    ReadReporters,
    Draft,
    Approve,
    ManageUsers,
    ReadAudit,
    /// The hub's own counters at `/metrics`: no personal data, any staff role.
    ReadMetrics,
    /// Putting failed deliveries of a notice back in the outbox.
    RetryDeliveries,
    /// Registering, switching and removing webhooks.
    ManageWebhooks,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Operator, Role::Approver, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == value)
    }

    pub fn may(self, action: Action) -> bool {
        match action {
            Action::Read => self != Role::Admin,
            Action::ReadMetrics => true,
            Action::Triage | Action::ReadReporters | Action::Draft | Action::RetryDeliveries => {
                matches!(self, Role::Operator | Role::Approver)
            }
            Action::Approve => self == Role::Approver,
            Action::ManageUsers | Action::ReadAudit | Action::ManageWebhooks => self == Role::Admin,
        }
    }
}

impl Action {
    fn described(self) -> &'static str {
        match self {
            Action::Read => {
                "reading reports, incidents and notices needs the viewer, operator or approver role (admins manage accounts only)"
            }
            Action::ReadMetrics => "reading metrics needs a staff login",
            Action::Triage => {
                "handling reports and their reporters' contact details needs the operator or approver role"
            }
            Action::ReadReporters => {
                "reporters' contact details and photos are for the operator and approver roles, who handle reports"
            }
            Action::Draft => "drafting and editing notices needs the operator or approver role",
            Action::Approve => "approving or rejecting notices needs the approver role",
            Action::ManageUsers => "managing accounts needs the admin role",
            Action::ReadAudit => "reading the audit log needs the admin role",
            Action::RetryDeliveries => {
                "retrying failed deliveries needs the operator or approver role"
            }
            Action::ManageWebhooks => "managing webhooks needs the admin role",
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Staff {
    #[serde(skip)]
    pub id: i64,
    pub name: String,
    pub role: Role,
}

impl Staff {
    /// 403 unless this caller's role allows `action`.
    pub fn require(&self, action: Action) -> Result<(), Problem> {
        if self.role.may(action) {
            return Ok(());
        }
        Err(Problem::new(
            ErrorCode::Forbidden,
            format!(
                "{}; `{}` is {} {}",
                action.described(),
                self.name,
                article(self.role),
                self.role.as_str()
            ),
        ))
    }
}

impl Staff {
    /// Whether this caller sees who reported (contact details, device ids, photos): the one
    /// rule every channel applies when it shows a report to staff.
    pub fn sees_reporters(&self) -> bool {
        self.role.may(Action::ReadReporters)
    }
}

fn article(role: Role) -> &'static str {
    match role {
        Role::Operator | Role::Approver | Role::Admin => "an",
        Role::Viewer => "a",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_may_do_only_its_own_work() {
        let allowed = |role: Role| -> Vec<Action> {
            [
                Action::Read,
                Action::Triage,
                Action::ReadReporters,
                Action::Draft,
                Action::Approve,
                Action::ManageUsers,
                Action::ReadAudit,
                Action::ReadMetrics,
                Action::RetryDeliveries,
                Action::ManageWebhooks,
            ]
            .into_iter()
            .filter(|action| role.may(*action))
            .collect()
        };

        assert_eq!(allowed(Role::Viewer), [Action::Read, Action::ReadMetrics]);
        assert_eq!(
            allowed(Role::Operator),
            [
                Action::Read,
                Action::Triage,
                Action::ReadReporters,
                Action::Draft,
                Action::ReadMetrics,
                Action::RetryDeliveries
            ]
        );
        assert_eq!(
            allowed(Role::Approver),
            [
                Action::Read,
                Action::Triage,
                Action::ReadReporters,
                Action::Draft,
                Action::Approve,
                Action::ReadMetrics,
                Action::RetryDeliveries
            ]
        );
        assert_eq!(
            allowed(Role::Admin),
            [
                Action::ManageUsers,
                Action::ReadAudit,
                Action::ReadMetrics,
                Action::ManageWebhooks
            ]
        );
    }
}
