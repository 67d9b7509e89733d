//! Zones: loading Italy's 7,899 municipalities, and point-to-municipality lookups against
//! PostGIS `ST_Contains` with a GiST index on the same points, in the same run.
//!
//! Run with `cargo bench --bench zones`. PostGIS is measured when `psql` reaches a server with
//! the extension (here: `apt-get install postgresql-15-postgis-3`, trust auth on 127.0.0.1);
//! its time is the server's own execution time for one join over every point, so client
//! round trips are not counted against it.

#[path = "support/psql.rs"]
mod psql;

use std::path::Path;
use std::time::{Duration, Instant};

use geo::InteriorPoint;
use vedetta::reports::Location;
use vedetta::zones::{ImportSpec, ZoneIndex, ZoneRecord, read_feature_collection, records_from};

use psql::{psql, psql_with_input};

const POINTS: usize = 20_000;
const ROUNDS: usize = 15;
const DATABASE: &str = "vedetta_bench";

fn main() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/italy/municipalities.geojson.gz");
    let started = Instant::now();
    let spec = ImportSpec {
        level: "municipality".into(),
        id_prop: "com_istat_code".into(),
        name_prop: "name".into(),
        parent_prop: None,
    };
    let records =
        records_from(read_feature_collection(&file).expect("shared data"), &spec).unwrap();
    let parsed = started.elapsed();
    let index = ZoneIndex::new(records.iter().map(|record| record.zone.clone()).collect());
    println!(
        "loaded {} municipalities: parse {:.2} s, index {:.2} s (target < 1 s), lookup grid {:.1} MB",
        records.len(),
        parsed.as_secs_f64(),
        (started.elapsed() - parsed).as_secs_f64(),
        index.lookup_bytes() as f64 / 1e6
    );

    let points = sample_points(&records);
    let (hub, hub_hits) = measure_hub(&index, &points);
    println!("{POINTS} points ({} inside a municipality)", hub_hits);
    println!(
        "hub     : {:>8.2} µs per lookup (median of {ROUNDS} rounds)",
        micros(hub)
    );
    match measure_postgis(&records, &points) {
        Ok((postgis, postgis_hits)) => {
            println!(
                "postgis : {:>8.2} µs per lookup (ST_Contains + GiST, server execution time; {postgis_hits} hits)",
                micros(postgis)
            );
            println!(
                "postgis/hub = {:.1}x (target >= 50x)",
                postgis.as_secs_f64() / hub.as_secs_f64()
            );
        }
        Err(why) => println!("postgis : not measured ({why})"),
    }
}

fn micros(per_lookup: Duration) -> f64 {
    per_lookup.as_secs_f64() * 1e6
}

/// Half the points inside random municipalities, half anywhere in Italy's bounding box (sea too).
fn sample_points(records: &[ZoneRecord]) -> Vec<Location> {
    let mut random = XorShift(0x9E37_79B9_7F4A_7C15);
    (0..POINTS)
        .map(|n| {
            if n % 2 == 0 {
                let zone = &records[random.below(records.len())].zone;
                let point = zone
                    .geometry
                    .interior_point()
                    .expect("a municipality has an interior");
                Location {
                    lat: point.y(),
                    lon: point.x(),
                }
            } else {
                Location {
                    lat: 35.5 + random.unit() * 11.6,
                    lon: 6.6 + random.unit() * 12.0,
                }
            }
        })
        .collect()
}

fn measure_hub(index: &ZoneIndex, points: &[Location]) -> (Duration, usize) {
    let mut rounds = Vec::new();
    let mut hits = 0;
    for _ in 0..ROUNDS {
        let started = Instant::now();
        hits = points
            .iter()
            .filter(|point| !index.locate(**point).is_empty())
            .count();
        rounds.push(started.elapsed() / points.len() as u32);
    }
    rounds.sort();
    (rounds[ROUNDS / 2], hits)
}

fn measure_postgis(
    records: &[ZoneRecord],
    points: &[Location],
) -> Result<(Duration, usize), String> {
    psql("postgres", &format!("DROP DATABASE IF EXISTS {DATABASE}"))?;
    psql("postgres", &format!("CREATE DATABASE {DATABASE}"))?;
    psql(DATABASE, "CREATE EXTENSION postgis")?;
    psql(
        DATABASE,
        "CREATE TABLE m (id text, geojson text); CREATE TABLE p (n int, lon float8, lat float8)",
    )?;
    let zones: String = records
        .iter()
        .map(|r| format!("{}\t{}\n", r.zone.id, r.geometry_json.replace('\\', "\\\\")))
        .collect();
    psql_with_input(DATABASE, "COPY m FROM STDIN", &zones)?;
    let rows: String = points
        .iter()
        .enumerate()
        .map(|(n, p)| format!("{n}\t{}\t{}\n", p.lon, p.lat))
        .collect();
    psql_with_input(DATABASE, "COPY p FROM STDIN", &rows)?;
    psql(
        DATABASE,
        "ALTER TABLE m ADD COLUMN geom geometry; UPDATE m SET geom = ST_SetSRID(ST_GeomFromGeoJSON(geojson), 4326);
         CREATE INDEX ON m USING gist (geom);
         ALTER TABLE p ADD COLUMN geom geometry; UPDATE p SET geom = ST_SetSRID(ST_Point(lon, lat), 4326)",
    )?;
    // VACUUM cannot share a transaction with anything, so each gets its own call.
    psql(DATABASE, "VACUUM ANALYZE m")?;
    psql(DATABASE, "VACUUM ANALYZE p")?;
    let join = "SELECT count(*) FROM p JOIN m ON ST_Contains(m.geom, p.geom)";
    let hits: usize = psql(DATABASE, join)?
        .trim()
        .parse()
        .map_err(|_| "unexpected count".to_owned())?;
    let mut rounds = Vec::new();
    for _ in 0..5 {
        let plan = psql(DATABASE, &format!("EXPLAIN (ANALYZE, FORMAT JSON) {join}"))?;
        let plan: serde_json::Value = serde_json::from_str(&plan).map_err(|err| err.to_string())?;
        let ms = plan[0]["Execution Time"]
            .as_f64()
            .ok_or("no execution time in the plan")?;
        rounds.push(Duration::from_secs_f64(ms / 1000.0) / points.len() as u32);
    }
    let _ = psql("postgres", &format!("DROP DATABASE IF EXISTS {DATABASE}"));
    rounds.sort();
    Ok((rounds[rounds.len() / 2], hits))
}

/// A small deterministic generator, so every run uses the same points.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
