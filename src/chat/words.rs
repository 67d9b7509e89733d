//! What the bot says, in Italian and English: one table per language, and the phrases that
//! carry a number or a name.

use crate::model::PhotoRefusal;

/// Every phrase of a conversation.
pub(super) struct Words {
    pub(super) greeting: &'static str,
    pub(super) menu: &'static str,
    pub(super) report_button: &'static str,
    pub(super) notices_button: &'static str,
    pub(super) other_language_button: &'static str,
    pub(super) other_language: &'static str,
    pub(super) language_set: &'static str,
    pub(super) ask_place: &'static str,
    pub(super) share_location_button: &'static str,
    pub(super) outside_area: &'static str,
    pub(super) place_not_found: &'static str,
    pub(super) which_place: &'static str,
    pub(super) ask_category: &'static str,
    pub(super) use_the_buttons: &'static str,
    pub(super) ask_text: &'static str,
    pub(super) text_first: &'static str,
    pub(super) ask_photo: &'static str,
    pub(super) send_without_photo: &'static str,
    pub(super) photo_refused: &'static str,
    pub(super) cancel_button: &'static str,
    pub(super) cancelled: &'static str,
    pub(super) received: &'static str,
    pub(super) zone: &'static str,
    pub(super) answer_within: &'static str,
    pub(super) outside_zones: &'static str,
    pub(super) emergency: &'static str,
    pub(super) not_stored: &'static str,
    pub(super) no_notices: &'static str,
    pub(super) notices_here: &'static str,
    pub(super) subscribe_button: &'static str,
    pub(super) subscribed: &'static str,
    pub(super) ask_notices_place: &'static str,
    pub(super) forgotten: &'static str,
    pub(super) unsupported: &'static str,
    pub(super) unknown_command: &'static str,
    pub(super) too_fast: &'static str,
    pub(super) too_many_reports: &'static str,
    pub(super) minutes: &'static str,
}

const IT: Words = Words {
    greeting: "Ciao, sono il canale ufficiale della protezione civile. Qui puoi segnalare un problema e ricevere gli avvisi per la tua zona.",
    menu: "Cosa vuoi fare?",
    report_button: "Segnala",
    notices_button: "Avvisi qui",
    other_language_button: "English",
    other_language: "en",
    language_set: "Parlerò in italiano.",
    ask_place: "Dove? Condividi la posizione con il pulsante qui sotto, oppure scrivi il nome del comune.",
    share_location_button: "Invia la mia posizione",
    outside_area: "Questo punto è fuori dall'area che seguiamo (forse in mare?). Invia un'altra posizione o scrivi il nome del comune.",
    place_not_found: "Non trovo un comune con questo nome. Riprova, o condividi la posizione.",
    which_place: "Quale di questi?",
    ask_category: "Che cosa succede? Scegli un tipo:",
    use_the_buttons: "Scegli con i pulsanti qui sopra, oppure /annulla.",
    ask_text: "Descrivi in breve cosa vedi (dove di preciso, quante persone, da quando).",
    text_first: "Prima descrivi cosa succede con un messaggio di testo.",
    ask_photo: "Vuoi aggiungere una foto? Inviala ora, oppure invia senza.",
    send_without_photo: "Invia senza foto",
    photo_refused: "Non ho potuto prendere la foto",
    cancel_button: "Annulla",
    cancelled: "Segnalazione annullata.",
    received: "Segnalazione ricevuta. Codice",
    zone: "Zona",
    answer_within: "Un operatore la prenderà in carico entro",
    outside_zones: "fuori dalle zone seguite",
    emergency: "Se qualcuno è in pericolo adesso, chiama subito il",
    not_stored: "Non ho potuto registrare la segnalazione",
    no_notices: "Nessun avviso in vigore per",
    notices_here: "Avvisi in vigore per",
    subscribe_button: "Iscriviti",
    subscribed: "Fatto: riceverai qui gli avvisi per",
    ask_notices_place: "Per quale posto? Condividi la posizione o scrivi il nome del comune.",
    forgotten: "Ho cancellato l'iscrizione e i dati di questa chat. Per ricominciare scrivi /start.",
    unsupported: "Non posso leggere questo tipo di messaggio. Scrivi un testo, invia la posizione o una foto.",
    unknown_command: "Non conosco questo comando. Comandi: /segnala, /avvisi, /lingua, /annulla, /stop.",
    too_fast: "Stai scrivendo troppo in fretta: aspetta un minuto e riprova.",
    too_many_reports: "Sono arrivate troppe segnalazioni da qui in poco tempo: aspetta un minuto e invia di nuovo. Se qualcuno è in pericolo adesso, chiama il numero di emergenza.",
    minutes: "minuti",
};

