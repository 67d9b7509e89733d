//! `vedetta users add|list|passwd|disable|enable`: accounts, from the machine itself.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use super::StoreArgs;
use crate::auth::{AccountSettings, Accounts, Role, UserChanges};
use crate::bus::Bus;
use crate::store::Store;

/// What the audit log records as the actor of command-line changes.
const ACTOR: &str = "cli";

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create an account. The password is asked for at a prompt, or read as one line from
    /// standard input when that is not a terminal.
    Add(AddArgs),
    /// List accounts with their roles.
    List(StoreOnly),
    /// Set a new password (ends the account's sessions).
    Passwd(NameArgs),
    /// Stop an account from logging in (ends its sessions).
    Disable(NameArgs),
    /// Let a disabled account log in again.
    Enable(NameArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Account name: lowercase letters, digits, '.', '_', '-'.
    pub name: String,
    /// viewer reads; operator drafts notices and handles reports; approver also approves
    /// notices drafted by others; admin manages accounts and reads the audit log.
    #[arg(long, value_parser = ["viewer", "operator", "approver", "admin"])]
    pub role: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct NameArgs {
    pub name: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct StoreOnly {
    #[command(flatten)]
    pub store: StoreArgs,
}

pub(super) async fn run(command: UsersCommand) -> anyhow::Result<()> {
    match command {
        UsersCommand::Add(args) => {
            let accounts = open(&args.store)?;
            let role = Role::parse(&args.role).context("unknown role")?;
            let password = read_password(&args.name)?;
            let user = accounts
                .add_user(ACTOR, &args.name, role, &password)
                .await
                .map_err(problem)?;
            println!("created `{}` ({})", user.name, user.role.as_str());
        }
        UsersCommand::List(args) => {
            for user in open(&args.store)?.list_users().await.map_err(problem)? {
                let state = if user.disabled { "disabled" } else { "enabled" };
                println!("{}\t{}\t{state}", user.name, user.role.as_str());
            }
        }
        UsersCommand::Passwd(args) => {
            let password = read_password(&args.name)?;
            change(
                &args,
                UserChanges {
                    password: Some(password),
                    ..UserChanges::default()
                },
                "password changed",
            )
            .await?;
        }
        UsersCommand::Disable(args) => {
            change(
                &args,
                UserChanges {
                    disabled: Some(true),
                    ..UserChanges::default()
                },
                "disabled",
            )
            .await?;
        }
        UsersCommand::Enable(args) => {
            change(
                &args,
                UserChanges {
                    disabled: Some(false),
                    ..UserChanges::default()
                },
                "enabled",
            )
            .await?;
        }
    }
    Ok(())
}

async fn change(args: &NameArgs, changes: UserChanges, done: &str) -> anyhow::Result<()> {
    open(&args.store)?
        .update_user(ACTOR, &args.name, changes)
        .await
        .map_err(problem)?;
    println!("`{}`: {done}", args.name);
    Ok(())
}

fn open(args: &StoreArgs) -> anyhow::Result<Accounts> {
    let config = super::load_config(&args.overrides())?;
    let store = Store::open(&config.data_dir, Bus::new())
        .with_context(|| format!("cannot open the database in {}", config.data_dir.display()))?;
    let metrics = crate::metrics::Metrics::new(store.writer_metrics());
    Ok(Accounts::new(
        store,
        crate::clock::system(),
        AccountSettings::from_config(&config),
        metrics,
    ))
}

fn read_password(name: &str) -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first = rpassword::prompt_password(format!("Password for {name}: "))?;
    let again = rpassword::prompt_password("Again: ")?;
    if first != again {
        bail!("the two passwords differ; nothing was changed");
    }
    Ok(first)
}

fn problem(problem: crate::problem::Problem) -> anyhow::Error {
    anyhow::anyhow!(problem.message)
}
