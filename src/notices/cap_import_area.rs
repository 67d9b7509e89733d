//! The area of an imported alert: every block's polygons and circles, and its geocodes matched
//! to the office's zones by code system (the zone level) and value (the zone id).

use super::area::RawArea;
use super::cap_element::Element;
use super::cap_xml::{parse_circle, parse_polygon};
use crate::problem::{ErrorCode, Problem};
use crate::zones::ZoneIndex;

/// Geocodes named in a warning at most; the count says how many more.
const MAX_NAMED_GEOCODES: usize = 10;

/// The union of the areas of all `<info>` blocks (the same area is often repeated per
/// language), with a warning saying which geocodes matched an office zone and which are kept
/// only as received.
pub(super) fn raw_area(
    infos: &[&Element],
    zones: &ZoneIndex,
    warnings: &mut Vec<String>,
) -> Result<RawArea, Problem> {
    let (mut polygons, mut circles, mut zone_ids) = (Vec::new(), Vec::new(), Vec::new());
    let (mut matched, mut unmatched) = (Vec::new(), Vec::new());
    for element in infos.iter().flat_map(|info| info.children("area")) {
        for polygon in element.children("polygon") {
            let ring =
                parse_polygon(&polygon.text).ok_or_else(|| bad_shape("polygon", &polygon.text))?;
            push_new(&mut polygons, ring);
        }
        for circle in element.children("circle") {
            let circle =
                parse_circle(&circle.text).ok_or_else(|| bad_shape("circle", &circle.text))?;
            push_new(&mut circles, circle);
        }
        for geocode in element.children("geocode") {
            let system = geocode.text_of("valueName").unwrap_or_default();
            let value = geocode.text_of("value").unwrap_or_default();
            let named = format!("{system} {value}");
            match zones
                .get(&value)
                .filter(|zone| zone.level.eq_ignore_ascii_case(&system))
            {
                Some(zone) => {
                    push_new(&mut matched, format!("{named} ({})", zone.name));
                    push_new(&mut zone_ids, value);
                }
                None => push_new(&mut unmatched, named),
            }
        }
    }
    if polygons.is_empty() && circles.is_empty() && zone_ids.is_empty() && unmatched.is_empty() {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            "area",
            "the alert's area has no polygon, circle or geocode",
        ));
    }
    warn_about_geocodes(
        &matched,
        &unmatched,
        zone_ids.is_empty() && polygons.is_empty() && circles.is_empty(),
        warnings,
    );
    Ok(RawArea {
        polygons: Some(polygons),
        circles: Some(circles),
        zones: Some(zone_ids),
    })
}

fn warn_about_geocodes(
    matched: &[String],
    unmatched: &[String],
    nothing_drawn: bool,
    warnings: &mut Vec<String>,
) {
    if !matched.is_empty() {
        warnings.push(format!(
            "geocodes matched to this office's zones (the code name is a zone level, the value \
             a zone id): {}",
            named(matched)
        ));
    }
    if unmatched.is_empty() {
        return;
    }
    let consequence = if nothing_drawn {
        "it reaches no zone subscriber of this office: relay it as it is, or draft a notice of \
         your own for the zones it concerns"
    } else {
        "the area the hub matches is the alert's polygons, circles and matched zones"
    };
    warnings.push(format!(
        "geocodes kept as received, matching no zone of this office: {}; the CAP relay carries \
         them, but {consequence}",
        named(unmatched)
    ));
}

fn named(list: &[String]) -> String {
    let mut shown = list[..list.len().min(MAX_NAMED_GEOCODES)].join(", ");
    if list.len() > MAX_NAMED_GEOCODES {
        shown.push_str(&format!(" and {} more", list.len() - MAX_NAMED_GEOCODES));
    }
    shown
}

fn push_new<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
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
