//! Text for chat services, which cap a message's length each in its own units.

/// The text cut to `max` units (as `units` counts a character), at a line break where one is
/// near enough, with an ellipsis; a single endless line is cut between characters.
pub fn cut_to_length(text: &str, max: usize, units: fn(char) -> usize) -> String {
    if text.chars().map(units).sum::<usize>() <= max {
        return text.to_owned();
    }
    let room = max.saturating_sub(2);
    let mut used = 0;
    let mut end = 0;
    for (at, c) in text.char_indices() {
        if used + units(c) > room {
            break;
        }
        used += units(c);
        end = at + c.len_utf8();
    }
    let kept = &text[..end];
    // Lines are a notice's paragraphs: end on one unless that loses more than a quarter.
    let kept = match kept.rfind('\n') {
        Some(line_end) if line_end > end * 3 / 4 => &kept[..=line_end],
        _ => kept,
    };
    format!("{kept}…")
}

/// `words` then `links` within `max` units: the words cut as [`cut_to_length`] does, the
/// links (and the office's signature after them) kept whole, so that a notice too long for a
/// chat still leads to the whole of it.
pub fn cut_keeping_links(words: &str, links: &str, max: usize, units: fn(char) -> usize) -> String {
    let count = |text: &str| text.chars().map(units).sum::<usize>();
    let whole = format!("{words}{links}").trim_end().to_owned();
    if count(&whole) <= max {
        return whole;
    }
    let words = cut_to_length(
        words.trim_end(),
        max.saturating_sub(count(links) + 2),
        units,
    );
    // Links longer than the whole message (never, with the office's own URLs): cut it all.
    cut_to_length(&format!("{words}\n\n{}", links.trim_start()), max, units)
}

/// One character, one unit: how WhatsApp counts.
pub fn one(_: char) -> usize {
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_too_long_for_a_chat_loses_words_but_keeps_its_links_and_signature() {
        let words = format!(
            "Allerta rossa\n\n{}",
            "Evacuare la zona rossa.\n".repeat(300)
        );
        let links = "Avviso completo: https://pc.example.it/avvisi/1\n\n-- \nProtezione civile";

        let cut = cut_keeping_links(&words, links, 4096, char::len_utf16);
        let short = cut_keeping_links("Allerta gialla\n\nPioggia.\n\n", links, 4096, one);

        assert!(cut.encode_utf16().count() <= 4096, "{}", cut.len());
        assert!(cut.starts_with("Allerta rossa"));
        assert!(cut.contains("…\n\nAvviso completo: https://pc.example.it/avvisi/1"));
        assert!(cut.ends_with("-- \nProtezione civile"));
        assert_eq!(short, format!("Allerta gialla\n\nPioggia.\n\n{links}"));
    }
}
