//! The office's offline basemap: a PMTiles or MBTiles file of vector tiles, checked at start.
//! A PMTiles file is served whole, by HTTP range requests; an MBTiles file tile by tile.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

/// Bytes of a PMTiles v3 header.
const PMTILES_HEADER_BYTES: usize = 127;
const PMTILES_MAGIC: &[u8] = b"PMTiles";
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
/// The PMTiles tile type of Mapbox Vector Tiles.
const PMTILES_MVT: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum BasemapError {
    #[error("ui.basemap: cannot read {path}: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "ui.basemap: {path} is neither a PMTiles nor an MBTiles file (see the README, \"Basemap\")"
    )]
    UnknownFormat { path: PathBuf },
    #[error("ui.basemap: {path} is a damaged or unsupported PMTiles file: {why}")]
    BadPmtiles { path: PathBuf, why: &'static str },
    #[error("ui.basemap: {path} is not a usable MBTiles file: {why}")]
    BadMbtiles { path: PathBuf, why: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasemapKind {
    Pmtiles,
    Mbtiles,
}

/// A basemap file that passed its checks.
#[derive(Clone)]
pub struct Basemap {
    pub kind: BasemapKind,
    pub path: PathBuf,
    pub max_zoom: u8,
    mbtiles: Option<Arc<Mutex<Connection>>>,
}

impl std::fmt::Debug for Basemap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Basemap")
            .field("kind", &self.kind)
            .field("path", &self.path)
            .finish()
    }
}

impl Basemap {
    /// Opens and checks the file the office configured.
    pub fn open(path: &Path) -> Result<Basemap, BasemapError> {
        let mut head = [0u8; PMTILES_HEADER_BYTES];
        let unreadable = |source| BasemapError::Unreadable {
            path: path.to_owned(),
            source,
        };
        let mut file = File::open(path).map_err(unreadable)?;
        let length = file.metadata().map_err(unreadable)?.len();
        let read = read_up_to(&mut file, &mut head).map_err(unreadable)?;
        if head.starts_with(PMTILES_MAGIC) {
            let max_zoom =
                check_pmtiles(&head[..read], length).map_err(|why| BasemapError::BadPmtiles {
                    path: path.to_owned(),
                    why,
                })?;
            return Ok(Basemap {
                kind: BasemapKind::Pmtiles,
                path: path.to_owned(),
                max_zoom,
                mbtiles: None,
            });
        }
        if head.starts_with(SQLITE_MAGIC) {
            return open_mbtiles(path);
        }
        Err(BasemapError::UnknownFormat {
            path: path.to_owned(),
        })
    }

    /// One tile of an MBTiles basemap (as stored, often gzip-compressed), if it has it.
    pub fn mbtiles_tile(&self, z: u8, x: u32, y: u32) -> rusqlite::Result<Option<Vec<u8>>> {
        let Some(connection) = &self.mbtiles else {
            return Ok(None);
        };
        // MBTiles rows count from the south (TMS); the web's tile addresses from the north.
        let row = (1u32 << z) - 1 - y;
        connection
            .lock()
            .expect("basemap lock")
            .prepare_cached(
                "SELECT tile_data FROM tiles WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3",
            )?
            .query_row((z, x, row), |row| row.get(0))
            .optional()
    }
}

fn read_up_to(file: &mut File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Checks the fixed header of a PMTiles v3 archive; answers its deepest zoom.
fn check_pmtiles(head: &[u8], file_length: u64) -> Result<u8, &'static str> {
    if head.len() < PMTILES_HEADER_BYTES {
        return Err("the header is cut short");
    }
    if head[7] != 3 {
        return Err("only PMTiles version 3 is supported");
    }
    let u64_at = |at: usize| u64::from_le_bytes(head[at..at + 8].try_into().expect("8 bytes"));
    let (root_offset, root_length) = (u64_at(8), u64_at(16));
    let (data_offset, data_length) = (u64_at(56), u64_at(64));
    let inside = |offset: u64, length: u64| {
        offset
            .checked_add(length)
            .is_some_and(|end| end <= file_length)
    };
    if root_length == 0 || !inside(root_offset, root_length) || !inside(data_offset, data_length) {
        return Err("its directory or tile data lie outside the file");
    }
    if head[99] != PMTILES_MVT {
        return Err("its tiles are not vector tiles (MVT)");
    }
    let (min_zoom, max_zoom) = (head[100], head[101]);
    if min_zoom > max_zoom || max_zoom > 22 {
        return Err("its zoom range is impossible");
    }
    Ok(max_zoom)
}

