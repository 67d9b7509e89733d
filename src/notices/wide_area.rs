//! An area wider than an office usually warns: one that reaches into more than one top-level
//! zone (a region), or covers more of the finest zones than configured. A slip of the mouse
//! while drawing makes such areas; the approver must say it is meant.

use serde::Serialize;

use crate::model::ZoneRef;
use crate::problem::{ErrorCode, Problem};
use crate::zones::ZoneIndex;

/// What makes an area wide, for the approver to check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WideArea {
    /// The top-level zones it reaches into (regions), by name.
    pub top_zones: Vec<String>,
    /// How many of the finest zones (municipalities) it covers.
    pub finest_zones: usize,
    /// The most finest zones an area may cover without a confirmation.
    pub limit: usize,
}

/// `Some` when the covered zones need the approver's `confirm_wide_area`.
pub fn wide_area(covered: &[ZoneRef], index: &ZoneIndex, limit: usize) -> Option<WideArea> {
    let zones: Vec<_> = covered
        .iter()
        .filter_map(|zone| index.get(&zone.id))
        .collect();
    let top_zones: Vec<String> = zones
        .iter()
        .filter(|zone| zone.parent_id.is_none())
        .map(|zone| zone.name.clone())
        .collect();
    let is_parent = |id: &str| zones.iter().any(|z| z.parent_id.as_deref() == Some(id));
    let finest_zones = zones.iter().filter(|zone| !is_parent(&zone.id)).count();
    (top_zones.len() > 1 || finest_zones > limit).then_some(WideArea {
        top_zones,
        finest_zones,
        limit,
    })
}

/// Refuses a wide area the approver has not confirmed, saying what makes it wide.
pub(super) fn check_confirmed(wide: Option<&WideArea>, confirmed: bool) -> Result<(), Problem> {
    let Some(wide) = wide.filter(|_| !confirmed) else {
        return Ok(());
    };
    let reach = if wide.top_zones.len() > 1 {
        let (count, names) = (wide.top_zones.len(), wide.top_zones.join(", "));
        format!("reaches into {count} zones of the top level ({names})")
    } else {
        format!(
            "covers {} zones (more than {})",
            wide.finest_zones, wide.limit
        )
    };
    Err(Problem::with_field(
        ErrorCode::InvalidField,
        "confirm_wide_area",
        format!(
            "this area {reach}: check it on the map, and approve with confirm_wide_area = true only if that is meant"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zones::Zone;
    use geo::{MultiPolygon, Rect, coord};

    fn zone(id: &str, parent: Option<&str>) -> Zone {
        let rect = Rect::new(coord! { x: 0.0, y: 0.0 }, coord! { x: 1.0, y: 1.0 });
        let shape = MultiPolygon::new(vec![rect.to_polygon()]);
        Zone::new(
            id.into(),
            "l".into(),
            id.to_uppercase(),
            parent.map(Into::into),
            shape,
        )
    }

    fn refs(ids: &[&str]) -> Vec<ZoneRef> {
        ids.iter()
            .map(|id| ZoneRef {
                id: (*id).into(),
                level: "l".into(),
                name: id.to_uppercase(),
            })
            .collect()
    }

    fn index() -> ZoneIndex {
        ZoneIndex::new(vec![
            zone("r1", None),
            zone("r2", None),
            zone("m1", Some("r1")),
            zone("m2", Some("r1")),
            zone("m3", Some("r2")),
        ])
    }

    #[test]
    fn an_area_inside_one_region_and_under_the_limit_needs_no_confirmation() {
        assert_eq!(wide_area(&refs(&["r1", "m1", "m2"]), &index(), 2), None);
    }

    #[test]
    fn two_regions_or_too_many_municipalities_need_the_approvers_word() {
        let across = wide_area(&refs(&["r1", "r2", "m2", "m3"]), &index(), 10).unwrap();
        assert_eq!(across.top_zones, ["R1", "R2"]);
        let many = wide_area(&refs(&["r1", "m1", "m2"]), &index(), 1).unwrap();
        assert_eq!(many.finest_zones, 2);

        let refused = check_confirmed(Some(&across), false).unwrap_err();
        assert_eq!(refused.field.as_deref(), Some("confirm_wide_area"));
        assert!(refused.message.contains("R1, R2"), "{}", refused.message);
        assert!(check_confirmed(Some(&across), true).is_ok());
    }
}
