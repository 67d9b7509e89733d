//! Reading a CAP 1.2 document from another authority, safely.
//!
//! The parser never expands entities it does not know and never fetches anything. A document
//! with a DOCTYPE (and so any DTD or entity declaration) is refused before its content is read.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

use super::area::RawArea;
use super::cap::MsgType;
use super::cap_xml::{CAP_NAMESPACE, parse_circle, parse_polygon};
use super::content::{RawInfo, RawNotice};
use crate::problem::{ErrorCode, Problem};
use crate::zones::ZoneIndex;

const MAX_DEPTH: usize = 16;
const MAX_ELEMENTS: usize = 20_000;

/// A CAP alert read from XML, before our own checks on its content.
#[derive(Debug)]
pub struct ImportedAlert {
    pub identifier: String,
    pub sender: String,
    pub sent: DateTime<Utc>,
    pub msg_type: MsgType,
    /// (sender, identifier) of the alerts it updates or cancels.
    pub references: Vec<(String, String)>,
    pub raw: RawNotice,
}

/// A CAP element: its local name and its text, or its children.
#[derive(Debug, Default)]
struct Element {
    name: String,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|child| child.name == name)
    }

    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |child| child.name == name)
    }

    fn text_of(&self, name: &str) -> Option<String> {
        self.child(name)
            .map(|child| child.text.trim().to_owned())
            .filter(|text| !text.is_empty())
    }

    fn required(&self, name: &str) -> Result<String, Problem> {
        self.text_of(name).ok_or_else(|| {
            Problem::with_field(
                ErrorCode::MissingField,
                name,
                format!("the CAP document has no <{name}>"),
            )
        })
    }
}

fn unsafe_xml(why: &str) -> Problem {
    Problem::new(
        ErrorCode::UnsafeXml,
        format!("the document was refused: {why}"),
    )
}

fn malformed(why: impl std::fmt::Display) -> Problem {
    Problem::new(
        ErrorCode::MalformedXml,
        format!("the document is not well-formed XML: {why}"),
    )
}

/// Parses a CAP 1.2 alert; refuses DTDs, other namespaces, malformed and oversized documents.
pub fn parse_cap(
    xml: &[u8],
    max_bytes: usize,
    zones: &ZoneIndex,
) -> Result<ImportedAlert, Problem> {
    if xml.len() > max_bytes {
        return Err(Problem::new(
            ErrorCode::TooLarge,
            format!(
                "the document has {} bytes; the limit is {max_bytes}",
                xml.len()
            ),
        ));
    }
    let alert = read_tree(xml)?;
    let msg_type = match alert.required("msgType")?.as_str() {
        value @ ("Alert" | "Update" | "Cancel") => MsgType::parse(value, "msgType")?,
        other => {
            return Err(Problem::with_field(
                ErrorCode::InvalidField,
                "msgType",
                format!("only Alert, Update and Cancel messages can be relayed, not {other}"),
            ));
        }
    };
    let sent = alert.required("sent")?;
    Ok(ImportedAlert {
        identifier: alert.required("identifier")?,
        sender: alert.required("sender")?,
        sent: DateTime::parse_from_rfc3339(&sent)
            .map(|at| at.with_timezone(&Utc))
            .map_err(|_| {
                Problem::with_field(
                    ErrorCode::InvalidField,
                    "sent",
                    format!("<sent> is not a CAP time: {sent}"),
                )
            })?,
        msg_type,
        references: parse_references(alert.text_of("references").as_deref()),
        raw: raw_notice(&alert, zones)?,
    })
}

/// Builds the element tree of the `<alert>` root, enforcing every safety rule on the way.
fn read_tree(xml: &[u8]) -> Result<Element, Problem> {
    let mut reader = NsReader::from_reader(xml);
    // Text is trimmed when read, not per event: an entity splits text into several events.
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut elements = 0;
    let mut buf = Vec::new();
    loop {
        let (namespace, event) = reader
            .read_resolved_event_into(&mut buf)
            .map_err(malformed)?;
        match event {
            Event::DocType(_) => {
                return Err(unsafe_xml(
                    "it has a DOCTYPE; DTDs and entity declarations are not accepted",
                ));
            }
            Event::Start(start) => {
                elements += 1;
                check_element(&namespace, stack.len(), elements)?;
                stack.push(Element {
                    name: local_name(start.local_name().as_ref()),
                    ..Element::default()
                });
            }
            Event::Empty(start) => {
                elements += 1;
                check_element(&namespace, stack.len(), elements)?;
                let element = Element {
                    name: local_name(start.local_name().as_ref()),
                    ..Element::default()
                };
                attach(&mut stack, element)?;
            }
            Event::Text(content) => {
                let text = content.decode().map_err(malformed)?;
                let text = quick_xml::escape::unescape(&text).map_err(|err| {
                    unsafe_xml(&format!(
                        "it uses an entity this hub does not expand ({err})"
                    ))
                })?;
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(&text);
                }
            }
            Event::CData(content) => {
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(&String::from_utf8_lossy(&content));
                }
            }
            Event::GeneralRef(reference) => {
                let text = resolve_reference(&reference)?;
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(&text);
                }
            }
            Event::End(_) => {
                let closed = stack
                    .pop()
                    .ok_or_else(|| malformed("an end tag without a start"))?;
                if stack.is_empty() {
                    return root(closed);
                }
                attach(&mut stack, closed)?;
            }
            Event::Eof => return Err(malformed("the document ends before </alert>")),
            _ => {}
        }
        buf.clear();
    }
}

