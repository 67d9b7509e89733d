//! Reading a CAP 1.2 (or 1.1) document from another authority, safely.
//!
//! The XML is read by `cap_tree`, which refuses what is unsafe or malformed; this maps the
//! alert's elements onto a notice draft, and keeps the tree so the relay can say all of it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::cap::MsgType;
use super::cap_element::Element;
use super::cap_import_area::raw_area;
use super::cap_tree::{CapTree, read_tree};
use super::content::{RawInfo, RawNotice};
use crate::model::canonical_language;
use crate::problem::{ErrorCode, Problem};
use crate::zones::ZoneIndex;

/// What an import allows.
#[derive(Debug, Clone, Copy)]
pub struct ImportRules {
    pub max_bytes: usize,
    /// How long an alert that gives no `<expires>` is taken to be valid after it was sent.
    pub default_validity: chrono::Duration,
    pub now: DateTime<Utc>,
}

/// A CAP alert read from XML, before our own checks on its content.
#[derive(Debug)]
pub struct ImportedAlert {
    pub identifier: String,
    pub sender: String,
    pub sent: DateTime<Utc>,
    pub msg_type: MsgType,
    /// (sender, identifier) of the alerts it updates or cancels.
    pub references: Vec<(String, String)>,
    /// `<references>` as written, kept when the hub holds none of them.
    pub references_text: Option<String>,
    /// The sender's `senderName`, under which the alert is relayed.
    pub sender_name: Option<String>,
    /// What its `<info>` blocks say; `None` for a Cancel without any (CAP allows that): the
    /// alert it cancels says what and where.
    pub raw: Option<RawNotice>,
    /// Expired before it arrived: kept as history, never relayed.
    pub expired: bool,
    /// The `<alert>` as received (CAP 1.1 converted), which the relay writes back.
    pub alert: Element,
    /// `{namespace}name` of the elements of other namespaces, set aside unread.
    pub foreign: Vec<String>,
    /// What the operator should know about how the document was read.
    pub warnings: Vec<String>,
}

/// Parses a CAP 1.2 (or 1.1, converted) alert; refuses DTDs, other namespaces, malformed and
/// oversized documents, and alerts not meant for the public.
pub fn parse_cap(
    xml: &[u8],
    rules: ImportRules,
    zones: &ZoneIndex,
) -> Result<ImportedAlert, Problem> {
    if xml.len() > rules.max_bytes {
        return Err(Problem::new(
            ErrorCode::TooLarge,
            format!(
                "the document has {} bytes; the limit is {}",
                xml.len(),
                rules.max_bytes
            ),
        ));
    }
    let CapTree { mut alert, foreign } = read_tree(xml)?;
    let msg_type = relayable_type(&alert)?;
    check_public(&alert)?;
    let mut warnings = Vec::new();
    write_times_in_cap_form(&mut alert, &mut warnings)?;
    let sent = cap_date(&alert.required("sent")?, "sent")?;
    let mut raw = raw_notice(&alert, zones, &mut warnings)?;
    if raw.is_none() && msg_type != MsgType::Cancel {
        return Err(Problem::with_field(
            ErrorCode::MissingField,
            "info",
            "the CAP alert has no <info> block to relay; only a Cancel may have none",
        ));
    }
    let expired = match raw.as_mut() {
        Some(raw) => expiry(raw, sent, rules, &mut warnings)?,
        // A bare Cancel lasts as the alert it cancels; that is judged when it is relayed.
        None => false,
    };
    let sender_name = alert
        .children("info")
        .find_map(|info| info.text_of("senderName"));
    Ok(ImportedAlert {
        identifier: alert.required("identifier")?,
        sender: alert.required("sender")?,
        sent,
        msg_type,
        references: parse_references(alert.text_of("references").as_deref()),
        references_text: alert.text_of("references"),
        sender_name,
        raw,
        expired,
        alert,
        foreign,
        warnings,
    })
}

