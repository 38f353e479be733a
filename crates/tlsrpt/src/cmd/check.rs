//! `tlsrpt check`: the live MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) check of one or many
//! domains, printed as text grouped by record or as a JSON array, each stored with the
//! changes since the domain's previous check.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use tlsrpt_check::{Change, CheckConfig, CheckError, Checker, DomainReport, Verdict};
use tlsrpt_watch::{Recorded, Watcher};

use super::history;
use crate::output::{print_line, terminal_safe};

/// Exit status of a usage error (no domain, unreadable file).
const USAGE_ERROR: u8 = 2;

/// Check domains live: the _mta-sts record, the HTTPS policy, every MX host's STARTTLS and
/// certificate, and the TLS-RPT record. Exits 0 when no finding is an error, 1 when one
/// is, 2 on a usage error.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Domains to check.
    #[arg(value_name = "DOMAIN")]
    pub domains: Vec<String>,

    /// Also check the domains listed in this file, one per line (blank lines and lines
    /// starting with # are skipped).
    #[arg(long, env = "TLSRPT_CHECK_FILE", value_name = "PATH")]
    pub file: Option<PathBuf>,

    /// Print a JSON array with one object per domain instead of text.
    #[arg(long, env = "TLSRPT_CHECK_JSON")]
    pub json: bool,

    /// How many domains to check at the same time.
    #[arg(
        long,
        env = "TLSRPT_CHECK_CONCURRENCY",
        value_name = "N",
        default_value_t = 16,
        value_parser = clap::value_parser!(u16).range(1..=1024)
    )]
    pub concurrency: u16,

    #[command(flatten)]
    pub checker: CheckerArgs,

    /// Do not store the results. Without it every check is stored in the database (when
    /// it can be opened) and the changes since the domain's previous check are printed.
    #[arg(long, env = "TLSRPT_CHECK_NO_SAVE", conflicts_with = "history")]
    pub no_save: bool,

    /// List the stored checks of the DOMAINs and what changed at each, newest first,
    /// instead of checking them.
    #[arg(long, env = "TLSRPT_CHECK_HISTORY", conflicts_with_all = ["file", "concurrency"])]
    pub history: bool,

    /// With --history: how many checks to list per domain.
    #[arg(long, env = "TLSRPT_LIMIT", value_name = "N", default_value_t = 20)]
    pub limit: u32,
}

/// How the checker reaches the network; shared by `tlsrpt check` and `tlsrpt serve`.
#[derive(clap::Args, Debug)]
pub struct CheckerArgs {
    /// DNS server to query instead of the system resolver.
    #[arg(long, env = "TLSRPT_DNS_SERVER", value_name = "IP:PORT")]
    pub dns_server: Option<SocketAddr>,

    /// PEM file of extra trust anchors, used for the policy host and the MX hosts in
    /// addition to the public roots.
    #[arg(long, env = "TLSRPT_CA_FILE", value_name = "PEM")]
    pub ca_file: Option<PathBuf>,

    /// Connect to loopback, private, link-local and other non-public addresses. Without
    /// it such targets are refused and reported as address-not-public.
    #[arg(long, env = "TLSRPT_ALLOW_PRIVATE_ADDRESSES")]
    pub allow_private_addresses: bool,

    /// Overall deadline for fetching one policy, in seconds.
    #[arg(
        long,
        env = "TLSRPT_POLICY_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = 60
    )]
    pub policy_timeout: u64,

    /// Time allowed for each SMTP reply and the STARTTLS handshake, in seconds.
    #[arg(
        long,
        env = "TLSRPT_SMTP_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = 30
    )]
    pub smtp_timeout: u64,
}

impl CheckerArgs {
    /// The checker these options describe.
    pub fn checker(&self) -> Result<Checker, CheckError> {
        let smtp_timeout = Duration::from_secs(self.smtp_timeout.max(1));
        Checker::new(CheckConfig {
            dns_server: self.dns_server,
            ca_file: self.ca_file.clone(),
            allow_private_addresses: self.allow_private_addresses,
            policy_deadline: Duration::from_secs(self.policy_timeout.max(1)),
            connect_timeout: smtp_timeout.min(Duration::from_secs(10)),
            smtp_timeout,
            ..CheckConfig::default()
        })
    }
}

