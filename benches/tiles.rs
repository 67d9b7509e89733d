//! Zone tiles: Italy's zones cut into vector tiles at zooms 5, 8 and 11, against PostGIS
//! `ST_AsMVT` cutting the same tiles, and a cached tile over HTTP against a bare hyper server.
//!
//! Run with `cargo bench --bench tiles`. The hub cuts with `ZoneTiles::tile` on one thread.
//! PostGIS, when `psql` reaches a server with the extension on 127.0.0.1 (as for the zones
//! bench; otherwise it says so and skips it), cuts the same tiles with the same levels and
//! layers from EPSG:3857 geometries with a GiST index, timed as the server's own execution time
//! of one query over every tile of a zoom: once as `ST_AsMVTGeom` alone (which keeps far more
//! detail than the hub), once with each zone first simplified to the hub's tolerance (the same
//! bytes as the hub). The HTTP part starts the real hub, warms 200 tiles, then asks for them
//! again and again on keep-alive connections, taking turns with the floor: bare hyper giving
//! the very same answers from memory.

#[path = "support/psql.rs"]
mod psql;

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, Response, header};
use bytes::Bytes;
use geo::{BoundingRect, CoordsIter, Rect};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use vedetta::config::Config;
use vedetta::tiles::{Levels, TileId, ZoneTiles};
use vedetta::zones::{ImportSpec, ZoneIndex, ZoneRecord, read_feature_collection, records_from};

use psql::{psql, psql_with_input};

const ZOOMS: [u8; 3] = [5, 8, 11];
/// At most this many tiles per zoom, evenly spaced over those that meet a zone.
const MAX_TILES_PER_ZOOM: usize = 1_000;
/// The hub cuts each zoom's tiles over and over until this much time has passed (once at least).
const MIN_CUTTING_TIME: Duration = Duration::from_secs(3);
const POSTGIS_RUNS: usize = 5;
const DATABASE: &str = "vedetta_tiles_bench";
/// Tiles warmed in the hub's cache and then asked for again and again.
const CACHED_TILES: usize = 200;
const HTTP_ROUNDS: usize = 50;
/// One connection, and as many as a browser opens to one host.
const CONNECTIONS: [usize; 2] = [1, 6];
/// What Chromium asks for; `None` asks for the bytes as they are.
const ENCODINGS: [Option<&str>; 2] = [None, Some("gzip, deflate, br, zstd")];

fn main() {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    println!("zone tiles over Italy's zones, on a machine with {cores} cores:");
    println!("- cutting: hub ZoneTiles::tile on one thread vs PostGIS ST_AsMVT (server time)");
    println!("- a cached tile over HTTP: hub vs bare hyper serving the same bytes (the floor)");
    let records = load_italy();
    let zones = records.iter().map(|record| record.zone.clone()).collect();
    let started = Instant::now();
    let tiles = ZoneTiles::new(Arc::new(ZoneIndex::new(zones)));
    println!(
        "index and tile preparation: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    describe_levels(&tiles);
    let sets: Vec<TileSet> = ZOOMS.iter().map(|&z| TileSet::at(&tiles, z)).collect();
    let hub: Vec<Cutting> = sets.iter().map(|set| cut_with_hub(&tiles, set)).collect();
    // `cargo bench --bench tiles -- hub-only` cuts with the hub alone, for profiling.
    if std::env::args().any(|arg| arg == "hub-only") {
        return report_cutting(&sets, &hub, Err("hub-only".into()));
    }
    let postgis = measure_postgis(&records, tiles.levels(), &sets);
    report_cutting(&sets, &hub, postgis);
    let cached = cached_tile_sample(&sets);
    let http = measure_http(&records, &cached, tiles.version());
    report_http(&http);
}

fn load_italy() -> Vec<ZoneRecord> {
    let levels = [
        ("regions", "region", "reg_istat_code", "reg_name", None),
        (
            "provinces",
            "province",
            "prov_istat_code",
            "prov_name",
            Some("reg_istat_code"),
        ),
        (
            "municipalities",
            "municipality",
            "com_istat_code",
            "name",
            Some("prov_istat_code"),
        ),
    ];
    let started = Instant::now();
    let records: Vec<ZoneRecord> = levels
        .into_iter()
        .flat_map(|(file, level, id, name, parent)| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../shared/data/italy/{file}.geojson.gz"));
            let spec = ImportSpec {
                level: level.into(),
                id_prop: id.into(),
                name_prop: name.into(),
                parent_prop: parent.map(Into::into),
            };
            records_from(read_feature_collection(&path).expect("shared data"), &spec).unwrap()
        })
        .collect();
    println!(
        "loaded {} zones in {:.2} s",
        records.len(),
        started.elapsed().as_secs_f64()
    );
    records
}

