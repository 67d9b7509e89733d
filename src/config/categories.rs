//! The categories of report an office accepts, as configured: names in each language,
//! response targets, CAP category; and the set a new office starts with.

use std::collections::BTreeMap;
use std::sync::Arc;

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
    /// Acknowledge within this long (`15m`, `2h`); default `triage.acknowledge_within`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledge_within: Option<String>,
    /// Resolve within this long; default `triage.resolve_within`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolve_within: Option<String>,
    /// A report of this kind means someone may be in danger now: the pages show the
    /// acknowledgement target and the emergency number, never a resolution estimate.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub life_safety: bool,
    /// CAP category of a notice escalated from such a report (`Met`, `Fire`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_category: Option<String>,
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

/// The categories an office starts with: code, Italian and English names, CAP category, and
/// an acknowledgement target of their own (life-safety ones), if any.
const DEFAULT_CATEGORIES: [(&str, &str, &str, &str, Option<&str>); 10] = [
    ("flooding", "Allagamento", "Flooding", "Met", None),
    ("landslide", "Frana", "Landslide", "Geo", None),
    ("fire", "Incendio", "Fire", "Fire", Some("5m")),
    (
        "road_blocked",
        "Strada interrotta",
        "Road blocked",
        "Transport",
        None,
    ),
    (
        "fallen_tree",
        "Albero caduto",
        "Fallen tree",
        "Safety",
        None,
    ),
    (
        "building_damage",
        "Danni a edifici",
        "Building damage",
        "Infra",
        None,
    ),
    (
        "power_outage",
        "Interruzione elettrica",
        "Power outage",
        "Infra",
        None,
    ),
    (
        "water_supply",
        "Acqua potabile",
        "Drinking water",
        "Infra",
        None,
    ),
    (
        "people_at_risk",
        "Persone in pericolo",
        "People at risk",
        "Rescue",
        Some("5m"),
    ),
    ("other", "Altro", "Other", "Other", None),
];

/// The categories a new office starts with, named in Italian and English; fires and people in
/// danger must be acknowledged within 5 minutes.
pub fn default_categories() -> Vec<Category> {
    DEFAULT_CATEGORIES
        .into_iter()
        .map(|(code, it, en, cap, acknowledge)| Category {
            code: code.to_owned(),
            name: BTreeMap::from([
                ("it".to_owned(), it.to_owned()),
                ("en".to_owned(), en.to_owned()),
            ]),
            description: BTreeMap::new(),
            // The categories that must be acknowledged within minutes are those about lives.
            life_safety: acknowledge.is_some(),
            acknowledge_within: acknowledge.map(str::to_owned),
            resolve_within: None,
            cap_category: Some(cap.to_owned()),
        })
        .collect()
}

/// The categories in configured order; cheap to clone into a write.
#[derive(Debug, Clone)]
pub struct CategoryCatalog {
    categories: Arc<[Category]>,
}

impl CategoryCatalog {
    pub fn new(categories: Vec<Category>) -> CategoryCatalog {
        CategoryCatalog {
            categories: categories.into(),
        }
    }

    /// Whether a report of this kind means someone may be in danger now, so its reporter is
    /// told how soon it will be taken in hand and whom to call, never when it will be resolved.
    pub fn is_life_safety(&self, code: &str) -> bool {
        self.get(code).is_some_and(|category| category.life_safety)
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
