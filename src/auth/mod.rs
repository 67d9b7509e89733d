//! Staff accounts, roles and login tokens: who may do what.

mod accounts;
mod passwords;
mod roles;
mod tokens;

pub use accounts::{Accounts, Login, UserChanges, UserView};
pub use passwords::check_password_strength;
pub use roles::{Action, Role, Staff};