fn open_mbtiles(path: &Path) -> Result<Basemap, BasemapError> {
    let bad = |why: String| BasemapError::BadMbtiles {
        path: path.to_owned(),
        why,
    };
    let connection = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|err| bad(err.to_string()))?;
    let metadata = |name: &str| -> Result<Option<String>, BasemapError> {
        connection
            .query_row(
                "SELECT value FROM metadata WHERE name = ?1",
                [name],
                |row| row.get(0),
            )
            .optional()
            .map_err(|err| bad(format!("no readable metadata table ({err})")))
    };
    if metadata("format")?.as_deref() != Some("pbf") {
        return Err(bad(
            "its metadata `format` is not `pbf` (vector tiles)".into()
        ));
    }
    let max_zoom = metadata("maxzoom")?
        .and_then(|zoom| zoom.trim().parse::<u8>().ok())
        .filter(|&zoom| zoom <= 22)
        .ok_or_else(|| bad("its metadata `maxzoom` is missing or not a zoom".into()))?;
    connection
        .query_row(
            "SELECT count(*) FROM (SELECT 1 FROM tiles LIMIT 1)",
            [],
            |row| row.get::<_, i64>(0),
        )
        .map_err(|err| bad(format!("no readable tiles table ({err})")))?;
    Ok(Basemap {
        kind: BasemapKind::Mbtiles,
        path: path.to_owned(),
        max_zoom,
        mbtiles: Some(Arc::new(Mutex::new(connection))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pmtiles_head(version: u8, tile_type: u8, root: (u64, u64)) -> Vec<u8> {
        let mut head = vec![0u8; PMTILES_HEADER_BYTES];
        head[..7].copy_from_slice(PMTILES_MAGIC);
        head[7] = version;
        head[8..16].copy_from_slice(&root.0.to_le_bytes());
        head[16..24].copy_from_slice(&root.1.to_le_bytes());
        head[99] = tile_type;
        head[101] = 14;
        head
    }

    #[test]
    fn a_sound_pmtiles_header_gives_its_deepest_zoom() {
        assert_eq!(check_pmtiles(&pmtiles_head(3, 1, (127, 50)), 1000), Ok(14));
    }

    #[test]
    fn damaged_or_foreign_pmtiles_headers_are_refused_with_a_reason() {
        assert!(check_pmtiles(&pmtiles_head(2, 1, (127, 50)), 1000).is_err());
        assert!(check_pmtiles(&pmtiles_head(3, 2, (127, 50)), 1000).is_err());
        assert!(check_pmtiles(&pmtiles_head(3, 1, (127, 5000)), 1000).is_err());
        assert!(check_pmtiles(&pmtiles_head(3, 1, (127, 50))[..60], 1000).is_err());
    }

    #[test]
    fn a_file_of_another_kind_is_named_as_such() {
        let dir = std::env::temp_dir().join(format!("vedetta-basemap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("not-a-map.pmtiles");
        std::fs::write(&path, b"<html>hello</html>").unwrap();

        let error = Basemap::open(&path).unwrap_err().to_string();

        assert!(error.starts_with("ui.basemap:"), "{error}");
        assert!(
            error.contains("neither a PMTiles nor an MBTiles"),
            "{error}"
        );
        let missing = Basemap::open(&dir.join("missing.pmtiles"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("cannot read"), "{missing}");
    }
}