fn describe_levels(tiles: &ZoneTiles) {
    for range in tiles.levels().ranges() {
        let zones: Vec<_> = tiles
            .index()
            .zones()
            .iter()
            .filter(|zone| zone.level == range.level)
            .collect();
        let vertices: usize = zones.iter().map(|zone| zone.geometry.coords_count()).sum();
        println!(
            "  {:<13} shown at zooms {:>2}-{:<2}: {:>5} zones, {:>9} vertices ({:.0} per zone)",
            range.level,
            range.min_zoom,
            range.max_zoom,
            zones.len(),
            vertices,
            vertices as f64 / zones.len() as f64
        );
    }
}

/// The tiles of one zoom that are measured.
struct TileSet {
    zoom: u8,
    /// Tiles covering Italy's bounding box at this zoom.
    covering: usize,
    /// Those meeting a zone's bounding box, evenly thinned to `MAX_TILES_PER_ZOOM`.
    tiles: Vec<TileId>,
}

impl TileSet {
    fn at(tiles: &ZoneTiles, zoom: u8) -> TileSet {
        let bounds = bounds_of(tiles.index());
        let north_west = TileId::containing(zoom, bounds.min().x, bounds.max().y);
        let south_east = TileId::containing(zoom, bounds.max().x, bounds.min().y);
        let covering: Vec<TileId> = (north_west.y..=south_east.y)
            .flat_map(|y| {
                (north_west.x..=south_east.x).map(move |x| TileId::new(zoom, x, y).expect("a tile"))
            })
            .collect();
        let meeting: Vec<TileId> = covering
            .iter()
            .filter(|tile| {
                let mut zones = tiles.index().slots_in_envelope(tile.buffered_bounds());
                zones.next().is_some()
            })
            .copied()
            .collect();
        TileSet {
            zoom,
            covering: covering.len(),
            tiles: evenly_spaced(&meeting, MAX_TILES_PER_ZOOM),
        }
    }
}

fn bounds_of(index: &ZoneIndex) -> Rect<f64> {
    index
        .zones()
        .iter()
        .filter_map(|zone| zone.geometry.bounding_rect())
        .reduce(|a, b| {
            Rect::new(
                geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
            )
        })
        .expect("zones")
}

/// `n` items spread evenly over `items` (all of them when there are fewer).
fn evenly_spaced<T: Copy>(items: &[T], n: usize) -> Vec<T> {
    if items.len() <= n {
        return items.to_vec();
    }
    (0..n).map(|i| items[i * items.len() / n]).collect()
}

/// One side's cutting of one zoom.
struct Cutting {
    tiles_per_second: f64,
    mean_bytes: f64,
    /// The hub's slowest tile and its time; PostGIS times only the whole query.
    slowest: Option<(TileId, Duration)>,
}

fn cut_with_hub(tiles: &ZoneTiles, set: &TileSet) -> Cutting {
    let mut times = Vec::new();
    let mut bytes = 0;
    let started = Instant::now();
    while times.is_empty() || started.elapsed() < MIN_CUTTING_TIME {
        for &id in &set.tiles {
            let began = Instant::now();
            let tile = std::hint::black_box(tiles.tile(id));
            times.push((id, began.elapsed()));
            if times.len() <= set.tiles.len() {
                bytes += tile.len();
            }
        }
    }
    let cutting: Duration = times.iter().map(|(_, time)| *time).sum();
    Cutting {
        tiles_per_second: times.len() as f64 / cutting.as_secs_f64(),
        mean_bytes: bytes as f64 / set.tiles.len() as f64,
        slowest: times.into_iter().max_by_key(|(_, time)| *time),
    }
}

/// How PostGIS gets each zone's shape to `ST_AsMVTGeom`.
#[derive(Clone, Copy)]
enum Simplified {
    /// As they are: `ST_AsMVTGeom` only drops what falls within one tile unit.
    AsStored,
    /// Whole, simplified with the hub's tolerance first (8 tile units), as the hub does.
    LikeTheHub,
}

