//! `tlsrpt readiness` and `tlsrpt export readiness`: the advisor's verdicts from the stored
//! reports and the latest stored live check, printed or written as an export. Works
//! offline: without a fresh check the verdict says so and cannot be "ready".

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use chrono::Utc;
use tlsrpt_advisor::{self as advisor, Trust};
use tlsrpt_readiness::Thresholds;
use tlsrpt_readiness::export::Format;
use tlsrpt_store::Store;

use crate::cli::{AdviceArgs, ExportReadinessArgs, ReadinessArgs};
use crate::output::{print_line, terminal_safe};

/// The thresholds and trust chosen on the command line.
fn advice(args: &AdviceArgs) -> (Thresholds, Trust) {
    let defaults = Thresholds::default();
    let thresholds = Thresholds {
        window_days: args.window_days,
        max_window_days: defaults.max_window_days.max(args.window_days),
        ..defaults
    };
    let trust = if args.count_untrusted {
        Trust::All
    } else {
        Trust::Trusted
    };
    (thresholds, trust)
}

/// `tlsrpt readiness DOMAIN [--json]`.
pub async fn run(store: &Store, args: ReadinessArgs) -> anyhow::Result<ExitCode> {
    let (thresholds, trust) = advice(&args.advice);
    let assessment = advisor::assess(store, &args.domain, Utc::now(), &thresholds, trust)
        .await
        .context("cannot read the stored reports")?;
    let text = if args.json {
        serde_json::to_string_pretty(&assessment)?
    } else {
        terminal_safe(&Format::Markdown.render(std::slice::from_ref(&assessment)))
    };
    print_line(text.trim_end())?;
    Ok(ExitCode::SUCCESS)
}

/// `tlsrpt export readiness (--domain D… | --all) --format F [-o FILE]`.
pub async fn export(store: &Store, args: ExportReadinessArgs) -> anyhow::Result<ExitCode> {
    let (thresholds, trust) = advice(&args.advice);
    let now = Utc::now();
    let assessments = if args.all {
        advisor::assess_all(store, now, &thresholds, trust).await?
    } else {
        let mut list = Vec::new();
        for domain in &args.domain {
            list.push(advisor::assess(store, domain, now, &thresholds, trust).await?);
        }
        list
    };
    if assessments.is_empty() {
        bail!("no domain to export: the database has no report and no check yet");
    }
    let body = args.format.render(&assessments);
    match &args.output {
        Some(path) => {
            std::fs::write(path, body)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "wrote the readiness of {} domain(s) to {}",
                assessments.len(),
                path.display()
            );
        }
        // Terminal escapes in report strings are neutralised only for a terminal; a
        // redirected export is written as is, already escaped for its format.
        None if std::io::IsTerminal::is_terminal(&std::io::stdout()) => {
            print_line(terminal_safe(&body).trim_end())?;
        }
        None => {
            use std::io::Write as _;
            std::io::stdout().write_all(body.as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
