//! The words of outbound e-mail in Italian and English, one table per language.

/// Every phrase a message is built from.
pub(super) struct Words {
    pub(super) test_mark: &'static str,
    pub(super) exercise_mark: &'static str,
    pub(super) cancel_mark: &'static str,
    pub(super) update_mark: &'static str,
    pub(super) severity: &'static str,
    pub(super) what_to_do: &'static str,
    pub(super) details: &'static str,
    pub(super) valid_until: &'static str,
    pub(super) read_on_page: &'static str,
    pub(super) cap_document: &'static str,
    pub(super) unsubscribe: &'static str,
    pub(super) why_you_get_this: &'static str,
    pub(super) confirm_subject: &'static str,
    pub(super) confirm_body: &'static str,
    pub(super) confirm_action: &'static str,
    pub(super) confirm_ignore: &'static str,
    pub(super) report_subject: &'static str,
    pub(super) report_status: &'static str,
    pub(super) report_note: &'static str,
    pub(super) report_reason: &'static str,
    pub(super) report_expected: &'static str,
    pub(super) cancel_explained: &'static str,
}

const IT: Words = Words {
    test_mark: "[PROVA - NON È UN'ALLERTA REALE]",
    exercise_mark: "[ESERCITAZIONE - NON È UN'ALLERTA REALE]",
    cancel_mark: "REVOCA:",
    update_mark: "AGGIORNAMENTO:",
    severity: "Gravità",
    what_to_do: "Cosa fare",
    details: "Dettagli",
    valid_until: "Valido fino a",
    read_on_page: "Leggi l'avviso sul sito dell'ente",
    cap_document: "Documento CAP firmato",
    unsubscribe: "Annulla l'iscrizione",
    why_you_get_this: "Ricevi questo messaggio perché ti sei iscritto agli avvisi per",
    confirm_subject: "Conferma l'iscrizione agli avvisi",
    confirm_body: "Qualcuno (speriamo tu) ha chiesto di ricevere per e-mail gli avvisi di protezione civile per",
    confirm_action: "Conferma l'iscrizione",
    confirm_ignore: "Se non sei stato tu, ignora questo messaggio: senza conferma l'indirizzo viene cancellato.",
    report_subject: "Aggiornamento sulla tua segnalazione",
    report_status: "Stato",
    report_note: "Nota dell'operatore",
    report_reason: "Motivo",
    report_expected: "Risoluzione prevista entro",
    cancel_explained: "L'avviso precedente è revocato e non è più in vigore.",
};

const EN: Words = Words {
    test_mark: "[TEST - NOT A REAL ALERT]",
    exercise_mark: "[EXERCISE - NOT A REAL ALERT]",
    cancel_mark: "CANCELLED:",
    update_mark: "UPDATE:",
    severity: "Severity",
    what_to_do: "What to do",
    details: "Details",
    valid_until: "Valid until",
    read_on_page: "Read the notice on the office's page",
    cap_document: "Signed CAP document",
    unsubscribe: "Unsubscribe",
    why_you_get_this: "You receive this because you subscribed to notices for",
    confirm_subject: "Confirm your subscription to notices",
    confirm_body: "Someone (we hope you) asked to receive civil-protection notices by e-mail for",
    confirm_action: "Confirm the subscription",
    confirm_ignore: "If this was not you, ignore this message: without confirmation the address is deleted.",
    report_subject: "News about your report",
    report_status: "Status",
    report_note: "Note from the operator",
    report_reason: "Why",
    report_expected: "Expected to be resolved by",
    cancel_explained: "The earlier notice is withdrawn and no longer in force.",
};

/// The table for `language` (`it`, `en-GB`...), Italian when there is none.
pub(super) fn words(language: &str) -> &'static Words {
    if is_english(language) { &EN } else { &IT }
}

/// Whether a reader of `language` gets English; everyone else gets Italian.
fn is_english(language: &str) -> bool {
    language.to_ascii_lowercase().starts_with("en")
}

/// Why a report was not taken up (`schemas/common.schema.json`, `rejection_reason`), in words
/// a reporter understands.
pub(super) fn reason_words(reason: &str, language: &str) -> &'static str {
    let english = is_english(language);
    match (reason, english) {
        ("duplicate", false) => "la stessa situazione è già stata segnalata e la seguiamo lì",
        ("not_actionable", false) => "non è un intervento che possiamo fare noi",
        ("spam", false) => "non sembra una segnalazione",
        ("out_of_area", false) => "il luogo è fuori dall'area che seguiamo",
        ("duplicate", true) => "the same situation was already reported and we follow it there",
        ("not_actionable", true) => "it is not something we can act on",
        ("spam", true) => "it does not look like a report",
        ("out_of_area", true) => "the place is outside the area we cover",
        (_, false) => "non indicato",
        (_, true) => "not given",
    }
}

/// A report status in words.
pub(super) fn status_words(status: &str, language: &str) -> &'static str {
    let english = is_english(language);
    match (status, english) {
        ("received", false) => "ricevuta",
        ("acknowledged", false) => "presa in carico",
        ("in_progress", false) => "in lavorazione",
        ("resolved", false) => "risolta",
        ("rejected", false) => "non accolta",
        ("received", true) => "received",
        ("acknowledged", true) => "acknowledged",
        ("in_progress", true) => "in progress",
        ("resolved", true) => "resolved",
        ("rejected", true) => "not taken up",
        (_, false) => "aggiornata",
        (_, true) => "updated",
    }
}

/// A CAP severity in words.
pub(super) fn severity_words(severity: &str, language: &str) -> &'static str {
    let english = is_english(language);
    match (severity, english) {
        ("Extreme", false) => "estrema",
        ("Severe", false) => "grave",
        ("Moderate", false) => "moderata",
        ("Minor", false) => "lieve",
        ("Extreme", true) => "extreme",
        ("Severe", true) => "severe",
        ("Moderate", true) => "moderate",
        ("Minor", true) => "minor",
        (_, false) => "non nota",
        (_, true) => "unknown",
    }
}

/// A time as the office's readers read a clock: in the machine's time zone (the office's, as
/// the README asks), with its offset from UTC so that nobody has to guess. In English the month
/// is named: 02/12 is the 2nd of December in Italy and the 12th of February in America.
pub(super) fn local_time(at: chrono::DateTime<chrono::Utc>, language: &str) -> String {
    let format = match is_english(language) {
        true => "%-d %B %Y, %H:%M (UTC%:z)",
        false => "%d/%m/%Y %H:%M (UTC%:z)",
    };
    at.with_timezone(&chrono::Local).format(format).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_english_reader_gets_the_month_by_name_and_an_italian_one_the_day_first() {
        let at = "2026-12-02T10:15:00Z".parse().unwrap();

        let english = local_time(at, "en");
        let italian = local_time(at, "it");

        assert!(english.contains(" December 2026, "), "{english}");
        assert!(!english.contains('/'), "{english}");
        assert!(italian.contains("/12/2026 "), "{italian}");
        assert!(english.contains("(UTC") && italian.contains("(UTC"));
    }
}