impl Simplified {
    fn name(self) -> &'static str {
        match self {
            Simplified::AsStored => "postgis",
            Simplified::LikeTheHub => "postgis+simplify",
        }
    }

    fn shape(self) -> &'static str {
        match self {
            Simplified::AsStored => "z.geom",
            // 8 tile units in metres: the Web Mercator world is 40,075,016.69 m across.
            Simplified::LikeTheHub => {
                "ST_Simplify(z.geom, 8 * 40075016.685578488 / (4096 * 2 ^ t.z))"
            }
        }
    }
}

/// Each way of asking PostGIS, with its cutting of every zoom.
type PostgisRuns = Result<Vec<(Simplified, Vec<Cutting>)>, String>;

fn measure_postgis(records: &[ZoneRecord], levels: &Levels, sets: &[TileSet]) -> PostgisRuns {
    psql("postgres", &format!("DROP DATABASE IF EXISTS {DATABASE}"))?;
    psql("postgres", &format!("CREATE DATABASE {DATABASE}"))?;
    let measured = load_postgis(records, levels, sets).and_then(|()| {
        [Simplified::AsStored, Simplified::LikeTheHub]
            .into_iter()
            .map(|simplified| {
                let runs = sets
                    .iter()
                    .map(|set| cut_with_postgis(set.zoom, set.tiles.len(), simplified))
                    .collect::<Result<_, String>>()?;
                Ok((simplified, runs))
            })
            .collect()
    });
    let _ = psql("postgres", &format!("DROP DATABASE IF EXISTS {DATABASE}"));
    measured
}

/// Zones in EPSG:3857 with their level's rank and label point, and the tiles to cut.
fn load_postgis(records: &[ZoneRecord], levels: &Levels, sets: &[TileSet]) -> Result<(), String> {
    psql(DATABASE, "CREATE EXTENSION postgis")?;
    // One backend, one core: the same as the hub's single thread.
    psql(
        DATABASE,
        &format!("ALTER DATABASE {DATABASE} SET max_parallel_workers_per_gather = 0"),
    )?;
    psql(
        DATABASE,
        "CREATE TABLE zones (slot int, id text, name text, level text, rank int, geojson text);
         CREATE TABLE tiles (z int, x int, y int, fitting int)",
    )?;
    let zones: String = records
        .iter()
        .enumerate()
        .map(|(slot, record)| {
            let zone = &record.zone;
            let rank = levels.rank_of(&zone.level).expect("a ranked level");
            let fields = [&zone.id, &zone.name, &zone.level, &record.geometry_json];
            let [id, name, level, geojson] = fields.map(|text| copy_text(text));
            format!("{slot}\t{id}\t{name}\t{level}\t{rank}\t{geojson}\n")
        })
        .collect();
    psql_with_input(DATABASE, "COPY zones FROM STDIN", &zones)?;
    let tiles: String = sets
        .iter()
        .flat_map(|set| {
            let fitting = levels.fitting_rank(set.zoom).expect("zones");
            set.tiles
                .iter()
                .map(move |t| format!("{}\t{}\t{}\t{fitting}\n", t.z, t.x, t.y))
        })
        .collect();
    psql_with_input(DATABASE, "COPY tiles FROM STDIN", &tiles)?;
    psql(
        DATABASE,
        "ALTER TABLE zones ADD COLUMN geom geometry(MultiPolygon, 3857), ADD COLUMN label geometry(Point, 3857);
         UPDATE zones SET geom = ST_Transform(ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(geojson), 4326)), 3857);
         UPDATE zones SET label = CASE WHEN ST_Contains(geom, ST_Centroid(geom)) THEN ST_Centroid(geom)
                                       ELSE ST_PointOnSurface(geom) END;
         CREATE INDEX ON zones USING gist (geom);
         CREATE INDEX ON zones USING gist (label)",
    )?;
    psql(DATABASE, "VACUUM ANALYZE zones")?;
    psql(DATABASE, "VACUUM ANALYZE tiles")?;
    Ok(())
}

