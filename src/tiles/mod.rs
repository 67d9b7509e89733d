//! Map tiles: the zones as Mapbox Vector Tiles cut on demand and cached, and the office's
//! offline basemap.
//!
//! Zone tiles are addressed by the version of the zone set they were cut from, so a browser may
//! keep them forever; a zone import makes a new version and the old tiles simply age out of the
//! cache.

mod basemap;
mod encode;
mod levels;
mod zones;

use std::sync::Arc;

use bytes::Bytes;
use quick_cache::sync::Cache;
use tokio::sync::{Mutex, Semaphore};

pub use basemap::{Basemap, BasemapError, BasemapKind};
pub use encode::{EXTENT, LayerBuilder, TileId, encode};
pub use geozero::mvt::TileValue;
pub use levels::{LevelRange, Levels, MAX_ZOOM};
pub use zones::{LABELS_LAYER, ZONES_LAYER, ZoneTiles};

use crate::zones::ZoneDirectory;

/// Bytes of encoded tiles kept in memory; the least used go first beyond this.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// A guess at the number of tiles in the cache, for its table size.
const CACHE_TILES: usize = 20_000;

type TileKey = (Arc<str>, TileId);

/// Cuts zone tiles, one at a time per core, and remembers them.
#[derive(Clone)]
pub struct ZoneTileService {
    zones: ZoneDirectory,
    current: Arc<Mutex<Option<Arc<ZoneTiles>>>>,
    cache: Arc<Cache<TileKey, Bytes, TileWeight>>,
    /// Cutting a tile is CPU work; no more at once than there are cores.
    cutting: Arc<Semaphore>,
}

#[derive(Clone)]
struct TileWeight;

impl quick_cache::Weighter<TileKey, Bytes> for TileWeight {
    fn weight(&self, _key: &TileKey, tile: &Bytes) -> u64 {
        tile.len() as u64 + 64
    }
}

impl ZoneTileService {
    pub fn new(zones: ZoneDirectory) -> ZoneTileService {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        ZoneTileService {
            zones,
            current: Arc::new(Mutex::new(None)),
            cache: Arc::new(Cache::with_weighter(CACHE_TILES, CACHE_BYTES, TileWeight)),
            cutting: Arc::new(Semaphore::new(cores)),
        }
    }

    /// The tiles of the zones in force now, prepared once per zone set.
    pub async fn current(&self) -> Arc<ZoneTiles> {
        let index = self.zones.snapshot();
        let mut current = self.current.lock().await;
        if let Some(tiles) = current.as_ref().filter(|tiles| tiles.is_of(&index)) {
            return tiles.clone();
        }
        let tiles = tokio::task::spawn_blocking(move || Arc::new(ZoneTiles::new(index)))
            .await
            .expect("preparing zone tiles does not panic");
        *current = Some(tiles.clone());
        tiles
    }

    /// The encoded tile `id` of `tiles`, from the cache or cut now.
    pub async fn tile(&self, tiles: Arc<ZoneTiles>, id: TileId) -> Bytes {
        let key: TileKey = (Arc::from(tiles.version()), id);
        if let Some(tile) = self.cache.get(&key) {
            return tile;
        }
        let _turn = self.cutting.acquire().await.expect("never closed");
        let cache = self.cache.clone();
        tokio::task::spawn_blocking(move || {
            cache
                .get_or_insert_with(&key, || {
                    Ok::<_, std::convert::Infallible>(Bytes::from(tiles.tile(id)))
                })
                .unwrap_or_else(|never| match never {})
        })
        .await
        .expect("cutting a tile does not panic")
    }
}
