//! The `tlsrpt` command: parses the command line, runs one subcommand, and turns its
//! result into an exit status. Everything else lives in the library crates.

mod cli;
mod cmd;
mod lease;
mod mailbox;
mod output;

use std::process::ExitCode;

use clap::Parser;

/// The ingest pipeline allocates on one thread and frees on others; glibc's per-thread
/// arenas keep such memory, mimalloc returns it, which keeps peak RSS near the live data.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_logging(&cli.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cmd::run(cli)) {
        Ok(code) => code,
        Err(e) if output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", output::terminal_safe(&output::error_chain(&e)));
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr, filtered by `--log` / `TLSRPT_LOG`.
fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|e| {
        eprintln!("warning: invalid --log filter {filter:?} ({e}); using warn");
        tracing_subscriber::EnvFilter::new("warn")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
