//! The conversation as a state machine: where a chat stands, and what one message from the
//! citizen moves it to, with the answers and the one action (a report, a list of notices, a
//! subscription, forgetting the chat) the service then carries out. Pure: no store, no network.

use serde::{Deserialize, Serialize};

use super::words::{self, Words, language_for, words};
use crate::config::CategoryCatalog;
use crate::model::{ChatButton, ChatInput, ChatMessage, Photo};
use crate::zones::ZoneIndex;

mod places;

pub(super) use places::ChatPlace;

/// Where a chat stands, stored with it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Dialog {
    step: Step,
    /// The last place the citizen gave, for "Iscriviti".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    place: Option<ChatPlace>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
enum Step {
    #[default]
    Idle,
    ReportPlace,
    ReportCategory,
    ReportText {
        category: String,
    },
    ReportPhoto {
        category: String,
        text: String,
    },
    NoticesPlace,
}

impl Dialog {
    /// The report was stored: the conversation is back at its start.
    pub(super) fn reported(&mut self) {
        self.step = Step::Idle;
    }
}

/// A report the conversation has gathered.
#[derive(Debug, Clone)]
pub(super) struct Draft {
    pub(super) place: ChatPlace,
    pub(super) category: String,
    pub(super) text: String,
    pub(super) photo: Option<Photo>,
}

/// What the service does after the answers.
#[derive(Debug, Clone)]
pub(super) enum Action {
    Nothing,
    Submit(Draft),
    ShowNotices(ChatPlace),
    Subscribe(ChatPlace),
    Forget,
}

/// One turn: the dialog after the message, the chat's language, what to answer, what to do.
#[derive(Debug)]
pub(super) struct Turn {
    pub(super) dialog: Dialog,
    pub(super) language: String,
    pub(super) replies: Vec<ChatMessage>,
    pub(super) action: Action,
}

/// What a turn may consult.
pub(super) struct Context<'a> {
    pub(super) zones: &'a ZoneIndex,
    pub(super) catalog: &'a CategoryCatalog,
    pub(super) default_language: &'a str,
    /// Characters a report's text holds (`intake.max_text_chars`).
    pub(super) max_text_chars: usize,
}

/// A chat as stored, or a new one.
pub(super) struct Known {
    pub(super) dialog: Dialog,
    pub(super) language: String,
}

/// Moves the conversation on by one message.
pub(super) fn turn(
    known: Option<Known>,
    input: ChatInput,
    hint: Option<&str>,
    ctx: &Context<'_>,
) -> Turn {
    let first_contact = known.is_none();
    let known = known.unwrap_or_else(|| Known {
        dialog: Dialog::default(),
        language: language_for(hint, ctx.default_language),
    });
    let mut turn = Turn {
        dialog: known.dialog,
        language: known.language,
        replies: Vec::new(),
        action: Action::Nothing,
    };
    if first_contact && !matches!(input, ChatInput::Location(_)) {
        turn.greet();
        return turn;
    }
    turn.take(input, ctx);
    turn
}

