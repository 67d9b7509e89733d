//! Map tiles: the zones as Mapbox Vector Tiles cut on demand and cached, and the office's
//! offline basemap.
//!
//! Zone tiles are addressed by the version of the zone set they were cut from, so a browser may
//! keep them forever; a zone import makes a new version and the old tiles simply age out of the
//! cache.

mod basemap;
mod encode;
mod levels;
mod packed;
mod zones;

use std::sync::{Arc, RwLock};

use quick_cache::sync::Cache;
use tokio::sync::{Mutex, Semaphore};

pub use basemap::{Basemap, BasemapError, BasemapKind};
pub use encode::{EXTENT, LayerBuilder, TileId, encode};
pub use geozero::mvt::TileValue;
pub use levels::{LevelRange, Levels, MAX_ZOOM};
pub use packed::{Encoding, PackedTile};
pub use zones::{LABELS_LAYER, ZONES_LAYER, ZoneTiles};

use crate::zones::ZoneDirectory;

/// Bytes of tiles kept in memory (each as cut, gzip and brotli); the least used go first.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// A guess at the number of tiles in the cache, for its table size.
const CACHE_TILES: usize = 20_000;

type TileKey = (Arc<str>, TileId);

/// Cuts zone tiles, one at a time per core, and remembers the non-empty ones compressed.
#[derive(Clone)]
pub struct ZoneTileService {
    zones: ZoneDirectory,
    /// The tiles of the zone set in force; read on every request, replaced on a zone import.
    current: Arc<RwLock<Option<Arc<ZoneTiles>>>>,
    /// Held while preparing a new zone set's tiles, so that is done once.
    preparing: Arc<Mutex<()>>,
    cache: Arc<Cache<TileKey, Arc<PackedTile>, TileWeight>>,
    /// Cutting a tile is CPU work; no more at once than there are cores.
    cutting: Arc<Semaphore>,
}

#[derive(Clone)]
struct TileWeight;

/// What an entry costs beyond its bodies: key, `Arc`s, table slot (measured: about 300 bytes).
const ENTRY_OVERHEAD: u64 = 320;

impl quick_cache::Weighter<TileKey, Arc<PackedTile>> for TileWeight {
    fn weight(&self, _key: &TileKey, tile: &Arc<PackedTile>) -> u64 {
        tile.bytes() as u64 + ENTRY_OVERHEAD
    }
}

impl ZoneTileService {
    pub fn new(zones: ZoneDirectory) -> ZoneTileService {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        ZoneTileService {
            zones,
            current: Arc::new(RwLock::new(None)),
            preparing: Arc::new(Mutex::new(())),
            cache: Arc::new(Cache::with_weighter(CACHE_TILES, CACHE_BYTES, TileWeight)),
            cutting: Arc::new(Semaphore::new(cores)),
        }
    }

    /// The tiles of the zones in force now, prepared once per zone set.
    pub async fn current(&self) -> Arc<ZoneTiles> {
        let index = self.zones.snapshot();
        if let Some(tiles) = self.ready_for(&index) {
            return tiles;
        }
        // A task of its own: a caller that goes away does not leave the work half done for the
        // next one to start again.
        let service = self.clone();
        tokio::spawn(async move { service.prepare(index).await })
            .await
            .expect("preparing zone tiles does not panic")
    }

    async fn prepare(&self, index: Arc<crate::zones::ZoneIndex>) -> Arc<ZoneTiles> {
        let _preparing = self.preparing.lock().await;
        if let Some(tiles) = self.ready_for(&index) {
            return tiles;
        }
        let tiles = tokio::task::spawn_blocking(move || Arc::new(ZoneTiles::new(index)))
            .await
            .expect("preparing zone tiles does not panic");
        *self.current.write().expect("zone tiles lock") = Some(tiles.clone());
        tiles
    }

    fn ready_for(&self, index: &Arc<crate::zones::ZoneIndex>) -> Option<Arc<ZoneTiles>> {
        let current = self.current.read().expect("zone tiles lock");
        current.as_ref().filter(|tiles| tiles.is_of(index)).cloned()
    }

    /// The tile `id` of `tiles`, from the cache or cut and compressed now. Tiles far from every
    /// zone (most of the world) are not kept: there are hundreds of millions of them, and
    /// finding one empty costs a look in the R-tree.
    pub async fn tile(&self, tiles: Arc<ZoneTiles>, id: TileId) -> Arc<PackedTile> {
        let key: TileKey = (tiles.version().clone(), id);
        if let Some(tile) = self.cache.get(&key) {
            return tile;
        }
        // The permit goes with the work: a client that hangs up does not free a core that is
        // still cutting for it.
        let turn = self
            .cutting
            .clone()
            .acquire_owned()
            .await
            .expect("never closed");
        let cache = self.cache.clone();
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            let tile = Arc::new(PackedTile::new(tiles.tile(id)));
            // An empty tile near zones took clipping to find empty: keep it (it weighs its
            // entry only). One far from every zone is found empty again for nothing.
            if !tile.is_empty() || !tiles.is_far_from_zones(id) {
                cache.insert(key, tile.clone());
            }
            tile
        })
        .await
        .expect("cutting a tile does not panic")
    }
}