/// Every tile of one zoom, each the hub's two layers: the zones of the fitting level and the
/// coarser ones (extent 4096, buffer 64), then the fitting level's labels inside the tile.
fn tiles_query(zoom: u8, simplified: Simplified) -> String {
    let shape = simplified.shape();
    format!(
        "SELECT count(*) || ' ' || sum(length(mvt)) FROM (
           SELECT coalesce((
             SELECT ST_AsMVT(f, 'zones', 4096, 'geom', 'slot') FROM (
               SELECT z.slot, z.id, z.name, z.level, z.rank = t.fitting AS fits,
                      ST_AsMVTGeom({shape}, ST_TileEnvelope(t.z, t.x, t.y), 4096, 64, true) AS geom
               FROM zones z
               WHERE z.geom && ST_TileEnvelope(t.z, t.x, t.y, margin => 64.0 / 4096)
                 AND z.rank <= t.fitting) f
             WHERE f.geom IS NOT NULL), '') || coalesce((
             SELECT ST_AsMVT(l, 'zone_labels', 4096, 'geom', 'slot') FROM (
               SELECT z.slot, z.id, z.name, z.level,
                      ST_AsMVTGeom(z.label, ST_TileEnvelope(t.z, t.x, t.y), 4096, 0, true) AS geom
               FROM zones z
               WHERE z.label && ST_TileEnvelope(t.z, t.x, t.y) AND z.rank = t.fitting) l
             WHERE l.geom IS NOT NULL), '') AS mvt
           FROM tiles t WHERE t.z = {zoom}) AS cut"
    )
}

fn cut_with_postgis(zoom: u8, tiles: usize, simplified: Simplified) -> Result<Cutting, String> {
    let query = tiles_query(zoom, simplified);
    let answer = psql(DATABASE, &query)?;
    let (count, bytes) = answer
        .trim()
        .split_once(' ')
        .ok_or_else(|| format!("unexpected answer {answer:?}"))?;
    if count.parse::<usize>() != Ok(tiles) {
        return Err(format!("PostGIS cut {count} tiles of {tiles}"));
    }
    let bytes: f64 = bytes.parse().map_err(|_| "unexpected byte count")?;
    let mut runs = Vec::new();
    for _ in 0..POSTGIS_RUNS {
        let plan = psql(
            DATABASE,
            &format!("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {query}"),
        )?;
        let plan: serde_json::Value = serde_json::from_str(&plan).map_err(|err| err.to_string())?;
        let ms = plan[0]["Execution Time"]
            .as_f64()
            .ok_or("no execution time in the plan")?;
        runs.push(ms / 1000.0);
    }
    runs.sort_by(f64::total_cmp);
    Ok(Cutting {
        tiles_per_second: tiles as f64 / runs[runs.len() / 2],
        mean_bytes: bytes / tiles as f64,
        slowest: None,
    })
}

