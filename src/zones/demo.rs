//! The demo district in `maps/demo`, loaded when a new hub has no zones yet.

use super::{ImportError, ImportSpec, ZoneRecord, records_from};

const DISTRICT: &str = include_str!("../../maps/demo/district.geojson");
const MUNICIPALITIES: &str = include_str!("../../maps/demo/municipalities.geojson");

/// The demo zone sets, each with the import settings `vedetta zones import` would use.
pub fn demo_zone_sets() -> Result<Vec<(ImportSpec, Vec<ZoneRecord>)>, ImportError> {
    let sets = [
        (DISTRICT, "district", None),
        (MUNICIPALITIES, "municipality", Some("district")),
    ];
    sets.into_iter()
        .map(|(geojson, level, parent)| {
            let spec = ImportSpec {
                level: level.to_owned(),
                id_prop: "id".to_owned(),
                name_prop: "name".to_owned(),
                parent_prop: parent.map(str::to_owned),
            };
            let collection = super::import::parse_collection(geojson.as_bytes(), "maps/demo")?;
            let records = records_from(collection, &spec)?;
            Ok((spec, records))
        })
        .collect()
}
