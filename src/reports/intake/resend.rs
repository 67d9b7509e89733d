//! A resend that comes over the sender's quota: answered as the duplicate it is, or refused.

use super::{Intake, retry_token};
use crate::model::report::{Receipt, Source};
use crate::problem::Problem;
use crate::reports::submission::Submission;
use crate::store::StoreError;
use crate::store::reports as report_rows;

impl Intake {
    /// A phone whose acknowledgement was lost sends its report again, and may be over its
    /// quota by then (many phones behind one carrier address, say). A resend of a report
    /// already stored, same key and same content, stores no new report: it gets its
    /// `duplicate` answer at once. Anything else gets `limited`.
    pub(super) async fn resend_over_quota(
        &self,
        source: Source,
        submission: &Submission,
        limited: Problem,
    ) -> Result<Receipt, Problem> {
        let (device, client_ref) = (submission.device_id.clone(), submission.client_ref.clone());
        let held = self
            .inner
            .store
            .read(move |conn| report_rows::find_by_key(conn, source, device.as_ref(), &client_ref))
            .await?;
        let fingerprint = submission.fingerprint();
        let Some((report, _)) = held.filter(|(_, stored)| *stored == fingerprint) else {
            return Err(limited);
        };
        let now = self.inner.clock.now();
        let (report, token) = self
            .inner
            .store
            .write(move |ctx| -> Result<_, StoreError> {
                let token = retry_token(ctx.conn(), &report, now)?;
                Ok((report, token))
            })
            .await?;
        Ok(Receipt::of(&report, true, token))
    }
}
