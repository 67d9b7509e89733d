//! Staff accounts, roles and login tokens: who may do what.

mod accounts;
mod admin;
mod audit_log;
mod housekeeping;
mod login;
mod login_changes;
mod passwords;
mod roles;
mod throttle;
mod tokens;

pub use accounts::{AccountSettings, Accounts, UserChanges, UserView};
pub use admin::{NewUser, UserPatch};
pub use audit_log::{AuditFilter, AuditRecord};
pub use login::Login;
pub use login_changes::RECHECK_LOGIN_EVERY;
pub use passwords::{PasswordWork, check_password_strength};
pub use roles::{Action, Role, Staff};
pub use throttle::ThrottleLimits;
