//! Whether a notice's words are fit to go out: an escalated draft starts with a placeholder
//! that says so, and nothing still saying it, or saying nothing, may reach the public.

use super::content::NoticeContent;
use crate::problem::{ErrorCode, Problem};

/// The sentence an escalated draft carries until someone writes the notice, by language.
pub fn placeholder(language: &str) -> &'static str {
    match language {
        "it" => "Testo da completare prima dell'approvazione.",
        _ => "Complete this text before approval.",
    }
}

/// Refuses words that are not ready: a placeholder left in, or a language with nothing to read
/// but the event's name. The field named is the first to fix.
pub fn check_words_ready(content: &NoticeContent) -> Result<(), Problem> {
    let placeholders = [placeholder("it"), placeholder("en")];
    for (language, info) in &content.info {
        let texts = [
            ("headline", &info.headline),
            ("description", &info.description),
            ("instruction", &info.instruction),
        ];
        if let Some((field, _)) = texts.iter().find(|(_, text)| {
            text.as_deref()
                .is_some_and(|text| placeholders.iter().any(|p| text.contains(p)))
        }) {
            return Err(Problem::with_field(
                ErrorCode::InvalidField,
                format!("content.info.{language}.{field}"),
                format!(
                    "the {language} {field} still holds the placeholder \"{}\": write what people must know and do, then approve",
                    placeholder(language)
                ),
            ));
        }
        let says_something = texts
            .iter()
            .any(|(_, text)| text.as_deref().is_some_and(|text| !text.trim().is_empty()));
        if !says_something {
            return Err(Problem::with_field(
                ErrorCode::MissingField,
                format!("content.info.{language}.headline"),
                format!(
                    "the {language} text has no headline, description or instruction: write one, or remove the language"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notices::InfoText;

    fn content_with(info: InfoText) -> NoticeContent {
        let mut content: NoticeContent = serde_json::from_value(serde_json::json!({
            "status": "Actual", "category": ["Met"], "urgency": "Immediate", "severity": "Severe",
            "certainty": "Likely", "expires": "2030-01-01T00:00:00Z", "info": {}, "area": {"zones": ["z"]}
        }))
        .unwrap();
        content.info.insert("it".into(), info);
        content
    }

    fn info(headline: Option<&str>, description: Option<&str>) -> InfoText {
        InfoText {
            event: "Allerta".into(),
            headline: headline.map(Into::into),
            description: description.map(Into::into),
            instruction: None,
            area_description: None,
        }
    }

    #[test]
    fn words_with_a_headline_or_a_description_are_ready() {
        assert!(check_words_ready(&content_with(info(Some("Piena del Reno"), None))).is_ok());
        assert!(check_words_ready(&content_with(info(None, Some("Evitare gli argini")))).is_ok());
    }

    #[test]
    fn a_placeholder_left_in_or_nothing_but_the_event_is_refused_naming_the_field() {
        let left_in = format!("3 segnalazioni. {}", placeholder("it"));
        let refused = check_words_ready(&content_with(info(Some("Piena"), Some(&left_in))));
        assert_eq!(
            refused.unwrap_err().field.as_deref(),
            Some("content.info.it.description")
        );
        let empty = check_words_ready(&content_with(info(Some("  "), None)));
        assert_eq!(
            empty.unwrap_err().field.as_deref(),
            Some("content.info.it.headline")
        );
    }
}
