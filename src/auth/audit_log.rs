//! Reading the audit log: for those whose role may, filtered as the admin asks.

use super::accounts::Accounts;
use super::roles::{Action, Staff};
use crate::problem::Problem;
use crate::store::audit;

pub use crate::model::{AuditFilter, AuditRecord};

impl Accounts {
    /// The entries matching `filter`, newest first.
    pub async fn audit_entries(
        &self,
        staff: &Staff,
        filter: AuditFilter,
    ) -> Result<Vec<AuditRecord>, Problem> {
        staff.require(Action::ReadAudit)?;
        Ok(self
            .store()
            .read(move |conn| audit::list(conn, &filter))
            .await?)
    }
}