/// When the alert ends (from `<expires>`, or the default validity after `sent`), and whether it
/// had ended before it arrived.
fn expiry(
    raw: &mut RawNotice,
    sent: DateTime<Utc>,
    rules: ImportRules,
    warnings: &mut Vec<String>,
) -> Result<bool, Problem> {
    let expires = match raw.expires.as_deref() {
        Some(given) => cap_date(given, "expires")?,
        None => {
            let until = sent + rules.default_validity;
            raw.expires = Some(until.to_rfc3339());
            warnings.push(format!(
                "the alert has no <expires>: it is taken as valid until {} ({} hours after it \
                 was sent, notices.import_default_validity_hours), and relayed without one, as \
                 the sender wrote it",
                crate::cap::cap_time(until),
                rules.default_validity.num_hours()
            ));
            until
        }
    };
    let expired = expires <= rules.now;
    if expired {
        warnings.push(format!(
            "the alert expired at {}, before it reached this hub: it is kept as history and \
             cannot be relayed",
            crate::cap::cap_time(expires)
        ));
    }
    Ok(expired)
}

fn relayable_type(alert: &Element) -> Result<MsgType, Problem> {
    match alert.required("msgType")?.as_str() {
        value @ ("Alert" | "Update" | "Cancel") => MsgType::parse(value, "msgType"),
        other => Err(Problem::with_field(
            ErrorCode::InvalidField,
            "msgType",
            format!("only Alert, Update and Cancel messages can be relayed, not {other}"),
        )),
    }
}

/// The hub publishes to everyone, so an alert its sender restricted is not taken.
fn check_public(alert: &Element) -> Result<(), Problem> {
    match alert.required("scope")?.as_str() {
        "Public" => Ok(()),
        other => Err(Problem::with_field(
            ErrorCode::InvalidField,
            "scope",
            format!(
                "the alert's scope is {other}: only Public alerts can be relayed, since the hub \
                 publishes to everyone; ask the sender for a Public version"
            ),
        )),
    }
}

fn cap_date(value: &str, field: &str) -> Result<DateTime<Utc>, Problem> {
    DateTime::parse_from_rfc3339(value)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| not_a_cap_time(field, value))
}

/// Rewrites each time that RFC 3339 allows but CAP 1.2 does not (`Z` for UTC, fractions of a
/// second) as CAP writes it, the same instant to the second: relayed as sent, the document
/// would fail the OASIS schema, and a receiver that validates would drop the alert.
fn write_times_in_cap_form(alert: &mut Element, warnings: &mut Vec<String>) -> Result<(), Problem> {
    let mut rewrite = |element: &mut Element| -> Result<(), Problem> {
        let given = element.text.trim().to_owned();
        if given.is_empty() || in_cap_form(&given) {
            return Ok(());
        }
        let at = DateTime::parse_from_rfc3339(&given)
            .map_err(|_| not_a_cap_time(&element.name, &given))?;
        element.text = match at.offset().local_minus_utc() {
            0 => crate::cap::cap_time(at.with_timezone(&Utc)),
            _ => at.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        };
        warnings.push(format!(
            "<{}> was written {given}, which CAP 1.2 does not allow (no `Z`, no fractions of a \
             second): it is relayed as {}",
            element.name, element.text
        ));
        Ok(())
    };
    for element in alert
        .children
        .iter_mut()
        .filter(|child| child.name == "sent")
    {
        rewrite(element)?;
    }
    let info_times = alert
        .children
        .iter_mut()
        .filter(|child| child.name == "info")
        .flat_map(|info| info.children.iter_mut())
        .filter(|child| matches!(child.name.as_str(), "effective" | "onset" | "expires"));
    for element in info_times {
        rewrite(element)?;
    }
    Ok(())
}

