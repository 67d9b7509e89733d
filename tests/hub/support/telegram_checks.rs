//! What the Bot API stand-in checks in a request: its parameters (query string, JSON or form
//! body), formatted text (HTML, MarkdownV2, Markdown) and keyboards, with Telegram's refusals.

use serde_json::{Map, Value};

/// A request's parameters: the query string's, then the body's over them.
pub(super) struct Params(Map<String, Value>);

impl Params {
    /// Reads the query string and a JSON or `application/x-www-form-urlencoded` body.
    pub(super) fn read(
        query: Option<&str>,
        content_type: &str,
        body: &[u8],
    ) -> Result<Params, String> {
        let mut params = Map::new();
        for (key, value) in form_pairs(query.unwrap_or("")) {
            params.insert(key, Value::String(value));
        }
        let content_type = content_type.to_ascii_lowercase();
        let json = content_type.starts_with("application/json")
            || (content_type.is_empty() && body.first() == Some(&b'{'));
        if json && !body.is_empty() {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(fields)) => params.extend(fields),
                _ => return Err("can't parse JSON object".into()),
            }
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            for (key, value) in form_pairs(&String::from_utf8_lossy(body)) {
                params.insert(key, Value::String(value));
            }
        }
        Ok(Params(params))
    }

    /// A parameter given and not null.
    pub(super) fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|value| !value.is_null())
    }

    /// A string, number or boolean as text.
    pub(super) fn str(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            Value::Bool(flag) => Some(flag.to_string()),
            _ => None,
        }
    }

    pub(super) fn int(&self, key: &str) -> Option<i64> {
        match self.get(key)? {
            Value::Number(number) => number.as_i64(),
            Value::String(text) => text.trim().parse().ok(),
            _ => None,
        }
    }

    pub(super) fn flag(&self, key: &str) -> bool {
        match self.get(key) {
            Some(Value::Bool(flag)) => *flag,
            Some(Value::String(text)) => matches!(text.as_str(), "true" | "True" | "1"),
            Some(Value::Number(number)) => number.as_i64() == Some(1),
            _ => false,
        }
    }

    /// A JSON value, which a form or a JSON body may also give as a JSON-serialized string.
    pub(super) fn json(&self, key: &str) -> Option<Value> {
        match self.get(key)? {
            Value::String(text) if text.trim_start().starts_with(['{', '[']) => {
                Some(serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone())))
            }
            other => Some(other.clone()),
        }
    }

    pub(super) fn to_value(&self) -> Value {
        Value::Object(self.0.clone())
    }
}

fn form_pairs(encoded: &str) -> impl Iterator<Item = (String, String)> + '_ {
    encoded
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
}

fn percent_decode(encoded: &str) -> String {
    let bytes = encoded.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|hex| std::str::from_utf8(hex).ok());
        match (
            bytes[i],
            hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()),
        ) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                i += 3;
            }
            (b'+', _) => {
                decoded.push(b' ');
                i += 1;
            }
            (byte, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// A webhook's secret token: 1–256 characters of `A-Z a-z 0-9 _ -`.
pub(super) fn secret_ok(secret: &str) -> bool {
    (1..=256).contains(&secret.len())
        && secret
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
}

/// The text a user sees, once `parse_mode`'s markup is taken out; else why Telegram refuses it
/// (the description after "Bad Request: ").
pub(super) fn visible_text(parse_mode: &str, text: &str) -> Result<String, String> {
    let parsed = match parse_mode {
        "HTML" | "html" => html(text),
        "MarkdownV2" | "markdownv2" => markdown_v2(text),
        "Markdown" | "markdown" => markdown(text),
        _ => return Err("unsupported parse_mode".into()),
    };
    parsed.map_err(|why| format!("can't parse entities: {why}"))
}

fn html(text: &str) -> Result<String, String> {
    let mut plain = String::with_capacity(text.len());
    let mut open: Vec<String> = Vec::new();
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        match c {
            '<' => {
                let Some(length) = text[i..].find('>') else {
                    return Err(format!(
                        "Can't find end of the tag starting at byte offset {i}"
                    ));
                };
                let tag = &text[i + 1..i + length];
                if let Some(name) = tag.strip_prefix('/') {
                    let name = name.trim().to_ascii_lowercase();
                    match open.pop() {
                        None => return Err(format!("Unexpected end tag at byte offset {i}")),
                        Some(top) if top != name => {
                            return Err(format!(
                                "Unmatched end tag at byte offset {i}, \
                                 expected \"</{top}>\", found \"</{name}>\""
                            ));
                        }
                        Some(_) => {}
                    }
                } else {
                    let (name, attributes) =
                        tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
                    let name = name.to_ascii_lowercase();
                    let attributes = attributes.replace(['"', '\''], "");
                    let supported = match name.as_str() {
                        "b" | "strong" | "i" | "em" | "u" | "ins" | "s" | "strike" | "del"
                        | "a" | "code" | "pre" | "tg-spoiler" | "blockquote" => true,
                        "span" => attributes.trim() == "class=tg-spoiler",
                        "tg-emoji" => attributes.contains("emoji-id="),
                        _ => false,
                    };
                    if !supported {
                        return Err(format!(
                            "Unsupported start tag \"{name}\" at byte offset {i}"
                        ));
                    }
                    open.push(name);
                }
                i += length + 1;
            }
            '&' => {
                let Some(length) = text[i..].find(';').filter(|&length| length <= 10) else {
                    return Err(format!(
                        "Can't find end of the entity starting at byte offset {i}"
                    ));
                };
                let name = &text[i + 1..i + length];
                let numeric = |digits: &str, radix| {
                    u32::from_str_radix(digits, radix)
                        .ok()
                        .and_then(char::from_u32)
                };
                let decoded = match name {
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "amp" => Some('&'),
                    "quot" => Some('"'),
                    _ => match name.strip_prefix('#') {
                        Some(hex) if hex.starts_with(['x', 'X']) => numeric(&hex[1..], 16),
                        Some(decimal) => numeric(decimal, 10),
                        None => None,
                    },
                };
                let Some(decoded) = decoded else {
                    return Err(format!(
                        "Unsupported HTML entity \"&{name};\" at byte offset {i}"
                    ));
                };
                plain.push(decoded);
                i += length + 1;
            }
            _ => {
                plain.push(c);
                i += c.len_utf8();
            }
        }
    }
    match open.pop() {
        Some(name) => Err(format!(
            "Can't find end tag corresponding to start tag \"{name}\""
        )),
        None => Ok(plain),
    }
}

