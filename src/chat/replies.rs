//! The answers that carry data (an acknowledgement, the notices at a place, a subscription),
//! and each message in words for the staff's record.

use super::ChatLine;
use super::words::{is_english, words};
use crate::cap::CapStatus;
use crate::model::{ChatButton, ChatInput, ChatMessage, Notice, Receipt};
use crate::problem::{ErrorCode, Problem};
use crate::store::chats::{Direction, LoggedMessage};

/// What the citizen sent, in words, for the record the staff read.
pub(super) fn in_words(input: &ChatInput) -> String {
    match input {
        ChatInput::Command(command) => format!("/{command}"),
        ChatInput::Text(text) => text.clone(),
        ChatInput::Location(point) => format!("[position {:.5}, {:.5}]", point.lat, point.lon),
        ChatInput::Button(data) => format!("[button {data}]"),
        ChatInput::Photo(photo) => format!("[photo, {} bytes]", photo.data.len()),
        ChatInput::PhotoRefused(why) => format!("[photo refused: {why}]"),
        ChatInput::Unsupported => "[a message the bot cannot read]".into(),
    }
}

/// A stored message as the staff see it: the text of an outgoing one without its buttons.
pub(super) fn line_of(logged: LoggedMessage) -> ChatLine {
    let (direction, text) = match logged.direction {
        Direction::In => ("in", logged.body),
        Direction::Out => {
            let text = serde_json::from_str::<ChatMessage>(&logged.body)
                .map_or(logged.body, |message| message.text);
            ("out", text)
        }
    };
    ChatLine {
        direction,
        text,
        at: crate::store::reports::from_millis(logged.at_ms),
    }
}

/// A turn's answers as few messages as the service's lengths allow: texts are joined to each
/// other and to the question after them (whose buttons then end the message).
pub(super) fn joined(replies: Vec<ChatMessage>) -> Vec<ChatMessage> {
    /// Meta's lengths: a text, and the body of a message with buttons.
    const TEXT: usize = 4096;
    const WITH_BUTTONS: usize = 1024;
    let mut joined: Vec<ChatMessage> = Vec::with_capacity(replies.len());
    for reply in replies {
        let asks = !reply.buttons.is_empty() || reply.ask_location.is_some();
        let room = if asks { WITH_BUTTONS } else { TEXT };
        match joined.last_mut() {
            Some(last)
                if last.buttons.is_empty()
                    && last.ask_location.is_none()
                    && last.text.chars().count() + 2 + reply.text.chars().count() <= room =>
            {
                last.text = format!("{}\n\n{}", last.text, reply.text);
                last.buttons = reply.buttons;
                last.ask_location = reply.ask_location;
            }
            _ => joined.push(reply),
        }
    }
    joined
}

pub(super) fn not_stored(problem: &Problem, language: &str) -> ChatMessage {
    let words = words(language);
    if problem.code == ErrorCode::RateLimited {
        return ChatMessage::text(words.too_many_reports);
    }
    ChatMessage::text(format!("{}: {}", words.not_stored, problem.message))
}

/// The acknowledgement of a stored report: its reference, zone, the time to be taken up, and
/// the emergency number when someone may be in danger.
pub(super) fn acknowledgement(
    receipt: &Receipt,
    acknowledge_within: chrono::Duration,
    emergency_number: Option<&str>,
    language: &str,
) -> Vec<ChatMessage> {
    let w = words(language);
    let zone = match receipt.zones.first() {
        Some(zone) if receipt.in_area => zone.name.clone(),
        _ => w.outside_zones.to_owned(),
    };
    let reference: String = receipt
        .id
        .chars()
        .rev()
        .take(8)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let minutes = (acknowledge_within.num_seconds().max(0) as u64).div_ceil(60);
    let mut text = format!(
        "{} {reference}.\n{}: {zone}.\n{} {minutes} {}.",
        w.received, w.zone, w.answer_within, w.minutes
    );
    if let Some(number) = emergency_number {
        text.push_str(&format!("\n\n{} {number}.", w.emergency));
    }
    vec![ChatMessage::text(text)]
}

