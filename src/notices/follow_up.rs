//! Updating or cancelling a notice in force: a draft that starts from it, reviewed like any.

use super::cap::MsgType;
use super::model::Notice;
use super::service::{Notices, check_in_force};
use crate::auth::{Action, Staff};
use crate::problem::Problem;

impl Notices {
    /// Starts an Update of a published notice: a draft prefilled with its content.
    pub async fn start_update(&self, staff: &Staff, id: &str) -> Result<Notice, Problem> {
        self.start_follow_up(staff, id, MsgType::Update, "update")
            .await
    }

    /// Starts a Cancel of a published notice: a draft prefilled with its content.
    pub async fn start_cancel(&self, staff: &Staff, id: &str) -> Result<Notice, Problem> {
        self.start_follow_up(staff, id, MsgType::Cancel, "cancel")
            .await
    }

    async fn start_follow_up(
        &self,
        staff: &Staff,
        id: &str,
        msg_type: MsgType,
        action: &'static str,
    ) -> Result<Notice, Problem> {
        staff.require(Action::Draft)?;
        let original = self.get(id).await?;
        check_in_force(&original, msg_type)?;
        let now = self.now();
        let (mut content, covered) = (original.content.clone(), original.covered_zones.clone());
        if msg_type == MsgType::Cancel {
            // A cancellation's words are why the notice no longer holds: the old advice
            // ("go upstairs") must not go out again under "cancelled".
            for (language, info) in content.info.iter_mut() {
                let what = info.headline.as_deref().unwrap_or(&info.event);
                info.description = Some(format!("{} {what}", cancellation_prefix(language)));
                info.instruction = None;
            }
        }
        let notice = self.new_draft(staff, msg_type, content, covered, Some(&original), now);
        self.insert_new(notice, action).await
    }
}

/// How a cancellation draft starts its text, by language; the author adds why.
fn cancellation_prefix(language: &str) -> &'static str {
    match language {
        "it" => "Revoca:",
        "de" => "Widerruf:",
        "fr" => "Annulation :",
        _ => "Cancelled:",
    }
}
