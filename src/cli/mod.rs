//! The command line: `vedetta serve`, `zones`, `users`, `backup`, `purge`, `config`.

mod backup;
mod purge;
mod serve;
mod users;
mod zones;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::config::{self, Config, Overrides};

#[derive(Debug, Parser)]
#[command(
    name = "vedetta",
    version,
    about = "Emergency communication and reporting hub for civil-protection offices",
    long_about = "Vedetta publishes verified emergency notices and collects geolocated reports \
                  over HTTP, Open311, WebSocket and MQTT, keeping everything in one SQLite file.\n\n\
                  Logging follows VEDETTA_LOG (e.g. VEDETTA_LOG=debug), default info."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the hub: HTTP API, Open311, WebSocket and the MQTT client.
    Serve(serve::ServeArgs),
    /// Manage zone sets (municipalities, provinces, regions, districts).
    #[command(subcommand)]
    Zones(zones::ZonesCommand),
    /// Print the configuration in effect (defaults, file, VEDETTA_* variables, flags) as TOML.
    /// A bad configuration is reported exactly as `serve` would report it.
    Config(serve::ServeArgs),
    /// Write a consistent copy of the database to a new file; safe while the hub runs.
    Backup(backup::BackupArgs),
    /// Manage staff accounts.
    #[command(subcommand)]
    Users(users::UsersCommand),
    /// Delete reporters' contact details and photos older than the retention period now
    /// (the hub also does it on its own every `retention.purge_every_hours`).
    Purge(purge::PurgeArgs),
}

/// Where the configuration and the data live; shared by every command.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// TOML configuration file. Keys not in it keep their defaults.
    #[arg(long, env = "VEDETTA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory of the SQLite database [default: ./vedetta-data].
    #[arg(long, env = "VEDETTA_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

impl StoreArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            config_file: self.config.clone(),
            data_dir: self.data_dir.clone(),
            ..Overrides::default()
        }
    }
}

/// Runs a parsed command line; the exit code tells a service manager what happened.
pub fn main(cli: Cli) -> ExitCode {
    init_logging();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => return fail(&anyhow::Error::new(err)),
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Zones(command) => zones::run(command).await,
            Command::Config(args) => serve::print_config(args),
            Command::Backup(args) => backup::run(args),
            Command::Users(command) => users::run(command).await,
            Command::Purge(args) => purge::run(args),
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&err),
    }
}

fn fail(err: &anyhow::Error) -> ExitCode {
    eprintln!("error: {err:#}");
    if err.downcast_ref::<config::ConfigError>().is_some() {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}

fn init_logging() {
    let filter = EnvFilter::try_from_env("VEDETTA_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

fn load_config(overrides: &Overrides) -> anyhow::Result<Config> {
    Ok(config::load(overrides)?)
}
