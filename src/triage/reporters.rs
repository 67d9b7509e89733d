//! What reporters may read of their own reports: the updates they were sent, opened by the
//! follow token of each report's ack (or by staff).

use super::follow;
use super::model::Followed;
use super::model::ReporterUpdate;
use super::service::{Triage, load};
use crate::auth::{Action, Staff};
use crate::problem::{ErrorCode, Problem};
use crate::store::follow_tokens as follow_rows;
use crate::store::triage as triage_rows;

/// Who asks for a report's updates.
pub enum UpdatesReader<'a> {
    Staff(&'a Staff),
    /// A reporter, with the follow token from the ack (`None` if they sent none).
    Reporter(Option<&'a str>),
}

impl Triage {
    /// The reports a `follow` frame's tokens open; refused whole if any token opens nothing.
    pub async fn open_followed(&self, tokens: &[String]) -> Result<Followed, Problem> {
        let presented = follow::present_all(tokens, "tokens")?;
        self.store()
            .read(move |conn| {
                let mut report_seqs = Vec::with_capacity(presented.len());
                for (n, token) in presented.iter().enumerate() {
                    let seq = follow_rows::opens(conn, &token.report_id, &token.hash)?
                        .ok_or_else(|| follow::wrong_token(&format!("tokens[{n}]")))?;
                    report_seqs.push(seq);
                }
                Ok(Followed { report_seqs })
            })
            .await
    }

    /// Updates on `followed` after `cursor`, oldest first, at most `limit`.
    pub async fn updates_since(
        &self,
        followed: Followed,
        cursor: i64,
        limit: usize,
    ) -> Result<Vec<ReporterUpdate>, Problem> {
        let updates = self
            .store()
            .read(move |conn| triage_rows::updates_since(conn, &followed, cursor, limit))
            .await?;
        Ok(updates)
    }

    /// What the reporter of `id` was told, in order: for staff who read reports, or for the
    /// holder of the report's follow token.
    pub async fn updates(
        &self,
        id: &str,
        reader: UpdatesReader<'_>,
    ) -> Result<Vec<ReporterUpdate>, Problem> {
        let token = match reader {
            UpdatesReader::Staff(staff) => {
                staff.require(Action::Read)?;
                None
            }
            UpdatesReader::Reporter(Some(token)) => Some(follow::present(token, "token")?),
            UpdatesReader::Reporter(None) => {
                return Err(Problem::with_field(
                    ErrorCode::Unauthorized,
                    "token",
                    "a report's updates are for its reporter: add ?token= with the `follow_token` from the ack (or log in as staff)",
                ));
            }
        };
        let id = id.to_owned();
        self.store()
            .read(move |conn| {
                let report = load(conn, &id)?;
                let opens = |token: &follow::Presented| {
                    follow_rows::opens(conn, &token.report_id, &token.hash)
                        .map(|seq| seq == Some(report.seq))
                };
                if let Some(token) = &token
                    && !opens(token)?
                {
                    return Err(follow::wrong_token("token"));
                }
                Ok(triage_rows::updates_of(conn, report.seq)?)
            })
            .await
    }
}
