//! `vedetta purge`: delete contact details and photos past the retention period, now.

use anyhow::Context;
use clap::Args;

use super::StoreArgs;
use crate::store;
use crate::triage::purge_older_than;

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Purge reports older than this many days instead of `retention.personal_data_days`.
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..))]
    pub older_than_days: Option<u32>,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Safe beside a running hub: SQLite serialises the writes, and the purge is one transaction.
pub(super) fn run(args: PurgeArgs) -> anyhow::Result<()> {
    let config = super::load_config(&args.store.overrides())?;
    let days = args
        .older_than_days
        .unwrap_or(config.retention.personal_data_days);
    let mut conn = store::open_for_tool(&config.data_dir)
        .with_context(|| format!("cannot open the database in {}", config.data_dir.display()))?;
    let transaction = conn.transaction()?;
    let purged = purge_older_than(&transaction, days, chrono::Utc::now(), "cli")?;
    transaction.commit()?;
    println!("purged contact details and photos of {purged} reports older than {days} days");
    Ok(())
}