/// `YYYY-MM-DDThh:mm:ss` and a numeric offset, as the OASIS schema's pattern has it.
fn in_cap_form(text: &str) -> bool {
    text.len() == "2026-01-01T00:00:00+00:00".len()
        && DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%:z").is_ok()
}

fn not_a_cap_time(field: &str, value: &str) -> Problem {
    Problem::with_field(
        ErrorCode::InvalidField,
        field,
        format!("<{field}> is not a CAP time: {value}"),
    )
}

/// `sender,identifier,sent` entries separated by spaces.
fn parse_references(text: Option<&str>) -> Vec<(String, String)> {
    text.unwrap_or("")
        .split_whitespace()
        .filter_map(|entry| {
            let mut parts = entry.split(',');
            Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
        })
        .collect()
}

/// Maps the `<info>` blocks onto a draft: the text of each language's first block, the
/// categories and areas of all, and the latest `expires`; the rest from the first block.
fn raw_notice(
    alert: &Element,
    zones: &ZoneIndex,
    warnings: &mut Vec<String>,
) -> Result<Option<RawNotice>, Problem> {
    let infos: Vec<&Element> = alert.children("info").collect();
    let Some(first) = infos.first() else {
        return Ok(None);
    };
    let info = texts_by_language(&infos, warnings);
    let mut categories: Vec<String> = Vec::new();
    for category in infos.iter().flat_map(|block| block.children("category")) {
        let category = category.text.trim().to_owned();
        if !categories.contains(&category) {
            categories.push(category);
        }
    }
    Ok(Some(RawNotice {
        status: alert.text_of("status"),
        msg_type: None,
        category: Some(categories),
        urgency: first.text_of("urgency"),
        severity: first.text_of("severity"),
        certainty: first.text_of("certainty"),
        expires: latest_expires(&infos),
        web: first.text_of("web"),
        contact: first.text_of("contact"),
        info: Some(info),
        area: Some(raw_area(&infos, zones, warnings)?),
    }))
}

/// The text of each language's first block; further blocks in a language are named in a
/// warning, since only the CAP relay carries them.
fn texts_by_language(infos: &[&Element], warnings: &mut Vec<String>) -> BTreeMap<String, RawInfo> {
    let mut info = BTreeMap::new();
    let mut events_by_language: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for block in infos {
        // Tags compare without case (BCP 47): `en-gb` and `en-GB` are one language.
        let given = block
            .text_of("language")
            .unwrap_or_else(|| "en-US".to_owned());
        let language = canonical_language(&given).unwrap_or(given);
        events_by_language
            .entry(language.clone())
            .or_default()
            .push(block.text_of("event").unwrap_or_default());
        info.entry(language).or_insert_with(|| RawInfo {
            event: block.text_of("event"),
            headline: block.text_of("headline"),
            description: block.text_of("description"),
            instruction: block.text_of("instruction"),
            area_description: block
                .child("area")
                .and_then(|area| area.text_of("areaDesc")),
        });
    }
    for (language, events) in events_by_language.iter().filter(|(_, e)| e.len() > 1) {
        warnings.push(format!(
            "the alert has {} <info> blocks in {language} ({}): the CAP relay carries every \
             one; push, chat, e-mail and WebSocket carry the first one's words, with the areas \
             of all",
            events.len(),
            events.join(", ")
        ));
    }
    info
}

/// The latest `<expires>` of all blocks: the notice is in force while any block is. A value
/// that is not a time is passed on as it is, so the content check names it.
fn latest_expires(infos: &[&Element]) -> Option<String> {
    let given: Vec<String> = infos
        .iter()
        .filter_map(|info| info.text_of("expires"))
        .collect();
    if let Some(unreadable) = given
        .iter()
        .find(|value| DateTime::parse_from_rfc3339(value).is_err())
    {
        return Some(unreadable.clone());
    }
    given.into_iter().max_by_key(|value| {
        DateTime::parse_from_rfc3339(value)
            .map(|at| at.timestamp())
            .ok()
    })
}
