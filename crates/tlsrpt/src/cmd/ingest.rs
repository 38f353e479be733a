//! `tlsrpt ingest PATH...`: reads reports from files, directories, mbox and Maildir.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use tlsrpt_store::{NewInput, Store};

use crate::cli::IngestArgs;
use crate::output::{print_line, terminal_safe};
use tlsrpt_intake::{Progress, Settings};

pub async fn run(store: &Store, args: IngestArgs) -> anyhow::Result<ExitCode> {
    let mut limits = tlsrpt_ingest::Limits {
        max_input_bytes: args.max_input_size,
        max_decompressed_bytes: args.max_decompressed_size,
        ..tlsrpt_ingest::Limits::default()
    };
    limits.report.max_bytes = args.max_decompressed_size.max(args.max_input_size);
    let show_bar = !args.no_progress && std::io::stderr().is_terminal();
    let settings = Settings {
        limits,
        batch_size: args.batch_size as usize,
        held_bytes: args.max_held_size,
        count_files: show_bar,
    };
    let mut progress = Bar {
        bar: show_bar.then(ProgressBar::hidden),
    };
    let started = Instant::now();
    let summary = tlsrpt_intake::ingest_paths(store, args.paths, &settings, &mut progress).await;
    if let Some(bar) = &progress.bar {
        bar.finish_and_clear();
    }
    let summary = summary
        .with_context(|| format!("cannot store reports in the database {}", store.location()))?;
    if args.json {
        print_line(&serde_json::to_string(&summary)?)?;
    } else {
        print_line(&format!(
            "{} stored, {} duplicates, {} rejected, {} not TLS reports ({:.1} s)",
            summary.stored,
            summary.duplicates,
            summary.rejected,
            summary.not_reports,
            started.elapsed().as_secs_f64()
        ))?;
    }
    Ok(if summary.rejected > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// A progress bar on stderr, when it is a terminal; rejections are listed either way.
struct Bar {
    bar: Option<ProgressBar>,
}

impl Progress for Bar {
    fn planned(&mut self, files: u64) {
        if let Some(bar) = &mut self.bar {
            *bar = ProgressBar::new(files).with_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} files, {per_sec}, eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
        }
    }

    fn file_done(&mut self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn rejected(&mut self, input: &NewInput, reason: &str) {
        let location = match &input.part {
            Some(part) => format!("{} [{part}]", input.locator),
            None => input.locator.clone(),
        };
        let line = terminal_safe(&format!("rejected: {location}: {reason}"));
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}