/// `&amp;` and the other four predefined entities, and character references, are plain text.
/// Any other entity would need a DTD to mean something, and DTDs are refused.
fn resolve_reference(reference: &quick_xml::events::BytesRef<'_>) -> Result<String, Problem> {
    if reference.is_char_ref() {
        let resolved = reference.resolve_char_ref().map_err(malformed)?;
        return resolved
            .map(String::from)
            .ok_or_else(|| malformed("an empty character reference"));
    }
    let name = reference.decode().map_err(malformed)?;
    quick_xml::escape::resolve_predefined_entity(&name)
        .map(str::to_owned)
        .ok_or_else(|| unsafe_xml(&format!("it uses the entity &{name}; which is not XML's own; entities need a DTD, and DTDs are not accepted")))
}

fn local_name(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn check_element(
    namespace: &ResolveResult<'_>,
    depth: usize,
    elements: usize,
) -> Result<(), Problem> {
    if depth >= MAX_DEPTH || elements > MAX_ELEMENTS {
        return Err(unsafe_xml(
            "it nests too deep or has too many elements for a CAP alert",
        ));
    }
    let in_cap =
        matches!(namespace, ResolveResult::Bound(ns) if ns.as_ref() == CAP_NAMESPACE.as_bytes());
    if depth == 0 && !in_cap {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            "alert",
            format!("this is not CAP 1.2: the root must be <alert xmlns=\"{CAP_NAMESPACE}\">"),
        ));
    }
    Ok(())
}

fn attach(stack: &mut [Element], element: Element) -> Result<(), Problem> {
    let parent = stack
        .last_mut()
        .ok_or_else(|| malformed("content outside the root element"))?;
    parent.children.push(element);
    Ok(())
}

fn root(element: Element) -> Result<Element, Problem> {
    if element.name != "alert" {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            "alert",
            format!("the root element is <{}>, not <alert>", element.name),
        ));
    }
    Ok(element)
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

/// Maps the `<info>` blocks onto a draft: shared fields from the first block, text per language.
fn raw_notice(alert: &Element, zones: &ZoneIndex) -> Result<RawNotice, Problem> {
    let infos: Vec<&Element> = alert.children("info").collect();
    let first = infos.first().ok_or_else(|| {
        Problem::with_field(
            ErrorCode::MissingField,
            "info",
            "the CAP alert has no <info> block to relay",
        )
    })?;
    let mut info = BTreeMap::new();
    for block in &infos {
        let language = block
            .text_of("language")
            .unwrap_or_else(|| "en-US".to_owned());
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
    let categories: Vec<String> = infos
        .iter()
        .flat_map(|block| block.children("category"))
        .map(|c| c.text.trim().to_owned())
        .collect();
    Ok(RawNotice {
        status: alert.text_of("status"),
        msg_type: None,
        category: Some(categories),
        urgency: first.text_of("urgency"),
        severity: first.text_of("severity"),
        certainty: first.text_of("certainty"),
        expires: Some(first.text_of("expires").ok_or_else(|| {
            Problem::with_field(
                ErrorCode::MissingField,
                "expires",
                "the CAP alert has no <expires>; only alerts that end can be relayed",
            )
        })?),
        web: first.text_of("web"),
        contact: first.text_of("contact"),
        info: Some(info),
        area: Some(raw_area(first, zones)?),
    })
}

fn raw_area(info: &Element, zones: &ZoneIndex) -> Result<RawArea, Problem> {
    let mut area = RawArea::default();
    let (mut polygons, mut circles, mut zone_ids) = (Vec::new(), Vec::new(), Vec::new());
    for element in info.children("area") {
        for polygon in element.children("polygon") {
            polygons.push(
                parse_polygon(&polygon.text).ok_or_else(|| bad_shape("polygon", &polygon.text))?,
            );
        }
        for circle in element.children("circle") {
            circles
                .push(parse_circle(&circle.text).ok_or_else(|| bad_shape("circle", &circle.text))?);
        }
        for geocode in element.children("geocode") {
            let value = geocode.text_of("value").unwrap_or_default();
            if zones.get(&value).is_some() && !zone_ids.contains(&value) {
                zone_ids.push(value);
            }
        }
    }
    if polygons.is_empty() && circles.is_empty() && zone_ids.is_empty() {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            "area",
            "the alert's area has no polygon or circle, and none of its geocodes is a zone of this office",
        ));
    }
    area.polygons = Some(polygons);
    area.circles = Some(circles);
    area.zones = Some(zone_ids);
    Ok(area)
}

fn bad_shape(kind: &str, text: &str) -> Problem {
    Problem::with_field(
        ErrorCode::InvalidField,
        kind,
        format!(
            "<{kind}> is not CAP `lat,lon` text: {}",
            text.chars().take(60).collect::<String>()
        ),
    )
}