/// `text` as one field of COPY's text format.
fn copy_text(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

fn report_cutting(sets: &[TileSet], hub: &[Cutting], postgis: PostgisRuns) {
    println!();
    println!("cutting tiles, one thread (hub: all rounds; postgis: median of {POSTGIS_RUNS} runs)");
    println!("zoom | tiles (of bbox) | cut by           | tiles/s | bytes/tile | hub/peer tiles/s");
    for (n, (set, hub)) in sets.iter().zip(hub).enumerate() {
        let (slowest, time) = hub.slowest.expect("the hub times every tile");
        let tiles = format!("{:>5} ({:>5})", set.tiles.len(), set.covering);
        println!(
            "{:>4} | {tiles} | {:<16} | {:>7.0} | {:>10.0} | slowest {}/{}/{} {:.1} ms",
            set.zoom,
            "hub",
            hub.tiles_per_second,
            hub.mean_bytes,
            slowest.z,
            slowest.x,
            slowest.y,
            millis(time),
        );
        for (simplified, runs) in postgis.iter().flatten() {
            let peer = &runs[n];
            println!(
                "{:>4} | {tiles} | {:<16} | {:>7.0} | {:>10.0} | {:.2}x",
                set.zoom,
                simplified.name(),
                peer.tiles_per_second,
                peer.mean_bytes,
                hub.tiles_per_second / peer.tiles_per_second
            );
        }
    }
    if let Err(why) = postgis {
        println!("postgis: not measured ({why})");
    }
}

/// `CACHED_TILES` tiles: every low-zoom one, then the rest evenly from the deeper zooms.
fn cached_tile_sample(sets: &[TileSet]) -> Vec<TileId> {
    let mut chosen = Vec::new();
    for (n, set) in sets.iter().enumerate() {
        let share = (CACHED_TILES - chosen.len()) / (sets.len() - n);
        chosen.extend(evenly_spaced(&set.tiles, share));
    }
    chosen
}

/// What a server answered for one tile, which the floor answers too.
#[derive(Clone)]
struct Answer {
    body: Bytes,
    content_encoding: Option<String>,
}

/// Latencies of one way of asking, on the hub and on the floor.
struct HttpRun {
    connections: usize,
    /// What the hub answered with (`identity`, `gzip`, `br`), and the mean body size.
    answered_with: String,
    mean_bytes: f64,
    hub: Vec<Duration>,
    floor: Vec<Duration>,
}

/// The hub and the floor run side by side and take turns round by round, so whatever else the
/// machine is doing weighs on both alike.
fn measure_http(records: &[ZoneRecord], tiles: &[TileId], version: &str) -> Vec<HttpRun> {
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // reqwest is built without a TLS provider of its own; the hub installs one when it starts,
    // which is after this client is made.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let hub = RunningHub::start(records);
    let template = client.block_on(tile_url_template(&http, &hub.base));
    assert!(template.contains(version), "{template} is not of {version}");
    let paths: Vec<String> = tiles
        .iter()
        .map(|tile| tile_path(&template, tile))
        .collect();
    // Cuts every tile (the first time) and keeps the answers, which the floor gives too.
    let answers: FloorAnswers = ENCODINGS
        .iter()
        .map(|&encoding| {
            let answered = client.block_on(fetch_answers(&http, &hub.base, &paths, encoding));
            let by_path = paths.iter().cloned().zip(answered).collect();
            (encoding.is_some(), by_path)
        })
        .collect();
    let floor_server = server_runtime();
    let floor_base = floor_server.block_on(start_floor(answers.clone()));
    let mut runs = Vec::new();
    for encoding in ENCODINGS {
        let answered: Vec<&Answer> = paths
            .iter()
            .map(|path| &answers[&encoding.is_some()][path])
            .collect();
        for connections in CONNECTIONS {
            let mut run = HttpRun::of(&answered, connections);
            // Round 0 opens the connections, untimed.
            for round in 0..=HTTP_ROUNDS {
                let round_on = |base: &str| {
                    client.block_on(one_round(&http, base, &paths, encoding, connections))
                };
                let (hub, floor) = (round_on(&hub.base), round_on(&floor_base));
                if round > 0 {
                    run.hub.extend(hub);
                    run.floor.extend(floor);
                }
            }
            runs.push(run);
        }
    }
    hub.shut_down();
    runs
}

impl HttpRun {
    fn of(answered: &[&Answer], connections: usize) -> HttpRun {
        let bytes: usize = answered.iter().map(|answer| answer.body.len()).sum();
        HttpRun {
            connections,
            answered_with: answered[0]
                .content_encoding
                .clone()
                .unwrap_or("identity".into()),
            mean_bytes: bytes as f64 / answered.len() as f64,
            hub: Vec::new(),
            floor: Vec::new(),
        }
    }
}

/// The real hub with Italy's zones, on a runtime of its own.
struct RunningHub {
    runtime: tokio::runtime::Runtime,
    app: vedetta::app::RunningApp,
    base: String,
    _data: tempfile::TempDir,
}

impl RunningHub {
    fn start(records: &[ZoneRecord]) -> RunningHub {
        let runtime = server_runtime();
        let data = tempfile::tempdir().unwrap();
        let app = runtime
            .block_on(vedetta::app::start(Config::ephemeral(data.path())))
            .unwrap();
        let zones = records.iter().map(|record| record.zone.clone()).collect();
        app.hub().zones.replace(ZoneIndex::new(zones));
        let base = format!("http://{}", app.http_addr());
        RunningHub {
            runtime,
            app,
            base,
            _data: data,
        }
    }

    fn shut_down(self) {
        self.runtime.block_on(self.app.shutdown()).unwrap();
    }
}

/// A runtime as the hub's binary builds one (a worker per core), for the hub or the floor.
fn server_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// `zone_tiles.url` from `/ui/config.json`, as the pages read it.
async fn tile_url_template(http: &reqwest::Client, base: &str) -> String {
    let config: serde_json::Value = http
        .get(format!("{base}/ui/config.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    config["zone_tiles"]["url"].as_str().unwrap().to_owned()
}

fn tile_path(template: &str, tile: &TileId) -> String {
    template
        .replace("{z}", &tile.z.to_string())
        .replace("{x}", &tile.x.to_string())
        .replace("{y}", &tile.y.to_string())
}

fn get(http: &reqwest::Client, url: &str, encoding: Option<&str>) -> reqwest::RequestBuilder {
    let request = http.get(url);
    match encoding {
        Some(accepted) => request.header(header::ACCEPT_ENCODING, accepted),
        None => request,
    }
}

async fn fetch_answers(
    http: &reqwest::Client,
    base: &str,
    paths: &[String],
    encoding: Option<&str>,
) -> Vec<Answer> {
    let mut answers = Vec::new();
    for path in paths {
        let response = get(http, &format!("{base}{path}"), encoding)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        let content_encoding = response
            .headers()
            .get(header::CONTENT_ENCODING)
            .map(|value| value.to_str().unwrap().to_owned());
        let body = response.bytes().await.unwrap();
        answers.push(Answer {
            body,
            content_encoding,
        });
    }
    answers
}

/// A request for every path, shared among `connections` keep-alive connections that each ask
/// one at a time.
async fn one_round(
    http: &reqwest::Client,
    base: &str,
    paths: &[String],
    encoding: Option<&'static str>,
    connections: usize,
) -> Vec<Duration> {
    let tasks: Vec<_> = (0..connections)
        .map(|connection| {
            let urls: Vec<String> = paths
                .iter()
                .skip(connection)
                .step_by(connections)
                .map(|path| format!("{base}{path}"))
                .collect();
            tokio::spawn(timed_requests(http.clone(), urls, encoding))
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    latencies
}

async fn timed_requests(
    http: reqwest::Client,
    urls: Vec<String>,
    encoding: Option<&str>,
) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(urls.len());
    for url in urls {
        let sent = Instant::now();
        let response = get(&http, &url, encoding).send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{url}: {}",
            response.status()
        );
        std::hint::black_box(response.bytes().await.unwrap());
        latencies.push(sent.elapsed());
    }
    latencies
}

/// Answers by path, for requests with (true) and without an `Accept-Encoding`.
type FloorAnswers = HashMap<bool, HashMap<String, Answer>>;

/// Starts the floor on the current runtime; returns its base URL.
async fn start_floor(answers: FloorAnswers) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve_floor(listener, Arc::new(answers)));
    base
}

/// Bare hyper: each request answered with bytes already in memory.
async fn serve_floor(listener: tokio::net::TcpListener, answers: Arc<FloorAnswers>) {
    loop {
        let (stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        let answers = answers.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let response = floor_answer(&answers, &request);
                async move { Ok::<_, Infallible>(response) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn floor_answer<B>(answers: &FloorAnswers, request: &Request<B>) -> Response<Body> {
    let encoded = request.headers().contains_key(header::ACCEPT_ENCODING);
    let answer = &answers[&encoded][request.uri().path()];
    let mut response = Response::builder()
        .header(header::CONTENT_TYPE, "application/vnd.mapbox-vector-tile")
        .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable");
    if let Some(encoding) = &answer.content_encoding {
        response = response.header(header::CONTENT_ENCODING, encoding);
    }
    response.body(Body::from(answer.body.clone())).unwrap()
}

fn report_http(runs: &[HttpRun]) {
    let requests = runs[0].hub.len();
    println!();
    println!("a cached tile over HTTP/1.1 on loopback: {requests} requests per row");
    println!(
        "answered with | mean bytes | conns | hub p50 ms | hub p99 ms | floor p50 ms | floor p99 ms | hub/floor p50 | hub/floor p99"
    );
    for run in runs {
        let hub = (percentile(&run.hub, 0.5), percentile(&run.hub, 0.99));
        let floor = (percentile(&run.floor, 0.5), percentile(&run.floor, 0.99));
        println!(
            "{:>13} | {:>10.0} | {:>5} | {:>10.3} | {:>10.3} | {:>12.3} | {:>12.3} | {:>13.2} | {:>13.2}",
            run.answered_with,
            run.mean_bytes,
            run.connections,
            millis(hub.0),
            millis(hub.1),
            millis(floor.0),
            millis(floor.1),
            hub.0.as_secs_f64() / floor.0.as_secs_f64(),
            hub.1.as_secs_f64() / floor.1.as_secs_f64(),
        );
    }
    println!("target: hub/floor p99 <= 1.5");
}

fn percentile(latencies: &[Duration], q: f64) -> Duration {
    let mut sorted = latencies.to_vec();
    sorted.sort_unstable();
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