/// Runs the check, stores the results (unless `--no-save`) and prints the reports with
/// the changes since each domain's previous check; or, with `--history`, lists the stored
/// checks.
pub async fn run(args: CheckArgs, database_url: Option<String>) -> anyhow::Result<ExitCode> {
    let domains = match domains(&args) {
        Ok(domains) => domains,
        Err(message) => return Ok(usage_error(&message)),
    };
    if args.history {
        let store = super::open_store(database_url).await?;
        return history::run(&store, &domains, args.limit, args.json).await;
    }
    if domains.is_empty() {
        return Ok(usage_error(
            "no domain to check: name domains on the command line or with --file",
        ));
    }
    let checker = match args.checker.checker() {
        Ok(checker) => checker,
        Err(e @ (CheckError::CaFile { .. } | CheckError::TrustAnchor { .. })) => {
            return Ok(usage_error(&e.to_string()));
        }
        Err(e) => return Err(e.into()),
    };

    let progress = progress_bar(domains.len());
    let reports = checker
        .check_many(&domains, usize::from(args.concurrency), |report| {
            if let Some(bar) = &progress {
                bar.set_message(terminal_safe(&report.domain));
                bar.inc(1);
            }
        })
        .await;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let recorded = if args.no_save {
        vec![None; reports.len()]
    } else {
        record(checker, database_url, &reports).await
    };

    if args.json {
        print_line(&serde_json::to_string_pretty(&json_reports(
            &reports, &recorded,
        ))?)?;
    } else {
        print_text(&reports, &recorded)?;
    }
    Ok(if reports.iter().any(DomainReport::has_errors) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Stores every report and returns what changed since each domain's previous check.
/// Storage never fails the check: problems are warnings on stderr.
async fn record(
    checker: Checker,
    database_url: Option<String>,
    reports: &[DomainReport],
) -> Vec<Option<Recorded>> {
    let store = match super::open_store(database_url).await {
        Ok(store) => store,
        Err(e) => {
            eprintln!(
                "warning: the results are not stored: {}",
                terminal_safe(&format!("{e:#}"))
            );
            return vec![None; reports.len()];
        }
    };
    let watcher = Watcher::new(checker, store);
    let mut recorded = Vec::with_capacity(reports.len());
    for report in reports {
        recorded.push(match watcher.record(report).await {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!(
                    "warning: the check of {} is not stored: {}",
                    terminal_safe(&report.domain),
                    terminal_safe(&format!("{e:#}"))
                );
                None
            }
        });
    }
    watcher.store().close().await;
    recorded
}

/// One element of the `--json` array: the report's own keys, in order, then the changes
/// since the previous stored check and when that check ran.
#[derive(serde::Serialize)]
struct JsonReport<'a> {
    #[serde(flatten)]
    report: &'a DomainReport,
    changes: &'a [Change],
    previous_check_at: Option<DateTime<Utc>>,
}

fn json_reports<'a>(
    reports: &'a [DomainReport],
    recorded: &'a [Option<Recorded>],
) -> Vec<JsonReport<'a>> {
    reports
        .iter()
        .zip(recorded)
        .map(|(report, recorded)| JsonReport {
            report,
            changes: recorded.as_ref().map_or(&[], |r| &r.changes),
            previous_check_at: recorded.as_ref().and_then(|r| r.previous_at),
        })
        .collect()
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {}", terminal_safe(message));
    ExitCode::from(USAGE_ERROR)
}

/// The domains from the command line, then from `--file`, without duplicates (maybe none).
fn domains(args: &CheckArgs) -> Result<Vec<String>, String> {
    let mut domains: Vec<String> = args.domains.iter().map(|d| d.trim().to_owned()).collect();
    if let Some(path) = &args.file {
        domains.extend(read_domain_file(path)?);
    }
    let mut seen = std::collections::HashSet::new();
    domains.retain(|d| !d.is_empty() && seen.insert(d.to_ascii_lowercase()));
    Ok(domains)
}

fn read_domain_file(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the domain list {}: {e}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect())
}

/// A progress bar on stderr for bulk runs, only when stderr is a terminal.
fn progress_bar(total: usize) -> Option<ProgressBar> {
    if total < 2 || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(u64::try_from(total).unwrap_or(u64::MAX));
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} domains, {elapsed} {msg}")
    {
        bar.set_style(style);
    }
    Some(bar)
}

fn print_text(reports: &[DomainReport], recorded: &[Option<Recorded>]) -> std::io::Result<()> {
    for (i, (report, recorded)) in reports.iter().zip(recorded).enumerate() {
        if i > 0 {
            print_line("")?;
        }
        print_line(terminal_safe(&report.to_text()).trim_end())?;
        if let Some(Recorded {
            changes,
            previous_at: Some(since),
            ..
        }) = recorded
        {
            print_line(&terminal_safe(&history::changes_text(*since, changes)))?;
        }
    }
    if reports.len() > 1 {
        let count = |v: Verdict| reports.iter().filter(|r| r.verdict == v).count();
        print_line("")?;
        print_line(&format!(
            "{} domains: {} pass, {} warn, {} fail",
            reports.len(),
            count(Verdict::Pass),
            count(Verdict::Warn),
            count(Verdict::Fail)
        ))?;
    }
    Ok(())
}
