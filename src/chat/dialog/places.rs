//! Where the citizen is: a shared position placed in its zone, or a comune found by name (one
//! match taken, several offered as buttons); then the step that waited for a place goes on.

use serde::{Deserialize, Serialize};

use super::{Action, Context, Step, Turn, button};
use crate::model::{ChatMessage, Location};
use crate::zones::{Place, search_key};

/// A place given in the chat: a shared position, or a comune chosen by name (then its inner
/// point, and the report says so).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(in crate::chat) struct ChatPlace {
    pub(in crate::chat) lat: f64,
    pub(in crate::chat) lon: f64,
    pub(in crate::chat) name: String,
    /// Chosen by name: the position is the place's, not the citizen's.
    #[serde(default)]
    pub(in crate::chat) by_name: bool,
}

impl ChatPlace {
    /// A comune the citizen chose by name: its inner point stands for the position.
    pub(super) fn chosen(place: Place) -> ChatPlace {
        ChatPlace {
            lat: place.lat,
            lon: place.lon,
            name: place.name,
            by_name: true,
        }
    }

    pub(in crate::chat) fn location(&self) -> Location {
        Location {
            lat: self.lat,
            lon: self.lon,
        }
    }
}

/// Places offered as buttons when a name matches several.
const PLACES_OFFERED: usize = 5;

impl Turn {
    pub(super) fn located(&mut self, point: Location, ctx: &Context<'_>) {
        let Some(zone) = ctx.zones.locate(point).into_iter().next() else {
            let said = self.words().outside_area;
            self.say(ChatMessage::text(said));
            return;
        };
        self.placed(
            ChatPlace {
                lat: point.lat,
                lon: point.lon,
                name: zone.name.clone(),
                by_name: false,
            },
            ctx,
        );
    }

    /// The citizen named a place: one match is taken, several are offered, none is said.
    pub(super) fn named(&mut self, typed: &str, ctx: &Context<'_>) {
        let found = ctx.zones.find_places(typed, PLACES_OFFERED);
        let exact = found
            .iter()
            .filter(|place| search_key(&place.name) == search_key(typed))
            .count();
        match found.first() {
            Some(place) if found.len() == 1 || exact == 1 => {
                self.placed(ChatPlace::chosen(place.clone()), ctx);
            }
            Some(_) => {
                let buttons = found
                    .into_iter()
                    .map(|place| {
                        let label = format!("{} ({})", place.name, place.context);
                        vec![button(&label, &format!("place:{}", place.id))]
                    })
                    .collect();
                let which = self.words().which_place;
                self.say(ChatMessage {
                    text: which.into(),
                    buttons,
                    ask_location: None,
                });
            }
            None => {
                let said = self.words().place_not_found;
                self.say(ChatMessage::text(said));
            }
        }
    }

    /// A place is known: the step waiting for one goes on.
    pub(super) fn placed(&mut self, place: ChatPlace, ctx: &Context<'_>) {
        self.dialog.place = Some(place.clone());
        match self.dialog.step {
            Step::ReportPlace => self.ask_category(ctx),
            _ => {
                self.dialog.step = Step::Idle;
                self.action = Action::ShowNotices(place);
            }
        }
    }
}