fn markdown_v2(text: &str) -> Result<String, String> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut plain = String::with_capacity(text.len());
    let mut open: Vec<(&'static str, usize)> = Vec::new();
    let reserved = |c: char| {
        format!("Character '{c}' is reserved and must be escaped with the preceding '\\'")
    };
    let mut k = 0;
    while let Some(&(at, c)) = chars.get(k) {
        let next = chars.get(k + 1).map(|&(_, next)| next);
        let line_start = k == 0 || chars[k - 1].1 == '\n';
        k += 1;
        match c {
            '\\' => {
                let Some(escaped) = next else {
                    return Err(reserved('\\'));
                };
                plain.push(escaped);
                k += 1;
            }
            '`' => {
                let fence = if text[at..].starts_with("```") {
                    "```"
                } else {
                    "`"
                };
                let Some(length) = text[at + fence.len()..].find(fence) else {
                    let kind = if fence == "`" { "Code" } else { "Pre" };
                    return Err(format!(
                        "Can't find end of {kind} entity at byte offset {at}"
                    ));
                };
                let end = at + fence.len() + length + fence.len();
                plain.push_str(&text[at + fence.len()..end - fence.len()]);
                k = chars.partition_point(|&(offset, _)| offset < end);
            }
            '*' | '_' | '~' | '|' => {
                let marker = match (c, next) {
                    ('_', Some('_')) => "__",
                    ('|', Some('|')) => "||",
                    ('|', _) => return Err(reserved('|')),
                    ('*', _) => "*",
                    ('_', _) => "_",
                    _ => "~",
                };
                k += marker.len() - 1;
                if open.last().is_some_and(|&(top, _)| top == marker) {
                    open.pop();
                } else {
                    open.push((marker, at));
                }
            }
            '[' => open.push(("[", at)),
            ']' if open.last().is_some_and(|&(top, _)| top == "[") => {
                open.pop();
                if next != Some('(') {
                    return Err(reserved(']'));
                }
                let Some(length) = text[at..].find(')') else {
                    return Err(format!("Can't find end of a url at byte offset {at}"));
                };
                k = chars.partition_point(|&(offset, _)| offset <= at + length);
            }
            '>' if line_start => {}
            ']' | '(' | ')' | '>' | '#' | '+' | '-' | '=' | '{' | '}' | '.' | '!' => {
                return Err(reserved(c));
            }
            _ => plain.push(c),
        }
    }
    match open.pop() {
        Some((marker, at)) => {
            let kind = match marker {
                "*" => "Bold",
                "_" => "Italic",
                "__" => "Underline",
                "~" => "Strikethrough",
                "||" => "Spoiler",
                _ => "TextUrl",
            };
            Err(format!(
                "Can't find end of {kind} entity at byte offset {at}"
            ))
        }
        None => Ok(plain),
    }
}

