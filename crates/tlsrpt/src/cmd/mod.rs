//! One module per subcommand; `run` opens what the subcommand needs and dispatches.

mod alerts;
mod check;
mod dashboard;
mod db;
mod history;
mod imap;
mod ingest;
mod metrics;
mod readiness;
mod rejected;
mod reports;
mod serve;
mod stats;

use std::process::ExitCode;

use anyhow::Context as _;
use tlsrpt_store::Store;

pub use check::{CheckArgs, CheckerArgs};

use crate::cli::{Cli, Command, DbCommand, ExportCommand, ImapCommand};

/// Runs the subcommand and returns the process exit status.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check(args) => check::run(args, cli.database_url).await,
        Command::Ingest(args) => ingest::run(&open_store(cli.database_url).await?, args).await,
        Command::Imap(ImapCommand::Sync(args)) => {
            imap::sync(&open_store(cli.database_url).await?, *args).await
        }
        Command::Serve(args) => serve::run(&open_store(cli.database_url).await?, *args).await,
        Command::Reports(args) => reports::run(&open_store(cli.database_url).await?, args).await,
        Command::Rejected(args) => rejected::run(&open_store(cli.database_url).await?, args).await,
        Command::Stats(args) => stats::run(&open_store(cli.database_url).await?, args).await,
        Command::Readiness(args) => {
            readiness::run(&open_store(cli.database_url).await?, args).await
        }
        Command::Export(ExportCommand::Readiness(args)) => {
            readiness::export(&open_store(cli.database_url).await?, args).await
        }
        Command::Db(DbCommand::Check(args)) => {
            db::check(&open_store(cli.database_url).await?, args).await
        }
        Command::Alerts(args) => alerts::run(&open_store(cli.database_url).await?, args).await,
    }
}

async fn open_store(url: Option<String>) -> anyhow::Result<Store> {
    let url = url.unwrap_or_else(|| tlsrpt_store::default_database_path().display().to_string());
    Store::open(&url).await.context("cannot use the database")
}
