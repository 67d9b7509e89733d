//! Settings of the browser UI: the basemap under the zones, and the emergency number the pages
//! give people in danger.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// An offline vector basemap of the office's region: a Protomaps/PMTiles extract
    /// (`region.pmtiles`) or an MBTiles file of vector tiles. Checked at start.
    pub basemap: Option<PathBuf>,
    /// Credit line the basemap's data requires.
    pub basemap_attribution: String,
    /// A raster tile URL template (`https://tiles.example/{z}/{x}/{y}.png`) drawn under the
    /// zone boundaries, for offices that can reach a tile server.
    pub tile_url: Option<String>,
    /// Credit line the tile provider requires (e.g. `© OpenStreetMap contributors`).
    pub tile_attribution: Option<String>,
    /// The number the pages tell people in danger to call.
    pub emergency_number: String,
}

impl Default for UiConfig {
    fn default() -> UiConfig {
        UiConfig {
            basemap: None,
            basemap_attribution: "© OpenStreetMap contributors, Protomaps".into(),
            tile_url: None,
            tile_attribution: None,
            emergency_number: "112".into(),
        }
    }
}

impl UiConfig {
    /// The scheme, host and port of the tile server, for the pages' content security policy.
    pub fn tile_origin(&self) -> Option<String> {
        let url = url::Url::parse(self.tile_url.as_deref()?).ok()?;
        Some(url.origin().ascii_serialization())
    }
}