impl Turn {
    fn words(&self) -> &'static Words {
        words(&self.language)
    }

    fn say(&mut self, message: ChatMessage) {
        self.replies.push(message);
    }

    fn greet(&mut self) {
        let greeting = self.words().greeting;
        self.say(ChatMessage::text(greeting));
        self.menu();
    }

    fn menu(&mut self) {
        let w = self.words();
        self.dialog.step = Step::Idle;
        self.say(ChatMessage {
            text: w.menu.into(),
            buttons: vec![
                vec![
                    button(w.report_button, "report"),
                    button(w.notices_button, "notices"),
                ],
                vec![button(
                    w.other_language_button,
                    &format!("lang:{}", w.other_language),
                )],
            ],
            ask_location: None,
        });
    }

    fn take(&mut self, input: ChatInput, ctx: &Context<'_>) {
        match input {
            ChatInput::Command(command) => self.command(&command),
            ChatInput::Button(data) => self.button(&data, ctx),
            ChatInput::Location(point) => self.located(point, ctx),
            ChatInput::Text(text) => self.text(text, ctx),
            ChatInput::Photo(photo) => self.photo(photo),
            ChatInput::PhotoRefused(why) => {
                let said = words::photo_refusal(why, &self.language);
                self.say(ChatMessage::text(said));
            }
            ChatInput::Unsupported => {
                let said = self.words().unsupported;
                self.say(ChatMessage::text(said));
            }
        }
    }

    fn command(&mut self, command: &str) {
        match command {
            "start" | "menu" | "help" | "aiuto" => self.greet(),
            "segnala" | "report" => self.ask_place(Step::ReportPlace),
            "avvisi" | "notices" => match self.dialog.place.clone() {
                Some(place) => self.action = Action::ShowNotices(place),
                None => self.ask_place(Step::NoticesPlace),
            },
            "lingua" | "language" => {
                let other = self.words().other_language.to_owned();
                self.set_language(&other);
            }
            "annulla" | "cancel" => self.cancel(),
            "stop" => {
                self.dialog = Dialog::default();
                self.action = Action::Forget;
                let said = self.words().forgotten;
                self.say(ChatMessage::text(said));
            }
            _ => {
                let said = self.words().unknown_command;
                self.say(ChatMessage::text(said));
            }
        }
    }

    fn button(&mut self, data: &str, ctx: &Context<'_>) {
        if let Some(language) = data.strip_prefix("lang:") {
            return self.set_language(language);
        }
        if let Some(zone_id) = data.strip_prefix("place:") {
            return match ctx.zones.places(&[zone_id]).into_iter().next() {
                Some(place) => self.placed(ChatPlace::chosen(place), ctx),
                None => self.ask_place(self.dialog.step.clone()),
            };
        }
        if let Some(code) = data.strip_prefix("cat:") {
            return self.categorised(code, ctx);
        }
        match data {
            "report" => self.command("segnala"),
            "notices" => self.command("avvisi"),
            "cancel" => self.cancel(),
            "subscribe" => match self.dialog.place.clone() {
                Some(place) => self.action = Action::Subscribe(place),
                None => self.ask_place(Step::NoticesPlace),
            },
            "send" => self.submit(None),
            _ => self.menu(),
        }
    }

    fn set_language(&mut self, language: &str) {
        self.language = language_for(Some(language), &self.language);
        let said = self.words().language_set;
        self.say(ChatMessage::text(said));
        self.menu();
    }

    fn cancel(&mut self) {
        let said = self.words().cancelled;
        self.say(ChatMessage::text(said));
        self.menu();
    }

    fn ask_place(&mut self, step: Step) {
        let w = self.words();
        let ask = if matches!(step, Step::NoticesPlace) {
            w.ask_notices_place
        } else {
            w.ask_place
        };
        self.dialog.step = step;
        self.say(ChatMessage {
            text: ask.into(),
            buttons: Vec::new(),
            ask_location: Some(w.share_location_button.into()),
        });
    }

    fn ask_category(&mut self, ctx: &Context<'_>) {
        self.dialog.step = Step::ReportCategory;
        let mut buttons: Vec<Vec<ChatButton>> = ctx
            .catalog
            .all()
            .chunks(2)
            .map(|pair| {
                pair.iter()
                    .map(|c| button(c.name_in(&self.language), &format!("cat:{}", c.code)))
                    .collect()
            })
            .collect();
        buttons.push(vec![button(self.words().cancel_button, "cancel")]);
        let text = self.words().ask_category.into();
        self.say(ChatMessage {
            text,
            buttons,
            ask_location: None,
        });
    }

    fn categorised(&mut self, code: &str, ctx: &Context<'_>) {
        if !matches!(self.dialog.step, Step::ReportCategory) || ctx.catalog.get(code).is_none() {
            return self.menu();
        }
        self.dialog.step = Step::ReportText {
            category: code.to_owned(),
        };
        let said = self.words().ask_text;
        self.say(ChatMessage::text(said));
    }

    fn text(&mut self, text: String, ctx: &Context<'_>) {
        match std::mem::take(&mut self.dialog.step) {
            Step::ReportPlace => {
                self.dialog.step = Step::ReportPlace;
                self.named(&text, ctx);
            }
            Step::NoticesPlace => {
                self.dialog.step = Step::NoticesPlace;
                self.named(&text, ctx);
            }
            Step::ReportText { category } => {
                if let Err(said) = self.check_description(&text, ctx) {
                    self.dialog.step = Step::ReportText { category };
                    return self.say(ChatMessage::text(said));
                }
                self.dialog.step = Step::ReportPhoto { category, text };
                let w = self.words();
                self.say(ChatMessage {
                    text: w.ask_photo.into(),
                    buttons: vec![vec![button(w.send_without_photo, "send")]],
                    ask_location: None,
                });
            }
            step @ (Step::ReportCategory | Step::ReportPhoto { .. }) => {
                self.dialog.step = step;
                let said = self.words().use_the_buttons;
                self.say(ChatMessage::text(said));
            }
            Step::Idle => self.menu(),
        }
    }

    /// Refuses now, while the citizen can still rewrite it, a description intake would refuse
    /// at "Send": too long once the place's note is added, or holding a control character.
    fn check_description(&self, text: &str, ctx: &Context<'_>) -> Result<(), String> {
        if let Some(forbidden) = crate::model::xml_forbidden_char(text) {
            return Err(words::text_unrecordable(forbidden, &self.language));
        }
        let note = match &self.dialog.place {
            Some(place) if place.by_name => words::place_by_name_note(&place.name, &self.language)
                .chars()
                .count(),
            _ => 0,
        };
        let room = ctx.max_text_chars.saturating_sub(note);
        // Counted as intake will count it: a line break as one character.
        let chars = crate::model::with_lf_line_breaks(text.trim().to_owned())
            .chars()
            .count();
        if chars > room {
            return Err(words::text_too_long(chars, room, &self.language));
        }
        Ok(())
    }

    fn photo(&mut self, photo: Photo) {
        match self.dialog.step {
            Step::ReportPhoto { .. } => self.submit(Some(photo)),
            Step::ReportText { .. } => {
                let said = self.words().text_first;
                self.say(ChatMessage::text(said));
            }
            _ => self.menu(),
        }
    }

    /// Asks for the report to be stored; the draft stays until it is (`Dialog::reported`), so
    /// a refusal ("wait a minute and send again") loses nothing the citizen wrote.
    fn submit(&mut self, photo: Option<Photo>) {
        let (Step::ReportPhoto { category, text }, Some(place)) =
            (self.dialog.step.clone(), self.dialog.place.clone())
        else {
            return self.menu();
        };
        self.action = Action::Submit(Draft {
            place,
            category,
            text,
            photo,
        });
    }
}

fn button(label: &str, data: &str) -> ChatButton {
    ChatButton {
        label: label.into(),
        data: data.into(),
    }
}