const EN: Words = Words {
    greeting: "Hello, this is the civil protection's official channel. Here you can report a problem and get the notices for your area.",
    menu: "What would you like to do?",
    report_button: "Report",
    notices_button: "Notices here",
    other_language_button: "Italiano",
    other_language: "it",
    language_set: "I will speak English.",
    ask_place: "Where? Share your location with the button below, or type the name of the town.",
    share_location_button: "Send my location",
    outside_area: "This point is outside the area we cover (at sea, perhaps?). Send another location or type the town's name.",
    place_not_found: "I cannot find a town with that name. Try again, or share your location.",
    which_place: "Which one?",
    ask_category: "What is happening? Choose a kind:",
    use_the_buttons: "Choose with the buttons above, or /annulla to stop.",
    ask_text: "Briefly describe what you see (where exactly, how many people, since when).",
    text_first: "First describe what is happening in a text message.",
    ask_photo: "Would you like to add a photo? Send it now, or send without one.",
    send_without_photo: "Send without a photo",
    photo_refused: "I could not take the photo",
    cancel_button: "Cancel",
    cancelled: "Report cancelled.",
    received: "Report received. Reference",
    zone: "Area",
    answer_within: "An operator will take it up within",
    outside_zones: "outside the areas we cover",
    emergency: "If someone is in danger now, call",
    not_stored: "I could not record the report",
    no_notices: "No notice in force for",
    notices_here: "Notices in force for",
    subscribe_button: "Subscribe",
    subscribed: "Done: you will get the notices for this place here:",
    ask_notices_place: "For which place? Share your location or type the town's name.",
    forgotten: "I removed the subscription and this chat's data. To start again, send /start.",
    unsupported: "I cannot read this kind of message. Send text, your location or a photo.",
    unknown_command: "I do not know this command. Commands: /segnala, /avvisi, /lingua, /annulla, /stop.",
    too_fast: "You are writing too fast: wait a minute and try again.",
    too_many_reports: "Too many reports came from here in a short time: wait a minute and send again. If someone is in danger now, call the emergency number.",
    minutes: "minutes",
};

/// The table for `language` (`it`, `en-GB`...), Italian when there is none.
pub(super) fn words(language: &str) -> &'static Words {
    if is_english(language) { &EN } else { &IT }
}

pub(super) fn is_english(language: &str) -> bool {
    language.to_ascii_lowercase().starts_with("en")
}

/// The language a new chat is spoken to in: its app's, when the bot speaks it.
pub(super) fn language_for(hint: Option<&str>, default: &str) -> String {
    match hint.map(str::to_ascii_lowercase) {
        Some(hint) if hint.starts_with("en") => "en".into(),
        Some(hint) if hint.starts_with("it") => "it".into(),
        _ => default.to_owned(),
    }
}

/// Added to a report whose place was chosen by name, so the operator knows the point is the
/// place's, not the reporter's.
pub(super) fn place_by_name_note(place: &str, language: &str) -> String {
    if is_english(language) {
        format!("\n[position: the centre of {place}, chosen by name in the chat]")
    } else {
        format!("\n[posizione: il centro di {place}, scelto per nome nella chat]")
    }
}

/// Why a photo was not taken, and what to do instead.
pub(super) fn photo_refusal(refusal: PhotoRefusal, language: &str) -> String {
    let english = is_english(language);
    let why = match (refusal, english) {
        (PhotoRefusal::TooLarge { limit_kb }, true) => {
            format!("it is larger than {limit_kb} KB. Send a smaller one")
        }
        (PhotoRefusal::TooLarge { limit_kb }, false) => {
            format!("è più grande di {limit_kb} KB. Inviane una più piccola")
        }
        (PhotoRefusal::NotAnImage, true) => {
            "it is not a JPEG, PNG or WebP image. Send a photo".into()
        }
        (PhotoRefusal::NotAnImage, false) => {
            "non è un'immagine JPEG, PNG o WebP. Invia una foto".into()
        }
        (PhotoRefusal::NotDownloaded, true) => "it did not reach me. Send it again".into(),
        (PhotoRefusal::NotDownloaded, false) => "non mi è arrivata. Inviala di nuovo".into(),
    };
    let or_without = if english {
        "or send without one"
    } else {
        "oppure invia senza"
    };
    format!("{}: {why}, {or_without}.", words(language).photo_refused)
}

/// A description longer than a report holds (`room`, the place's note left out).
pub(super) fn text_too_long(chars: usize, room: usize, language: &str) -> String {
    if is_english(language) {
        format!(
            "The description is too long ({chars} characters): I can record at most {room}. Write it shorter and send it again."
        )
    } else {
        format!(
            "La descrizione è troppo lunga ({chars} caratteri): ne posso registrare al massimo {room}. Scrivila più breve e inviala di nuovo."
        )
    }
}

/// A description with a character no report may hold (a control character).
pub(super) fn text_unrecordable(forbidden: char, language: &str) -> String {
    let code = format!("U+{:04X}", u32::from(forbidden));
    if is_english(language) {
        format!(
            "The description contains a character I cannot record ({code}). Write it again without it."
        )
    } else {
        format!(
            "La descrizione contiene un carattere che non posso registrare ({code}). Scrivila di nuovo senza."
        )
    }
}
