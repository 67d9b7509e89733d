//! Reading reports and incidents: one report, its photo, a page of them for staff, the rows a
//! public view is cut from, and incidents with their reports. Who may read what is checked
//! here, by the roles table.

use super::incidents::{not_found, reports_of};
use super::model::{Incident, IncidentFilter};
use super::service::{Triage, load};
use crate::auth::{Action, Staff};
use crate::model::{Report, ReportFilter};
use crate::problem::{ErrorCode, Problem};
use crate::store::incidents as incident_rows;
use crate::store::reports as report_rows;

/// Whether `staff` may watch the live queue, and if so whether they see who reported.
pub fn watch_queue(staff: &Staff) -> Result<bool, Problem> {
    staff.require(Action::Read)?;
    Ok(staff.sees_reporters())
}

impl Triage {
    /// One report, for staff who read reports (what of it they see is `Staff::sees_reporters`).
    pub async fn report(&self, staff: &Staff, id: &str) -> Result<Report, Problem> {
        staff.require(Action::Read)?;
        let id = id.to_owned();
        self.store().read(move |conn| load(conn, &id)).await
    }

    /// A report's photo (content type, bytes), for staff who see who reported.
    pub async fn photo(&self, staff: &Staff, id: &str) -> Result<(String, Vec<u8>), Problem> {
        staff.require(Action::ReadReporters)?;
        let lookup = id.to_owned();
        self.store()
            .read(move |conn| report_rows::photo(conn, &lookup))
            .await?
            .ok_or_else(|| {
                Problem::new(
                    ErrorCode::NotFound,
                    format!("a photo of report {id} does not exist"),
                )
            })
    }

    /// Reports newest first, for staff who read reports.
    pub async fn reports(
        &self,
        staff: &Staff,
        filter: ReportFilter,
    ) -> Result<Vec<Report>, Problem> {
        staff.require(Action::Read)?;
        self.list_reports(filter).await
    }

    /// Reports newest first, for a public view, which must cut them down to what the public
    /// may see (Open311's `Audience`).
    pub async fn list_reports(&self, filter: ReportFilter) -> Result<Vec<Report>, Problem> {
        Ok(self
            .store()
            .read(move |conn| report_rows::list(conn, &filter))
            .await?)
    }

    /// The reports with these ids that exist, for a public view to cut down.
    pub async fn find_reports(&self, ids: Vec<String>) -> Result<Vec<Report>, Problem> {
        Ok(self
            .store()
            .read(move |conn| {
                ids.iter()
                    .filter_map(|id| report_rows::get(conn, id).transpose())
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?)
    }

    pub async fn incident(
        &self,
        staff: &Staff,
        id: &str,
    ) -> Result<(Incident, Vec<Report>), Problem> {
        staff.require(Action::Read)?;
        let id = id.to_owned();
        self.store()
            .read(move |conn| {
                let incident = incident_rows::get(conn, &id)?.ok_or_else(|| not_found(&id))?;
                let reports = reports_of(conn, &id)?;
                Ok((incident, reports))
            })
            .await
    }

    pub async fn incidents(
        &self,
        staff: &Staff,
        filter: IncidentFilter,
    ) -> Result<Vec<Incident>, Problem> {
        staff.require(Action::Read)?;
        Ok(self
            .store()
            .read(move |conn| incident_rows::list(conn, &filter))
            .await?)
    }
}
