//! Finding a place by name: accent- and case-insensitive search over the zones, so a person
//! without location services can say where they are ("forli" finds Forlì).

use geo::{BoundingRect, Centroid, Contains, InteriorPoint};
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::{Zone, ZoneIndex};

/// English names people type for Italian places; each also finds the Italian one.
const ENGLISH_NAMES: &[(&str, &str)] = &[
    ("rome", "roma"),
    ("milan", "milano"),
    ("naples", "napoli"),
    ("turin", "torino"),
    ("florence", "firenze"),
    ("venice", "venezia"),
    ("genoa", "genova"),
    ("padua", "padova"),
    ("mantua", "mantova"),
    ("syracuse", "siracusa"),
    ("leghorn", "livorno"),
    ("sicily", "sicilia"),
    ("sardinia", "sardegna"),
    ("tuscany", "toscana"),
    ("lombardy", "lombardia"),
    ("piedmont", "piemonte"),
    ("apulia", "puglia"),
    ("aosta valley", "valle d aosta"),
];

/// A place found by name, with where to put a map and a point inside it.
#[derive(Debug, Clone, Serialize)]
pub struct Place {
    pub id: String,
    pub name: String,
    pub level: String,
    /// The larger zones it lies in, smallest first ("Bologna, Emilia-Romagna").
    pub context: String,
    /// A point inside the place (its centroid when that is inside).
    pub lat: f64,
    pub lon: f64,
    /// West, south, east, north.
    pub bbox: [f64; 4],
}

/// A name as people type it: no accents, lower case, words split by spaces only.
pub fn search_key(text: &str) -> String {
    let plain: String = text
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    plain.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl ZoneIndex {
    /// Zones whose name matches `query`, best first: the exact name, then names that start
    /// with it, then names with a word that does; larger zones first among equals.
    pub fn find_places(&self, query: &str, limit: usize) -> Vec<Place> {
        let typed = search_key(query);
        if typed.is_empty() {
            return Vec::new();
        }
        let wanted = english_to_italian(&typed);
        let mut hits: Vec<(u8, f64, usize)> = self
            .search_keys
            .iter()
            .enumerate()
            .filter_map(|(slot, key)| {
                let quality = wanted.iter().filter_map(|w| match_quality(key, w)).min()?;
                Some((quality, -self.zones[slot].area, slot))
            })
            .collect();
        hits.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        hits.into_iter()
            .take(limit)
            .filter_map(|(_, _, slot)| self.place(&self.zones[slot]))
            .collect()
    }

    /// The places of these zone ids, in the order given; unknown ids are left out.
    pub fn places(&self, ids: &[&str]) -> Vec<Place> {
        ids.iter()
            .filter_map(|id| self.get(id))
            .filter_map(|zone| self.place(zone))
            .collect()
    }

    fn place(&self, zone: &Zone) -> Option<Place> {
        let rect = zone.geometry.bounding_rect()?;
        let inside = zone
            .geometry
            .centroid()
            .filter(|centroid| zone.geometry.contains(centroid))
            .or_else(|| zone.geometry.interior_point())?;
        Some(Place {
            id: zone.id.clone(),
            name: zone.name.clone(),
            level: zone.level.clone(),
            context: self.context_of(zone),
            lat: inside.y(),
            lon: inside.x(),
            bbox: [rect.min().x, rect.min().y, rect.max().x, rect.max().y],
        })
    }

    fn context_of(&self, zone: &Zone) -> String {
        let mut names = Vec::new();
        let mut parent = zone.parent_id.as_deref();
        // A parent chain loops only in a broken zone set; a few levels are all there are.
        while let Some(zone) = parent
            .and_then(|id| self.get(id))
            .filter(|_| names.len() < 8)
        {
            names.push(zone.name.as_str());
            parent = zone.parent_id.as_deref();
        }
        names.join(", ")
    }
}

fn english_to_italian(typed: &str) -> Vec<String> {
    let mut wanted = vec![typed.to_owned()];
    for (english, italian) in ENGLISH_NAMES {
        if english.starts_with(typed) || typed == *english {
            wanted.push((*italian).to_owned());
        }
    }
    wanted
}

/// 0 for the whole name, 1 for its start, 2 for the start of a later word.
fn match_quality(key: &str, typed: &str) -> Option<u8> {
    if key == typed {
        Some(0)
    } else if key.starts_with(typed) {
        Some(1)
    } else if key
        .match_indices(typed)
        .any(|(at, _)| key.as_bytes()[at - 1] == b' ')
    {
        Some(2)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{MultiPolygon, Rect, coord};

    fn zone(id: &str, level: &str, name: &str, parent: Option<&str>, size: f64) -> Zone {
        let rect = Rect::new(
            coord! { x: 12.0, y: 44.0 },
            coord! { x: 12.0 + size, y: 44.0 + size },
        );
        let shape = MultiPolygon::new(vec![rect.to_polygon()]);
        Zone::new(
            id.into(),
            level.into(),
            name.into(),
            parent.map(Into::into),
            shape,
        )
    }

    fn index() -> ZoneIndex {
        ZoneIndex::new(vec![
            zone("08", "region", "Emilia-Romagna", None, 3.0),
            zone("040", "province", "Forlì-Cesena", Some("08"), 0.8),
            zone("040012", "municipality", "Forlì", Some("040"), 0.1),
            zone("040007", "municipality", "Cesena", Some("040"), 0.1),
            zone(
                "099014",
                "municipality",
                "San Giovanni in Marignano",
                Some("08"),
                0.05,
            ),
            zone("058091", "municipality", "Roma", None, 0.3),
        ])
    }

    #[test]
    fn names_are_found_without_accents_or_capitals_best_match_first() {
        let found = index().find_places("FORLI", 10);

        let names: Vec<&str> = found.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Forlì", "Forlì-Cesena"]);
        assert_eq!(found[0].context, "Forlì-Cesena, Emilia-Romagna");
        assert!(found[0].bbox[0] <= found[0].lon && found[0].lon <= found[0].bbox[2]);
    }

    #[test]
    fn a_later_word_of_a_name_matches_and_english_names_find_italian_places() {
        let index = index();
        assert_eq!(
            index.find_places("giovanni", 5)[0].name,
            "San Giovanni in Marignano"
        );
        assert_eq!(index.find_places("cesena", 5)[0].name, "Cesena");
        assert_eq!(index.find_places("Rome", 5)[0].name, "Roma");
        assert!(index.find_places("  ", 5).is_empty());
        assert!(index.find_places("xyz", 5).is_empty());
    }
}
