//! A notice as a CAP 1.2 XML document (`urn:oasis:names:tc:emergency:cap:1.2`): the office's
//! own notices built element by element, relays as the sender wrote them.

use geo::Simplify;

use super::area::{Circle, LatLon};
use super::cap_element::{Element, write_document};
use super::cap_signature::CapSigner;
use super::content::InfoText;
use super::model::Notice;
use crate::zones::ZoneIndex;

pub const CAP_NAMESPACE: &str = "urn:oasis:names:tc:emergency:cap:1.2";
/// CAP 1.1, still published by many authorities: read, and converted to 1.2.
pub const CAP_1_1_NAMESPACE: &str = "urn:oasis:names:tc:emergency:cap:1.1";
/// Zone outlines in CAP are simplified to this tolerance (degrees, about 100 m) ...
const ZONE_TOLERANCE: f64 = 0.001;
/// ... and rings longer than this are left to the geocode alone.
const MAX_RING_POINTS: usize = 2000;

/// What the document needs beyond the notice itself.
pub struct CapContext<'a> {
    /// The office's, or for a relay the sender's (none if it gave none).
    pub sender_name: Option<&'a str>,
    /// CAP `references` of the notice it updates or cancels.
    pub references: Option<String>,
    /// For a relay, the sender's `<alert>` as received (CAP 1.1 converted).
    pub upstream: Option<&'a Element>,
    /// The office's XML signature, when the document goes out.
    pub signer: Option<&'a CapSigner>,
    pub zones: &'a ZoneIndex,
}

pub use crate::cap::cap_time;

/// Renders the whole `<alert>` document.
pub fn to_cap_xml(notice: &Notice, context: &CapContext<'_>) -> String {
    match context.upstream {
        // A relay says what the sender said, all of it, and nothing else.
        Some(alert) => write_document(alert, CAP_NAMESPACE, context.signer),
        None => write_document(&own_alert(notice, context), CAP_NAMESPACE, context.signer),
    }
}

fn own_alert(notice: &Notice, context: &CapContext<'_>) -> Element {
    let content = &notice.content;
    let status = content.status.as_str();
    let mut alert = vec![
        Element::leaf("identifier", &notice.identifier),
        Element::leaf("sender", &notice.sender),
        Element::leaf("sent", cap_time(notice.sent.unwrap_or(notice.updated_at))),
        Element::leaf("status", status),
        Element::leaf("msgType", notice.msg_type.as_str()),
        Element::leaf("scope", "Public"),
    ];
    if status != "Actual" {
        alert.push(Element::leaf(
            "note",
            format!(
                "{status} message: this is not a real alert. / Messaggio di {}: non è un allarme reale.",
                italian(status)
            ),
        ));
    }
    alert.extend(
        context
            .references
            .as_deref()
            .map(|refs| Element::leaf("references", refs)),
    );
    for (language, info) in &content.info {
        alert.push(own_info(notice, context, language, info));
    }
    Element::node("alert", alert)
}

fn italian(status: &str) -> &'static str {
    if status == "Exercise" {
        "esercitazione"
    } else {
        "prova"
    }
}

fn own_info(notice: &Notice, context: &CapContext<'_>, language: &str, info: &InfoText) -> Element {
    let content = &notice.content;
    let mut block = vec![Element::leaf("language", language)];
    block.extend(categories(notice));
    block.extend([
        Element::leaf("event", &info.event),
        Element::leaf("urgency", content.urgency.as_str()),
        Element::leaf("severity", content.severity.as_str()),
        Element::leaf("certainty", content.certainty.as_str()),
        Element::leaf("expires", cap_time(content.expires)),
    ]);
    let optional = [
        ("senderName", context.sender_name),
        ("headline", info.headline.as_deref()),
        ("description", info.description.as_deref()),
        ("instruction", info.instruction.as_deref()),
        ("web", content.web.as_deref()),
        ("contact", content.contact.as_deref()),
    ];
    block.extend(
        optional
            .into_iter()
            .filter_map(|(name, value)| value.map(|value| Element::leaf(name, value))),
    );
    block.push(area_element(notice, context.zones, info));
    Element::node("info", block)
}

fn categories(notice: &Notice) -> impl Iterator<Item = Element> + '_ {
    notice
        .content
        .category
        .iter()
        .map(|category| Element::leaf("category", category.as_str()))
}

/// The notice's area as one CAP `<area>`, described in `info`'s words or by its zones' names.
fn area_element(notice: &Notice, zones: &ZoneIndex, info: &InfoText) -> Element {
    let area = &notice.content.area;
    let zone_names: Vec<&str> = notice
        .covered_zones
        .iter()
        .map(|zone| zone.name.as_str())
        .collect();
    let description = info
        .area_description
        .clone()
        .unwrap_or_else(|| zone_names.join(", "));
    let mut children = vec![Element::leaf(
        "areaDesc",
        if description.is_empty() {
            "-".to_owned()
        } else {
            description
        },
    )];
    let rings = area
        .polygons
        .iter()
        .map(|ring| polygon_text(ring.iter().map(|p| (p.lat, p.lon))))
        .chain(
            zone_rings(&area.zones, zones)
                .into_iter()
                .map(|ring| polygon_text(ring.into_iter())),
        );
    children.extend(rings.map(|ring| Element::leaf("polygon", ring)));
    children.extend(
        area.circles
            .iter()
            .map(|circle| Element::leaf("circle", circle_text(circle))),
    );
    children.extend(
        area.zones
            .iter()
            .filter_map(|id| zones.get(id))
            .map(|zone| {
                Element::node(
                    "geocode",
                    vec![
                        Element::leaf("valueName", &zone.level),
                        Element::leaf("value", &zone.id),
                    ],
                )
            }),
    );
    Element::node("area", children)
}

/// CAP polygons: `lat,lon` pairs separated by spaces, first and last equal.
fn polygon_text(points: impl Iterator<Item = (f64, f64)>) -> String {
    points
        .map(|(lat, lon)| format!("{lat},{lon}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn circle_text(circle: &Circle) -> String {
    format!("{},{} {}", circle.lat, circle.lon, circle.radius_km)
}

/// The outer rings of the named zones, simplified, as (lat, lon).
fn zone_rings(ids: &[String], zones: &ZoneIndex) -> Vec<Vec<(f64, f64)>> {
    ids.iter()
        .filter_map(|id| zones.get(id))
        .flat_map(|zone| zone.geometry.simplify(ZONE_TOLERANCE).0)
        .map(|polygon| {
            polygon
                .exterior()
                .coords()
                .map(|c| (c.y, c.x))
                .collect::<Vec<_>>()
        })
        .filter(|ring| (4..=MAX_RING_POINTS).contains(&ring.len()))
        .collect()
}

/// A CAP `lat,lon` pair list, as received in an imported document, back into points.
pub fn parse_polygon(text: &str) -> Option<Vec<LatLon>> {
    text.split_whitespace()
        .map(|pair| {
            let (lat, lon) = pair.split_once(',')?;
            Some(LatLon {
                lat: lat.trim().parse().ok()?,
                lon: lon.trim().parse().ok()?,
            })
        })
        .collect()
}

/// A CAP circle, `lat,lon radius_km`.
pub fn parse_circle(text: &str) -> Option<Circle> {
    let (centre, radius) = text.trim().split_once(char::is_whitespace)?;
    let (lat, lon) = centre.split_once(',')?;
    Some(Circle {
        lat: lat.trim().parse().ok()?,
        lon: lon.trim().parse().ok()?,
        radius_km: radius.trim().parse().ok()?,
    })
}
