//! Updating or cancelling a notice in force: a draft that starts from it, reviewed like any.

use super::cap::MsgType;
use super::content::NoticeContent;
use super::model::Notice;
use super::service::{Notices, check_in_force};
use crate::auth::{Action, Staff};
use crate::problem::Problem;
use crate::zones::ZoneRef;

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
        let (content, covered) = match msg_type {
            MsgType::Cancel => cancellation_of(&original),
            _ => (original.content.clone(), original.covered_zones.clone()),
        };
        let notice = self.new_draft(staff, msg_type, content, covered, Some(&original), now);
        self.insert_new(notice, action).await
    }
}

/// What a cancellation of `original` says, and where: its content and zones, with words that
/// say why the notice no longer holds, since the old advice ("go upstairs") must not go out
/// again under "cancelled".
pub(super) fn cancellation_of(original: &Notice) -> (NoticeContent, Vec<ZoneRef>) {
    let mut content = original.content.clone();
    for (language, info) in content.info.iter_mut() {
        let what = info.headline.as_deref().unwrap_or(&info.event);
        info.description = Some(format!("{} {what}", cancellation_prefix(language)));
        info.instruction = None;
    }
    (content, original.covered_zones.clone())
}

/// How a cancellation draft starts its text, by language (`it-CH` as `it`); the author adds why.
fn cancellation_prefix(language: &str) -> &'static str {
    let primary = language.split('-').next().unwrap_or(language);
    match primary.to_ascii_lowercase().as_str() {
        "it" => "Revoca:",
        "de" => "Widerruf:",
        "fr" => "Annulation :",
        _ => "Cancelled:",
    }
}

#[cfg(test)]
mod tests {
    use super::cancellation_prefix;

    #[test]
    fn a_regional_language_tag_starts_its_cancellation_in_its_language() {
        assert_eq!(cancellation_prefix("it"), "Revoca:");
        assert_eq!(cancellation_prefix("it-IT"), "Revoca:");
        assert_eq!(cancellation_prefix("de-CH"), "Widerruf:");
        assert_eq!(cancellation_prefix("en-GB"), "Cancelled:");
    }
}
