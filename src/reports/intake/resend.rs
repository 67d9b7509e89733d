//! A resend that comes over the sender's quota: answered as the duplicate it is, or refused.

use super::Intake;
use crate::model::report::{Receipt, Source};
use crate::problem::Problem;
use crate::reports::submission::Submission;
use crate::store::StoreError;
use crate::store::follow_tokens as follow_rows;
use crate::store::reports as report_rows;
use crate::triage::follow;

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
        let issued = follow::issue(&report.id);
        let (seq, hash, now) = (report.seq, issued.hash.clone(), self.inner.clock.now());
        self.inner
            .store
            .write(move |ctx| -> Result<(), StoreError> {
                follow_rows::add(ctx.conn(), seq, &hash, now)
            })
            .await?;
        Ok(Receipt::of(&report, true, issued.token))
    }
}
