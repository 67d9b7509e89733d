//! `vedetta zones import|list|remove`: manage zone sets in the database.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand};

use super::StoreArgs;
use crate::store;
use crate::zones::{ImportSpec, read_feature_collection, records_from};

#[derive(Debug, Subcommand)]
pub enum ZonesCommand {
    /// Import a GeoJSON FeatureCollection (plain or .gz) as one level, replacing that level.
    Import(ImportArgs),
    /// Show how many zones each level has.
    List(ListArgs),
    /// Delete every zone of a level.
    Remove(RemoveArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// GeoJSON file of Polygon/MultiPolygon features in WGS84, optionally gzipped.
    pub file: PathBuf,
    /// Level name for these zones, e.g. municipality, province, region.
    #[arg(long)]
    pub level: String,
    /// Feature property holding the zone id (unique across levels), e.g. com_istat_code.
    #[arg(long, value_name = "PROPERTY")]
    pub id_prop: String,
    /// Feature property holding the display name.
    #[arg(long, value_name = "PROPERTY")]
    pub name_prop: String,
    /// Feature property holding the id of the enclosing zone, e.g. prov_istat_code.
    #[arg(long, value_name = "PROPERTY")]
    pub parent_prop: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    #[arg(long)]
    pub level: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub(super) async fn run(command: ZonesCommand) -> anyhow::Result<()> {
    match command {
        ZonesCommand::Import(args) => import(args),
        ZonesCommand::List(args) => list(&args.store),
        ZonesCommand::Remove(args) => remove(args),
    }
}

fn open(args: &StoreArgs) -> anyhow::Result<rusqlite::Connection> {
    let config = super::load_config(&args.overrides())?;
    store::open_for_tool(&config.data_dir)
        .with_context(|| format!("cannot open the database in {}", config.data_dir.display()))
}

fn import(args: ImportArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let spec = ImportSpec {
        level: args.level.clone(),
        id_prop: args.id_prop,
        name_prop: args.name_prop,
        parent_prop: args.parent_prop,
    };
    let collection = read_feature_collection(&args.file)?;
    let records = records_from(collection, &spec)?;
    let mut conn = open(&args.store)?;
    let tx = conn.transaction()?;
    let count = store::zones::replace_level(
        &tx,
        &spec.level,
        &records,
        chrono::Utc::now().timestamp_millis(),
    )?;
    tx.commit()?;
    println!(
        "imported {count} zones at level `{}` in {:.1} s; restart the hub or send it SIGHUP to use them",
        spec.level,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn list(args: &StoreArgs) -> anyhow::Result<()> {
    let conn = open(args)?;
    let levels = store::zones::levels(&conn)?;
    if levels.is_empty() {
        println!("no zones; import some with `vedetta zones import`");
    }
    for (level, count) in levels {
        println!("{level}\t{count}");
    }
    Ok(())
}

fn remove(args: RemoveArgs) -> anyhow::Result<()> {
    let conn = open(&args.store)?;
    let removed = store::zones::remove_level(&conn, &args.level)?;
    println!("removed {removed} zones at level `{}`", args.level);
    Ok(())
}
