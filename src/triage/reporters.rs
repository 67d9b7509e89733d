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

    /// Updates on `followed` after `cursor`, oldest first, at most `limit`, with the cursor
    /// they were read after. A cursor beyond the newest update (a phone's, kept from before the
    /// office restored a backup) counts from the start: kept, it would make the reporter take
    /// every later update as one already seen.
    pub async fn updates_since(
        &self,
        followed: Followed,
        cursor: i64,
        limit: usize,
    ) -> Result<(i64, Vec<ReporterUpdate>), Problem> {
        let replay = self
            .store()
            .read(move |conn| {
                let after = match triage_rows::newest_update(conn)? {
                    newest if cursor > newest => 0,
                    _ => cursor.max(0),
                };
                Ok::<_, crate::store::StoreError>((
                    after,
                    triage_rows::updates_since(conn, &followed, after, limit)?,
                ))
            })
            .await?;
        Ok(replay)
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
                // The token is checked before the id is looked up, so that a reporter learns
                // nothing, not even whether a report exists, from a token that does not open it.
                let report_seq = match &token {
                    Some(token) if token.report_id == id => {
                        follow_rows::opens(conn, &token.report_id, &token.hash)?
                            .ok_or_else(|| follow::wrong_token("token"))?
                    }
                    Some(_) => return Err(follow::wrong_token("token")),
                    None => load(conn, &id)?.seq,
                };
                Ok(triage_rows::updates_of(conn, report_seq)?)
            })
            .await
    }
}
