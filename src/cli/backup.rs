//! `vedetta backup FILE`: an online, consistent copy of the database.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;

use super::StoreArgs;
use crate::store;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The new file to write; it must not exist yet.
    pub file: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `VACUUM INTO` reads one snapshot of the database, so writers keep going and the copy is
/// consistent and compact. Restoring is copying it back as `vedetta.sqlite3` with the hub stopped.
pub(super) fn run(args: BackupArgs) -> anyhow::Result<()> {
    if args.file.exists() {
        bail!(
            "{} already exists; choose a new file name",
            args.file.display()
        );
    }
    let config = super::load_config(&args.store.overrides())?;
    let conn = store::open_for_tool(&config.data_dir)
        .with_context(|| format!("cannot open the database in {}", config.data_dir.display()))?;
    let target = args
        .file
        .to_str()
        .context("the backup path must be valid UTF-8")?;
    conn.execute("VACUUM INTO ?1", [target])
        .with_context(|| format!("cannot write the backup to {}", args.file.display()))?;
    println!(
        "backed up {} to {}",
        store::DATABASE_FILE,
        args.file.display()
    );
    Ok(())
}
