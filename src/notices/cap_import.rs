//! Reading a CAP 1.2 (or 1.1) document from another authority, safely.
//!
//! The XML is read by `cap_tree`, which refuses what is unsafe or malformed; this maps the
//! alert's elements onto a notice draft.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::area::RawArea;
use super::cap::MsgType;
use super::cap_tree::{CapTree, Element, read_tree};
use super::cap_xml::{parse_circle, parse_polygon};
use super::content::{RawInfo, RawNotice};
use crate::model::canonical_language;
use crate::problem::{ErrorCode, Problem};
use crate::zones::ZoneIndex;

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
    pub raw: RawNotice,
    /// `{namespace}name` of the elements of other namespaces, set aside unread.
    pub foreign: Vec<String>,
    /// What the operator should know about how the document was read.
    pub warnings: Vec<String>,
}

/// Parses a CAP 1.2 (or 1.1, converted) alert; refuses DTDs, other namespaces, malformed and oversized documents.
pub fn parse_cap(
    xml: &[u8],
    max_bytes: usize,
    default_validity: chrono::Duration,
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
    let CapTree { alert, foreign } = read_tree(xml)?;
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
    let sent = DateTime::parse_from_rfc3339(&sent)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| {
            Problem::with_field(
                ErrorCode::InvalidField,
                "sent",
                format!("<sent> is not a CAP time: {sent}"),
            )
        })?;
    let mut raw = raw_notice(&alert, zones)?;
    let mut warnings = Vec::new();
    if raw.expires.is_none() {
        let until = sent + default_validity;
        raw.expires = Some(until.to_rfc3339());
        warnings.push(format!(
            "the alert has no <expires>: it is taken as valid until {} ({} hours after it was \
             sent, notices.import_default_validity_hours); change it before approving if the \
             sender said otherwise",
            crate::cap::cap_time(until),
            default_validity.num_hours()
        ));
    }
    Ok(ImportedAlert {
        identifier: alert.required("identifier")?,
        sender: alert.required("sender")?,
        sent,
        msg_type,
        references: parse_references(alert.text_of("references").as_deref()),
        references_text: alert.text_of("references"),
        sender_name: alert
            .children("info")
            .find_map(|info| info.text_of("senderName")),
        raw,
        foreign,
        warnings,
    })
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
        // Tags compare without case (BCP 47): `en-gb` and `en-GB` are one language.
        let given = block
            .text_of("language")
            .unwrap_or_else(|| "en-US".to_owned());
        let language = canonical_language(&given).unwrap_or(given);
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
        expires: first.text_of("expires"),
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
