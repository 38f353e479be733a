//! `tlsrpt check`: the live MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) check of one or many
//! domains, printed as text grouped by record or as a JSON array.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tlsrpt_check::{CheckConfig, CheckError, Checker, DomainReport, Verdict};

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

/// Runs the check and prints the reports.
pub async fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let domains = match domains(&args) {
        Ok(domains) => domains,
        Err(message) => return Ok(usage_error(&message)),
    };
    let smtp_timeout = Duration::from_secs(args.smtp_timeout.max(1));
    let config = CheckConfig {
        dns_server: args.dns_server,
        ca_file: args.ca_file.clone(),
        allow_private_addresses: args.allow_private_addresses,
        policy_deadline: Duration::from_secs(args.policy_timeout.max(1)),
        connect_timeout: smtp_timeout.min(Duration::from_secs(10)),
        smtp_timeout,
        ..CheckConfig::default()
    };
    let checker = match Checker::new(config) {
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

    if args.json {
        print_line(&serde_json::to_string_pretty(&reports)?)?;
    } else {
        print_text(&reports)?;
    }
    Ok(if reports.iter().any(DomainReport::has_errors) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {}", terminal_safe(message));
    ExitCode::from(USAGE_ERROR)
}

/// The domains from the command line, then from `--file`, without duplicates.
fn domains(args: &CheckArgs) -> Result<Vec<String>, String> {
    let mut domains: Vec<String> = args.domains.iter().map(|d| d.trim().to_owned()).collect();
    if let Some(path) = &args.file {
        domains.extend(read_domain_file(path)?);
    }
    let mut seen = std::collections::HashSet::new();
    domains.retain(|d| !d.is_empty() && seen.insert(d.to_ascii_lowercase()));
    if domains.is_empty() {
        return Err(
            "no domain to check: name domains on the command line or with --file".to_owned(),
        );
    }
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

fn print_text(reports: &[DomainReport]) -> std::io::Result<()> {
    for (i, report) in reports.iter().enumerate() {
        if i > 0 {
            print_line("")?;
        }
        print_line(terminal_safe(&report.to_text()).trim_end())?;
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