/// Legacy Markdown: `*bold*`, `_italic_`, `` `code` ``, `[text](url)`, each closed.
fn markdown(text: &str) -> Result<String, String> {
    let mut plain = String::with_capacity(text.len());
    let mut open: Option<(char, usize)> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match (c, open) {
            ('\\', None) => plain.extend(chars.next().map(|(_, escaped)| escaped)),
            ('*' | '_' | '`', None) => open = Some((c, at)),
            ('[', None) => open = Some((']', at)),
            (marker, Some((open_marker, _))) if marker == open_marker => open = None,
            _ => plain.push(c),
        }
    }
    match open {
        Some((_, at)) => Err(format!(
            "Can't find end of the entity starting at byte offset {at}"
        )),
        None => Ok(plain),
    }
}

const UNPARSABLE: &str = "can't parse reply keyboard markup JSON object";

/// An InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove or ForceReply, parsed if a
/// JSON-serialized string; else why Telegram refuses it.
pub(super) fn reply_markup(value: &Value) -> Result<Value, String> {
    let markup = match value {
        Value::String(text) => serde_json::from_str(text).map_err(|_| UNPARSABLE.to_owned())?,
        other => other.clone(),
    };
    let Some(fields) = markup.as_object() else {
        return Err(UNPARSABLE.into());
    };
    let flags_ok = [
        "resize_keyboard",
        "one_time_keyboard",
        "is_persistent",
        "selective",
    ]
    .iter()
    .all(|flag| fields.get(*flag).is_none_or(Value::is_boolean));
    if let Some(rows) = fields.get("inline_keyboard") {
        for button in buttons(rows)? {
            inline_button(button)?;
        }
    } else if let Some(rows) = fields.get("keyboard") {
        let buttons_ok = buttons(rows)?.into_iter().all(|button| match button {
            Value::String(text) => !text.is_empty(),
            Value::Object(button) => {
                button
                    .get("text")
                    .and_then(Value::as_str)
                    .is_some_and(|text| !text.is_empty())
                    && ["request_location", "request_contact"]
                        .iter()
                        .all(|flag| button.get(*flag).is_none_or(Value::is_boolean))
            }
            _ => false,
        });
        if !buttons_ok || !flags_ok {
            return Err(UNPARSABLE.into());
        }
    } else if !(fields.get("remove_keyboard") == Some(&Value::Bool(true))
        || fields.get("force_reply") == Some(&Value::Bool(true)))
        || !flags_ok
    {
        return Err(UNPARSABLE.into());
    }
    Ok(markup)
}

/// A keyboard's buttons, if it is an array of arrays.
fn buttons(rows: &Value) -> Result<Vec<&Value>, String> {
    let rows = rows.as_array().ok_or(UNPARSABLE)?;
    let mut buttons = Vec::new();
    for row in rows {
        buttons.extend(row.as_array().ok_or(UNPARSABLE)?);
    }
    Ok(buttons)
}

fn inline_button(button: &Value) -> Result<(), String> {
    const ACTIONS: [&str; 10] = [
        "callback_data",
        "url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "web_app",
        "login_url",
        "callback_game",
        "pay",
    ];
    let Some(button) = button.as_object() else {
        return Err(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object".into(),
        );
    };
    if !button.get("text").is_some_and(Value::is_string) {
        return Err(
            "can't parse inline keyboard button: Field \"text\" must be of type String".into(),
        );
    }
    if !ACTIONS.iter().any(|action| button.contains_key(*action)) {
        return Err(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                .into(),
        );
    }
    if let Some(data) = button.get("callback_data") {
        let length = data.as_str().map_or(0, str::len);
        if !(1..=64).contains(&length) {
            return Err("BUTTON_DATA_INVALID".into());
        }
    }
    if let Some(url) = button.get("url") {
        let url = url.as_str().unwrap_or("");
        if !["http://", "https://", "tg://"]
            .iter()
            .any(|scheme| url.starts_with(scheme))
        {
            return Err("BUTTON_URL_INVALID".into());
        }
    }
    Ok(())
}

#[cfg(test)]
#[test]
fn formatted_text_is_read_as_telegram_reads_it() {
    let read = |mode, text| visible_text(mode, text);
    assert_eq!(
        read("HTML", "<b>a</b> &lt;3 &#x41;&#66;"),
        Ok("a <3 AB".into())
    );
    let crossed = read("HTML", "<i><b>x</i></b>").expect_err("crossed tags");
    assert!(
        crossed.contains("Unmatched end tag at byte offset 7"),
        "{crossed}"
    );
    let link = "[mappa](https://example.org/a.b) `code.x` *b* __u__ ||s||\n>citazione";
    assert_eq!(
        read("MarkdownV2", link),
        Ok("mappa code.x b u s\ncitazione".into())
    );
    let open = "Can't find end of Bold entity at byte offset 2";
    assert_eq!(
        read("MarkdownV2", "a *b"),
        Err(format!("can't parse entities: {open}"))
    );
    assert_eq!(read("Markdown", "*b* _i_ 1.5"), Ok("b i 1.5".into()));
    assert!(
        read("Markdown", "snake_case").is_err(),
        "an unclosed italic"
    );
}
