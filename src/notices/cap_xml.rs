//! A notice as a CAP 1.2 XML document (`urn:oasis:names:tc:emergency:cap:1.2`), with elements in
//! the order the OASIS schema requires.

use geo::Simplify;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::area::{Circle, LatLon};
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
    pub zones: &'a ZoneIndex,
}

pub use crate::cap::cap_time;

type W = Writer<Vec<u8>>;
type XmlResult = std::io::Result<()>;

fn text(w: &mut W, name: &str, value: &str) -> XmlResult {
    w.create_element(name)
        .write_text_content(BytesText::new(value))?;
    Ok(())
}

fn optional(w: &mut W, name: &str, value: Option<&str>) -> XmlResult {
    value.map_or(Ok(()), |value| text(w, name, value))
}

/// Renders the whole `<alert>` document.
pub fn to_cap_xml(notice: &Notice, context: &CapContext<'_>) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    writer
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .and_then(|()| {
            writer
                .create_element("alert")
                .with_attribute(("xmlns", CAP_NAMESPACE))
                .write_inner_content(|w| write_alert(w, notice, context))
                .map(|_| ())
        })
        .expect("writing to memory cannot fail");
    String::from_utf8(writer.into_inner()).expect("the writer emits UTF-8")
}

fn write_alert(w: &mut W, notice: &Notice, context: &CapContext<'_>) -> XmlResult {
    text(w, "identifier", &notice.identifier)?;
    text(w, "sender", &notice.sender)?;
    text(
        w,
        "sent",
        &cap_time(notice.sent.unwrap_or(notice.updated_at)),
    )?;
    text(w, "status", notice.content.status.as_str())?;
    text(w, "msgType", notice.msg_type.as_str())?;
    text(w, "scope", "Public")?;
    if notice.content.status.as_str() != "Actual" {
        let status = notice.content.status.as_str();
        text(
            w,
            "note",
            &format!(
                "{status} message: this is not a real alert. / Messaggio di {}: non è un allarme reale.",
                italian(status)
            ),
        )?;
    }
    optional(w, "references", context.references.as_deref())?;
    for (language, info) in &notice.content.info {
        w.create_element("info")
            .write_inner_content(|w| write_info(w, notice, context, language, info))?;
    }
    Ok(())
}

fn italian(status: &str) -> &'static str {
    if status == "Exercise" {
        "esercitazione"
    } else {
        "prova"
    }
}

fn write_info(
    w: &mut W,
    notice: &Notice,
    context: &CapContext<'_>,
    language: &str,
    info: &InfoText,
) -> XmlResult {
    let content = &notice.content;
    text(w, "language", language)?;
    for category in &content.category {
        text(w, "category", category.as_str())?;
    }
    text(w, "event", &info.event)?;
    text(w, "urgency", content.urgency.as_str())?;
    text(w, "severity", content.severity.as_str())?;
    text(w, "certainty", content.certainty.as_str())?;
    text(w, "expires", &cap_time(content.expires))?;
    optional(w, "senderName", context.sender_name)?;
    optional(w, "headline", info.headline.as_deref())?;
    optional(w, "description", info.description.as_deref())?;
    optional(w, "instruction", info.instruction.as_deref())?;
    optional(w, "web", content.web.as_deref())?;
    optional(w, "contact", content.contact.as_deref())?;
    w.create_element("area")
        .write_inner_content(|w| write_area(w, notice, context, info))?;
    Ok(())
}

fn write_area(w: &mut W, notice: &Notice, context: &CapContext<'_>, info: &InfoText) -> XmlResult {
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
    text(
        w,
        "areaDesc",
        if description.is_empty() {
            "-"
        } else {
            &description
        },
    )?;
    for ring in &area.polygons {
        text(
            w,
            "polygon",
            &polygon_text(ring.iter().map(|p| (p.lat, p.lon))),
        )?;
    }
    for ring in zone_rings(&area.zones, context.zones) {
        text(w, "polygon", &polygon_text(ring.into_iter()))?;
    }
    for circle in &area.circles {
        text(w, "circle", &circle_text(circle))?;
    }
    for id in &area.zones {
        if let Some(zone) = context.zones.get(id) {
            w.create_element("geocode").write_inner_content(|w| {
                text(w, "valueName", &zone.level)?;
                text(w, "value", &zone.id)
            })?;
        }
    }
    Ok(())
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
