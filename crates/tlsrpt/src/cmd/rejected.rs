//! `tlsrpt rejected`: the rejected inputs and their reasons, and the bytes kept of each.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use tlsrpt_store::Store;

use crate::cli::RejectedArgs;
use crate::output::{print_line, terminal_safe};

pub async fn run(store: &Store, args: RejectedArgs) -> anyhow::Result<ExitCode> {
    if let Some(id) = args.raw {
        let Some(bytes) = store.input_bytes(id).await? else {
            anyhow::bail!("input {id} does not exist or has no kept bytes");
        };
        match &args.output {
            Some(path) => std::fs::write(path, &bytes)
                .with_context(|| format!("cannot write {}", path.display()))?,
            None if std::io::stdout().is_terminal() => {
                anyhow::bail!("refusing to write raw bytes to a terminal: use -o FILE or a pipe")
            }
            None => {
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(&bytes)?;
                stdout.flush()?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let rejected = store.rejected_inputs(i64::from(args.limit)).await?;
    if args.json {
        #[derive(serde::Serialize)]
        struct Output<'a> {
            rejected: &'a [tlsrpt_store::RejectedInput],
        }
        print_line(&serde_json::to_string(&Output {
            rejected: &rejected,
        })?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if rejected.is_empty() {
        print_line("no rejected inputs")?;
    }
    for r in &rejected {
        let when = chrono::DateTime::from_timestamp(r.received_at, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        let part = r
            .part
            .as_deref()
            .map(|p| format!(" [{p}]"))
            .unwrap_or_default();
        let kept = match (r.raw_size, r.raw_complete) {
            (Some(size), Some(true)) => format!("{size} bytes kept"),
            (Some(size), _) => format!("first bytes of {size} kept"),
            _ => "nothing kept".to_owned(),
        };
        print_line(&terminal_safe(&format!(
            "{:>6}  {when}  {} {}{part}\n        {}  ({kept})",
            r.id, r.source, r.locator, r.reason
        )))?;
    }
    Ok(ExitCode::SUCCESS)
}