/// The notices in force at a place, one message each, then the offer to subscribe.
pub(super) fn notices_here(
    notices: &[Notice],
    place: &str,
    language: &str,
    base_url: &str,
) -> Vec<ChatMessage> {
    let w = words(language);
    let mut messages = Vec::with_capacity(notices.len() + 1);
    if notices.is_empty() {
        messages.push(ChatMessage::text(format!("{} {place}.", w.no_notices)));
    } else {
        messages.push(ChatMessage::text(format!("{} {place}:", w.notices_here)));
        messages.extend(
            notices
                .iter()
                .map(|notice| ChatMessage::text(notice_summary(notice, language, base_url))),
        );
    }
    messages.push(ChatMessage {
        text: w.menu.into(),
        buttons: vec![vec![ChatButton {
            label: w.subscribe_button.into(),
            data: "subscribe".into(),
        }]],
        ask_location: None,
    });
    messages
}

/// A notice in a few lines: marks, severity and event, what to do, its page.
fn notice_summary(notice: &Notice, language: &str, base_url: &str) -> String {
    let info = notice.content.text_in(language);
    let english = is_english(language);
    let mark = match (notice.content.status, english) {
        (CapStatus::Exercise, false) => "[ESERCITAZIONE] ",
        (CapStatus::Exercise, true) => "[EXERCISE] ",
        (CapStatus::Actual, _) => "",
        (_, false) => "[PROVA] ",
        (_, true) => "[TEST] ",
    };
    let update = notice.msg_type.headline_mark(language);
    let headline = info.headline.as_deref().unwrap_or(&info.event);
    let mut text = format!(
        "{mark}{update}{} ({})\n{headline}",
        info.event,
        notice.content.severity.as_str()
    );
    if let Some(instruction) = &info.instruction {
        text.push_str(&format!("\n\n{}", shortened(instruction)));
    }
    // The link comes last and must survive: the services cut a message at 4,096 characters.
    text.push_str(&format!("\n\n{}", notice.page_url(base_url)));
    text
}

/// An instruction short enough that a notice's summary, its link included, fits one message;
/// the whole is on the page the link opens.
fn shortened(instruction: &str) -> String {
    const KEPT: usize = 3000;
    if instruction.chars().count() <= KEPT {
        return instruction.to_owned();
    }
    let kept: String = instruction.chars().take(KEPT - 1).collect();
    format!("{}…", kept.trim_end())
}

pub(super) fn subscribed(place: &str, language: &str) -> ChatMessage {
    let w = words(language);
    let stop = if is_english(language) {
        "Send /stop to unsubscribe."
    } else {
        "Per annullare scrivi /stop."
    };
    ChatMessage::text(format!("{} {place}. {stop}", w.subscribed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_greeting_and_the_menu_after_it_become_one_message_with_the_menus_buttons() {
        let menu = ChatMessage {
            text: "Cosa vuoi fare?".into(),
            buttons: vec![vec![ChatButton {
                label: "Segnala".into(),
                data: "report".into(),
            }]],
            ask_location: None,
        };
        let after = ChatMessage::text("Scegli qui sopra.");
        let joined = joined(vec![
            ChatMessage::text("Ciao."),
            menu.clone(),
            after.clone(),
        ]);
        assert_eq!(joined.len(), 2);
        assert_eq!(joined[0].text, "Ciao.\n\nCosa vuoi fare?");
        assert_eq!(joined[0].buttons, menu.buttons);
        assert_eq!(joined[1], after);
        let long = ChatMessage::text("x".repeat(1020));
        assert_eq!(joined_len(vec![long, menu]), 2);
    }

    #[test]
    fn a_long_instruction_is_shortened_so_the_summary_keeps_its_link() {
        let long = "Salire ai piani alti. ".repeat(200);
        let short = shortened(&long);
        assert_eq!(short.chars().count(), 2999);
        assert!(short.ends_with('…'));
        assert_eq!(shortened("Restare in casa."), "Restare in casa.");
    }

    fn joined_len(replies: Vec<ChatMessage>) -> usize {
        joined(replies).len()
    }
}
