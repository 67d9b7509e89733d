//! Settings of the browser UI: an optional basemap for offices that can reach a tile server.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// A raster tile URL template (`https://tiles.example/{z}/{x}/{y}.png`) drawn under the
    /// zone boundaries. Without it the map shows the zones alone and needs no network.
    pub tile_url: Option<String>,
    /// Credit line the tile provider requires (e.g. `© OpenStreetMap contributors`).
    pub tile_attribution: Option<String>,
}

impl UiConfig {
    /// The scheme, host and port of the tile server, for the pages' content security policy.
    pub fn tile_origin(&self) -> Option<String> {
        let url = url::Url::parse(self.tile_url.as_deref()?).ok()?;
        Some(url.origin().ascii_serialization())
    }
}
