//! The Cloud API messages the hub sends: a conversation's answer (text, reply buttons, a list,
//! or a request for the person's location), a notice or a reporter's news as text, and the
//! approved template that carries them after 24 hours of silence.

use serde_json::{Value, json};

use crate::channels::chat_text::{cut_keeping_links, cut_to_length, one};
use crate::channels::email::PlainText;
use crate::model::{ChatButton, ChatMessage};

/// Meta's lengths, in characters.
const TEXT_BODY: usize = 4096;
const BUTTONS_BODY: usize = 1024;
const BUTTON_TITLE: usize = 20;
const MAX_BUTTONS: usize = 3;
const ROW_TITLE: usize = 24;
const ROW_DESCRIPTION: usize = 72;
const MAX_ROWS: usize = 10;
const TEMPLATE_PARAMETER: usize = 1000;

fn cut(text: &str, max: usize) -> String {
    cut_to_length(text, max, one)
}

/// Plain text, without a link preview.
fn text(to: &str, body: &str) -> Value {
    json!({
        "to": to, "type": "text",
        "text": { "body": cut(body, TEXT_BODY), "preview_url": false },
    })
}

/// A notice or a reporter's news: a long one is cut before its links.
pub(super) fn news(to: &str, plain: &PlainText) -> Value {
    text(
        to,
        &cut_keeping_links(&plain.words, &plain.links, TEXT_BODY, one),
    )
}

/// A conversation's answer: up to three short choices are reply buttons, more (or longer) are
/// a list, the place question asks for the location.
pub(super) fn answer(to: &str, message: &ChatMessage, language: &str) -> Value {
    if message.ask_location.is_some() {
        return interactive(
            to,
            json!({
                "type": "location_request_message",
                "body": { "text": cut(&message.text, BUTTONS_BODY) },
                "action": { "name": "send_location" },
            }),
        );
    }
    let choices: Vec<&ChatButton> = message.buttons.iter().flatten().collect();
    if choices.is_empty() {
        return text(to, &message.text);
    }
    let short = |b: &&ChatButton| b.label.chars().count() <= BUTTON_TITLE;
    if choices.len() <= MAX_BUTTONS
        && choices.iter().all(short)
        && message.text.chars().count() <= BUTTONS_BODY
    {
        return interactive(to, reply_buttons(&message.text, &choices));
    }
    interactive(to, list(&message.text, choices, language))
}

fn interactive(to: &str, interactive: Value) -> Value {
    json!({ "to": to, "type": "interactive", "interactive": interactive })
}

fn reply_buttons(body: &str, choices: &[&ChatButton]) -> Value {
    let buttons: Vec<Value> = choices
        .iter()
        .map(|choice| json!({ "type": "reply", "reply": { "id": choice.data, "title": choice.label } }))
        .collect();
    json!({
        "type": "button",
        "body": { "text": body },
        "action": { "buttons": buttons },
    })
}

/// A list holds ten rows: past ten, "cancel" is left out (typing `/annulla` still works), then
/// the choices after the tenth.
fn list(body: &str, mut choices: Vec<&ChatButton>, language: &str) -> Value {
    if choices.len() > MAX_ROWS {
        choices.retain(|choice| choice.data != "cancel");
        choices.truncate(MAX_ROWS);
    }
    let rows: Vec<Value> = choices
        .iter()
        .map(|choice| {
            let mut row = json!({ "id": choice.data, "title": cut(&choice.label, ROW_TITLE) });
            if choice.label.chars().count() > ROW_TITLE {
                row["description"] = json!(cut(&choice.label, ROW_DESCRIPTION));
            }
            row
        })
        .collect();
    let open = if language.starts_with("en") {
        "Choose"
    } else {
        "Scegli"
    };
    json!({
        "type": "list",
        "body": { "text": cut(body, TEXT_BODY) },
        "action": { "button": open, "sections": [{ "rows": rows }] },
    })
}

/// An approved template with its body parameters, in the person's language.
pub(super) fn template(to: &str, name: &str, language: &str, parameters: &[&str]) -> Value {
    let parameters: Vec<Value> = parameters
        .iter()
        .map(|text| json!({ "type": "text", "text": template_parameter(text) }))
        .collect();
    json!({
        "to": to, "type": "template",
        "template": {
            "name": name,
            "language": { "code": language },
            "components": [{ "type": "body", "parameters": parameters }],
        },
    })
}

/// Meta refuses a parameter with a line break, a tab or more than four spaces in a row, or an
/// empty one: lines become " · " and runs of spaces one.
fn template_parameter(text: &str) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect();
    let joined = lines.join(" · ");
    if joined.is_empty() {
        "-".into()
    } else {
        cut(&joined, TEMPLATE_PARAMETER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(label: &str, data: &str) -> ChatButton {
        ChatButton {
            label: label.into(),
            data: data.into(),
        }
    }

    #[test]
    fn three_short_choices_are_buttons_and_eleven_long_ones_a_list_of_ten() {
        let menu = ChatMessage {
            text: "Cosa vuoi fare?".into(),
            buttons: vec![
                vec![choice("Segnala", "report"), choice("Avvisi qui", "notices")],
                vec![choice("English", "lang:en")],
            ],
            ask_location: None,
        };
        let sent = answer("393331234567", &menu, "it");
        assert_eq!(sent["interactive"]["type"], "button");
        assert_eq!(
            sent["interactive"]["action"]["buttons"][2]["reply"]["id"],
            "lang:en"
        );

        let mut categories: Vec<Vec<ChatButton>> = (0..10)
            .map(|n| {
                vec![choice(
                    &format!("Interruzione elettrica di zona {n}"),
                    &format!("cat:{n}"),
                )]
            })
            .collect();
        categories.push(vec![choice("Annulla", "cancel")]);
        let message = ChatMessage {
            text: "Che cosa succede?".into(),
            buttons: categories,
            ask_location: None,
        };
        let sent = answer("393331234567", &message, "it");
        let rows = sent["interactive"]["action"]["sections"][0]["rows"]
            .as_array()
            .unwrap();
        assert_eq!(rows.len(), 10);
        assert!(rows.iter().all(|row| row["id"] != "cancel"));
        let title = rows[0]["title"].as_str().unwrap();
        assert!(title.chars().count() <= ROW_TITLE && title.ends_with('…'));
        assert_eq!(rows[0]["description"], "Interruzione elettrica di zona 0");
    }

    #[test]
    fn a_template_parameter_has_no_line_breaks_or_long_runs_of_spaces() {
        let sent = template(
            "393331234567",
            "vedetta_avviso",
            "it",
            &["ALLERTA\n\n  Rossa     oggi", ""],
        );
        let parameters = &sent["template"]["components"][0]["parameters"];
        assert_eq!(parameters[0]["text"], "ALLERTA · Rossa oggi");
        assert_eq!(parameters[1]["text"], "-");
    }
}
