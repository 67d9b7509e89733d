//! The catalog of report categories an office accepts, with names in each language.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Text in several languages, keyed by ISO 639-1 code (`it`, `en`).
pub type LocalizedText = BTreeMap<String, String>;

/// One category of report, as configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Stable code used on the wire (`flooding`); also the Open311 `service_code`.
    pub code: String,
    /// Display names by language.
    pub name: LocalizedText,
    /// Optional longer explanation by language.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub description: LocalizedText,
}

impl Category {
    /// The name in `language`, falling back to English, then to the code.
    pub fn name_in(&self, language: &str) -> &str {
        self.name
            .get(language)
            .or_else(|| self.name.get("en"))
            .map_or(self.code.as_str(), String::as_str)
    }

    pub fn description_in(&self, language: &str) -> &str {
        self.description
            .get(language)
            .or_else(|| self.description.get("en"))
            .map_or("", String::as_str)
    }
}

/// The categories in configured order.
#[derive(Debug, Clone)]
pub struct CategoryCatalog {
    categories: Vec<Category>,
}

impl CategoryCatalog {
    pub fn new(categories: Vec<Category>) -> CategoryCatalog {
        CategoryCatalog { categories }
    }

    pub fn get(&self, code: &str) -> Option<&Category> {
        self.categories
            .iter()
            .find(|category| category.code == code)
    }

    pub fn all(&self) -> &[Category] {
        &self.categories
    }

    pub fn codes(&self) -> Vec<&str> {
        self.categories.iter().map(|c| c.code.as_str()).collect()
    }
}

/// The categories a new office starts with, named in Italian and English.
pub fn default_categories() -> Vec<Category> {
    [
        ("flooding", "Allagamento", "Flooding"),
        ("landslide", "Frana", "Landslide"),
        ("fire", "Incendio", "Fire"),
        ("road_blocked", "Strada interrotta", "Road blocked"),
        ("fallen_tree", "Albero caduto", "Fallen tree"),
        ("building_damage", "Danni a edifici", "Building damage"),
        ("power_outage", "Interruzione elettrica", "Power outage"),
        ("water_supply", "Acqua potabile", "Drinking water"),
        ("people_at_risk", "Persone in pericolo", "People at risk"),
        ("other", "Altro", "Other"),
    ]
    .into_iter()
    .map(|(code, it, en)| Category {
        code: code.to_owned(),
        name: BTreeMap::from([
            ("it".to_owned(), it.to_owned()),
            ("en".to_owned(), en.to_owned()),
        ]),
        description: BTreeMap::new(),
    })
    .collect()
}
