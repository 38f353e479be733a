//! The command line: global options and one struct per subcommand. Every option can also
//! be set through the environment variable named in `--help`.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

/// Take mail domains from MTA-STS `mode: testing` to `mode: enforce` safely, with evidence.
///
/// Ingests SMTP TLS reports (RFC 8460), stores them, and reports on them.
#[derive(Debug, Parser)]
#[command(name = "tlsrpt", version, propagate_version = true)]
pub struct Cli {
    /// Database to use: a SQLite file path or `sqlite:PATH`. Created on first use.
    /// [default: $XDG_DATA_HOME/tlsrpt/tlsrpt.db, else ~/.local/share/tlsrpt/tlsrpt.db]
    #[arg(long, env = "TLSRPT_DATABASE_URL", global = true, value_name = "URL")]
    pub database_url: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ingest TLS reports from files, directories, mbox archives and Maildir folders.
    ///
    /// Formats are recognised by content: JSON, gzip, zip, base64, and mail messages with
    /// report attachments. Directories are read recursively. Every input is recorded with
    /// its outcome; rejected inputs are kept in the database with their reason.
    ///
    /// Exit status: 0 when nothing was rejected, 2 when something was, 1 on a fatal error.
    Ingest(IngestArgs),
    /// Print session and failure totals per policy domain and policy type.
    Stats(StatsArgs),
    /// List rejected inputs with their reasons, or write out the bytes kept of one.
    ///
    /// Every rejected input is kept in the database (gzip-compressed), so that it can be
    /// inspected, and re-ingested once the cause is fixed.
    Rejected(RejectedArgs),
    /// Check the live MTA-STS and TLS-RPT configuration of domains.
    ///
    /// Reads the _mta-sts TXT record, fetches the HTTPS policy, matches the MX hosts
    /// against it, probes STARTTLS and the certificate of every MX address, and reads the
    /// _smtp._tls record. Every problem is a finding with a stable code and advice.
    ///
    /// Exit status: 0 when no error-level finding, 1 when any, 2 for a usage error.
    Check(crate::cmd::CheckArgs),
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files, directories, mbox archives or Maildir folders to read.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Print the summary as JSON: {"stored":N,"duplicates":N,"rejected":N,"not_reports":N}.
    #[arg(long, env = "TLSRPT_JSON")]
    pub json: bool,

    /// Largest input (file or message) accepted, e.g. 50MiB. Larger inputs are rejected
    /// and their first MiB kept.
    #[arg(long, env = "TLSRPT_MAX_INPUT_SIZE", default_value = "50MiB", value_parser = parse_size, value_name = "SIZE")]
    pub max_input_size: usize,

    /// Largest decompressed size of one gzip stream or zip archive, e.g. 20MiB: the
    /// guard against decompression bombs.
    #[arg(long, env = "TLSRPT_MAX_DECOMPRESSED_SIZE", default_value = "20MiB", value_parser = parse_size, value_name = "SIZE")]
    pub max_decompressed_size: usize,

    /// Inputs written per database transaction.
    #[arg(long, env = "TLSRPT_BATCH_SIZE", default_value_t = 2048, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch_size: u32,

    /// Never show a progress bar (it is shown only when stderr is a terminal).
    #[arg(long, env = "TLSRPT_NO_PROGRESS")]
    pub no_progress: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Print JSON: {"domains":[{"policy_domain","policy_type","reports",
    /// "successful_sessions","failed_sessions","failures_by_result_type":{…}}]}.
    #[arg(long, env = "TLSRPT_JSON")]
    pub json: bool,

    /// Only this policy domain.
    #[arg(long, env = "TLSRPT_DOMAIN", value_name = "DOMAIN")]
    pub domain: Option<String>,

    /// Only reports whose start-datetime is on or after this day (UTC), YYYY-MM-DD.
    #[arg(long, env = "TLSRPT_SINCE", value_name = "YYYY-MM-DD")]
    pub since: Option<NaiveDate>,

    /// Only reports whose start-datetime is on or before this day (UTC), YYYY-MM-DD.
    #[arg(long, env = "TLSRPT_UNTIL", value_name = "YYYY-MM-DD")]
    pub until: Option<NaiveDate>,
}

#[derive(Debug, Args)]
pub struct RejectedArgs {
    /// Print JSON: {"rejected":[{"id","source","locator","part","message_id","reason",
    /// "received_at","raw_size","raw_complete"}]}.
    #[arg(long, env = "TLSRPT_JSON", conflicts_with = "raw")]
    pub json: bool,

    /// List at most this many, most recent first.
    #[arg(long, env = "TLSRPT_LIMIT", default_value_t = 100)]
    pub limit: u32,

    /// Write the kept bytes of the input with this id (from the list) instead of listing.
    #[arg(long, env = "TLSRPT_REJECTED_RAW", value_name = "ID")]
    pub raw: Option<i64>,

    /// With --raw: the file to write to (default: stdout, unless it is a terminal).
    #[arg(
        long,
        short = 'o',
        env = "TLSRPT_OUTPUT",
        value_name = "FILE",
        requires = "raw"
    )]
    pub output: Option<PathBuf>,
}

/// Reads a byte size: a number with an optional unit (B, K/KB/KiB, M/MB/MiB, G/GB/GiB;
/// all binary multiples).
fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: usize = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size such as 20MiB"))?;
    let multiplier: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit {other:?}: use B, KiB, MiB or GiB"
            ));
        }
    };
    number
        .checked_mul(multiplier)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{text:?} is not a usable size"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("20MiB"), Ok(20 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5 parsecs").is_err());
    }

    #[test]
    fn command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
