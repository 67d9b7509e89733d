//! `/tiles/`: the zones as vector tiles, and the office's basemap (a PMTiles file by range
//! requests, or MBTiles tile by tile).

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::ServiceExt;
use tower_http::services::ServeFile;

use super::error::ApiError;
use crate::hub::Hub;
use crate::problem::{ErrorCode, Problem};
use crate::tiles::{BasemapKind, Encoding, MAX_ZOOM, TileId};

pub(super) const MVT_CONTENT_TYPE: &str = "application/vnd.mapbox-vector-tile";
/// A versioned tile never changes: browsers may keep it for a year without asking.
const FOREVER: &str = "public, max-age=31536000, immutable";

pub(super) fn router() -> Router<Hub> {
    Router::new()
        .route("/tiles/zones/{version}/{z}/{x}/{file}", get(zone_tile))
        .route("/tiles/basemap.pmtiles", get(basemap_file))
        .route("/tiles/basemap/{z}/{x}/{file}", get(basemap_tile))
}

/// `GET /tiles/zones/{version}/{z}/{x}/{y}.mvt`. A version other than the current one (the page
/// was opened before a zone import) gets today's tile, which the browser must not keep.
async fn zone_tile(
    State(hub): State<Hub>,
    Path((version, z, x, file)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = tile_id(&z, &x, &file, MAX_ZOOM)?;
    let tiles = hub.zone_tiles.current().await;
    let caching = if *version == **tiles.version() {
        FOREVER
    } else {
        "no-cache"
    };
    let accept = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let tile = hub.zone_tiles.tile(tiles, id).await;
    // Compressed once when it was cut; the compression layer leaves an encoded answer alone.
    let (body, encoding) = tile.body(Encoding::preferred(accept));
    let mut response = (
        [
            (header::CONTENT_TYPE, MVT_CONTENT_TYPE),
            (header::CACHE_CONTROL, caching),
            (header::VARY, "accept-encoding"),
        ],
        body,
    )
        .into_response();
    if let Some(coding) = encoding.header() {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    Ok(response)
}

/// `GET /tiles/basemap.pmtiles`, with `Range` requests as PMTiles readers make them.
async fn basemap_file(State(hub): State<Hub>, request: Request) -> Result<Response, ApiError> {
    let basemap = hub
        .basemap
        .as_ref()
        .filter(|basemap| basemap.kind == BasemapKind::Pmtiles)
        .ok_or_else(no_basemap)?;
    let mut response = ServeFile::new_with_mime(
        &basemap.path,
        &"application/vnd.pmtiles".parse().expect("a mime type"),
    )
    .oneshot(request)
    .await
    .map_err(|err| ApiError(Problem::internal(&err)))?
    .map(Body::new);
    // Revalidated by Last-Modified, so replacing the file takes effect on the next load.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// `GET /tiles/basemap/{z}/{x}/{y}.mvt` from an MBTiles basemap.
async fn basemap_tile(
    State(hub): State<Hub>,
    Path((z, x, file)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let basemap = hub
        .basemap
        .clone()
        .filter(|basemap| basemap.kind == BasemapKind::Mbtiles)
        .ok_or_else(no_basemap)?;
    let id = tile_id(&z, &x, &file, basemap.max_zoom)?;
    let tile = tokio::task::spawn_blocking(move || basemap.mbtiles_tile(id.z, id.x, id.y))
        .await
        .map_err(|err| ApiError(Problem::internal(&err)))?
        .map_err(|err| ApiError(Problem::internal(&err)))?;
    let Some(tile) = tile else {
        // A basemap leaves out empty sea and land: nothing to draw there.
        return Ok((
            StatusCode::NO_CONTENT,
            [(header::CACHE_CONTROL, "public, max-age=3600")],
        )
            .into_response());
    };
    let gzipped = tile.starts_with(&[0x1f, 0x8b]);
    let mut response = (
        [
            (header::CONTENT_TYPE, MVT_CONTENT_TYPE),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        tile,
    )
        .into_response();
    if gzipped {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(response)
}

/// `z`, `x` and `{y}.mvt` of a tile URL, within the grid and the zooms there are tiles for.
fn tile_id(z: &str, x: &str, file: &str, max_zoom: u8) -> Result<TileId, ApiError> {
    let out_of_range = || {
        ApiError(Problem::new(
            ErrorCode::NotFound,
            format!(
                "no such tile: ask for /{{z}}/{{x}}/{{y}}.mvt with z from 0 to {max_zoom} and x, y below 2^z"
            ),
        ))
    };
    let y = file.strip_suffix(".mvt").ok_or_else(out_of_range)?;
    let number = |text: &str| text.parse::<u32>().map_err(|_| out_of_range());
    let z = u8::try_from(number(z)?).map_err(|_| out_of_range())?;
    if z > max_zoom {
        return Err(out_of_range());
    }
    TileId::new(z, number(x)?, number(y)?).ok_or_else(out_of_range)
}

fn no_basemap() -> ApiError {
    ApiError(Problem::new(
        ErrorCode::NotFound,
        "this office has no basemap of that kind; see `basemap` in /ui/config.json",
    ))
}
