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

/// One character, one unit: how WhatsApp counts.
pub fn one(_: char) -> usize {
    1
}
