//! Free text as every form takes it: trimmed, empty as absent, line breaks as LF, bounded in
//! characters, free of what XML cannot hold; and the shape of an e-mail address, which reports and subscriptions
//! both take.

use crate::problem::{ErrorCode, Problem};

/// Trims an optional text; empty becomes absent; over `max` characters is an error. A line
/// break is kept as one LF, however it came (a browser's form sends CRLF): XML readers turn a CR
/// into LF, so a text kept with one would read differently in Open311 XML, CAP and the feeds
/// than in JSON, and a break would count twice against `max`.
pub fn bounded_text(
    value: Option<String>,
    field: &str,
    max: usize,
) -> Result<Option<String>, Problem> {
    let Some(value) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let value = with_lf_line_breaks(value);
    refuse_what_xml_cannot_hold(&value, field)?;
    let chars = value.chars().count();
    if chars > max {
        return Err(Problem::with_field(
            ErrorCode::TooLong,
            field,
            format!("`{field}` has {chars} characters; the limit is {max}"),
        ));
    }
    Ok(Some(value))
}

/// The text with each line break, CRLF or CR, as one LF.
pub fn with_lf_line_breaks(text: String) -> String {
    match text.contains('\r') {
        true => text.replace("\r\n", "\n").replace('\r', "\n"),
        false => text,
    }
}

/// Refuses text with a character XML 1.0 cannot hold, naming the field and the character.
pub fn refuse_what_xml_cannot_hold(value: &str, field: &str) -> Result<(), Problem> {
    let Some(forbidden) = xml_forbidden_char(value) else {
        return Ok(());
    };
    Err(Problem::with_field(
        ErrorCode::InvalidField,
        field,
        format!(
            "`{field}` contains the character U+{:04X}, which no feed, CAP document or e-mail \
             can carry; remove it",
            u32::from(forbidden)
        ),
    ))
}

/// The first character XML 1.0 cannot hold (a control character other than tab, line feed and
/// carriage return, or the non-characters U+FFFE and U+FFFF): one in a notice would make every
/// feed that lists it unreadable, so text is refused with one rather than published.
pub fn xml_forbidden_char(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}')
            || matches!(c, '\u{FFFE}' | '\u{FFFF}')
    })
}

/// Longest e-mail address (RFC 5321's path limit).
const MAX_EMAIL: usize = 254;

/// An optional e-mail address, trimmed and bounded: one mailbox, as the mailer that sends to it
/// reads one, at a named domain (not `localhost`, not an address literal such as `[10.0.0.1]`,
/// which would point the office's relay at a host of the caller's choosing).
pub fn parse_email(email: Option<String>, field: &str) -> Result<Option<String>, Problem> {
    let Some(email) = bounded_text(email, field, MAX_EMAIL)? else {
        return Ok(None);
    };
    let mailable = email.parse::<lettre::Address>().is_ok_and(|address| {
        let domain = address.domain();
        domain.contains('.') && !domain.starts_with('[')
    });
    if !mailable {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            field,
            format!("`{field}` must be an e-mail address like name@example.org"),
        ));
    }
    Ok(Some(email))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted(address: &str) -> bool {
        parse_email(Some(address.to_owned()), "address").is_ok()
    }

    #[test]
    fn text_with_a_control_character_xml_cannot_hold_is_refused_naming_it_but_tabs_and_newlines_pass()
     {
        for (text, code) in [
            ("h\u{0}x", "U+0000"),
            ("e\u{1}", "U+0001"),
            ("i\u{FFFE}", "U+FFFE"),
        ] {
            let refused = bounded_text(Some(text.to_owned()), "info.it.headline", 100).unwrap_err();
            assert_eq!(refused.field.as_deref(), Some("info.it.headline"));
            assert!(refused.message.contains(code), "{}", refused.message);
        }
        let kept = bounded_text(Some("riga uno\n\triga due\r\nè".to_owned()), "text", 100);
        assert!(kept.unwrap().is_some());
    }

    #[test]
    fn a_line_break_is_kept_as_one_line_feed_however_it_came_and_counts_once() {
        let kept = bounded_text(Some("uno\r\ndue\rtre\nquattro".to_owned()), "text", 19);

        assert_eq!(kept.unwrap().as_deref(), Some("uno\ndue\ntre\nquattro"));
        assert!(bounded_text(Some("a\r\nb".to_owned()), "text", 3).is_ok());
    }

    #[test]
    fn one_mailbox_at_a_named_domain_is_an_email_address() {
        assert!(accepted("mario.rossi+avvisi@comune.example.it"));
        assert!(accepted("  olga@example.org "));
    }

    #[test]
    fn a_list_a_second_at_sign_a_display_name_or_an_address_literal_is_not() {
        for wrong in [
            "a@b.it,c@d.it",
            "a@b@c.it",
            "Mario <a@b.it>",
            "a@[127.0.0.1]",
            "a@localhost",
            "a b@c.it",
            "a@b.it\r\nBcc: c@d.it",
        ] {
            assert!(!accepted(wrong), "{wrong}");
        }
    }
}
