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

    /// What to log on stderr: a level (error, warn, info, debug) or a filter such as
    /// `info,tlsrpt_store=debug`.
    #[arg(
        long,
        env = "TLSRPT_LOG",
        global = true,
        default_value = "warn",
        value_name = "FILTER"
    )]
    pub log: String,

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
    /// Ingest reports from the rua mailbox over IMAP.
    #[command(subcommand)]
    Imap(ImapCommand),
    /// Keep ingesting, until interrupted (Ctrl-C or SIGTERM): serve the HTTPS report
    /// endpoint (--listen) and watch the configured IMAP mailboxes (with IDLE where the
    /// server supports it, polling otherwise; reconnecting with backoff after errors).
    /// Known domains are re-checked every --check-interval seconds.
    ///
    /// Several instances may run against one database: each mailbox is watched by the one
    /// holding its lease (a PostgreSQL advisory lock, or a lock file beside a SQLite
    /// database), and the others stand by to take over (see --lease-retry).
    Serve(Box<ServeArgs>),
    /// List stored reports: reporter, report id, period, how each arrived (auth) and
    /// whether it is trusted (DKIM-verified mail, a token, or imported by hand).
    Reports(ReportsArgs),
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
    /// Say whether a domain can move from MTA-STS `mode: testing` to `mode: enforce`:
    /// the verdict, every criterion with its evidence, what enforce would have refused,
    /// and the plan. Prints Markdown, or the stable JSON with --json.
    Readiness(ReadinessArgs),
    /// Write reports for tickets, spreadsheets and automation.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Look after the database.
    #[command(subcommand)]
    Db(DbCommand),
    /// The alerts raised by the monitoring rules (failure spikes, new failures, policy
    /// and certificate trouble, silent reporters, domains ready for enforce): list, show,
    /// acknowledge, snooze, evaluate once (for cron), and the effective rules.
    Alerts(AlertsArgs),
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

    /// Inputs written per database transaction (fewer when they hold half of
    /// --max-held-size).
    #[arg(long, env = "TLSRPT_BATCH_SIZE", default_value_t = 8192, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch_size: u32,

    /// Most bytes of inputs read but not yet committed to hold in memory, e.g. 128MiB;
    /// a batch is committed early once it holds half of that.
    #[arg(long, env = "TLSRPT_MAX_HELD_SIZE", default_value = "128MiB", value_parser = parse_size, value_name = "SIZE")]
    pub max_held_size: usize,

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

#[derive(Debug, Subcommand)]
pub enum ImapCommand {
    /// One pass over each configured mailbox, for cron: fetch new messages by UID, store
    /// their reports, then move (or flag) each message. Messages that are not TLS reports
    /// are left untouched. A mailbox whose lease another instance holds (see --lease-retry)
    /// is skipped with a message.
    ///
    /// Exit status: 0 when every mailbox synced, 75 (EX_TEMPFAIL) when some were skipped
    /// because another instance holds them and none failed, 1 otherwise.
    Sync(Box<ImapArgs>),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to serve the HTTPS report endpoint on (POST /tlsrpt, POST /tlsrpt/TOKEN),
    /// e.g. 0.0.0.0:8443. Port 0 picks a free port; the address is printed on stderr.
    #[arg(long, env = "TLSRPT_LISTEN", value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,

    /// PEM certificate chain for built-in TLS (with --tls-key). Without it the endpoint is
    /// plain HTTP, for use behind a reverse proxy that terminates TLS.
    #[arg(
        long,
        env = "TLSRPT_TLS_CERT",
        value_name = "PEM",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for built-in TLS.
    #[arg(
        long,
        env = "TLSRPT_TLS_KEY",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,

    /// A per-domain report token, DOMAIN=TOKEN (at least 16 letters, digits, - or _);
    /// repeatable, or comma-separated in the variable. When any is set, only POST
    /// /tlsrpt/TOKEN is accepted, for reports on that token's domain.
    #[arg(
        long = "report-token",
        env = "TLSRPT_REPORT_TOKENS",
        value_delimiter = ',',
        hide_env_values = true,
        value_name = "DOMAIN=TOKEN"
    )]
    pub report_tokens: Vec<String>,

    /// Largest report body accepted over HTTPS; larger ones get 413.
    #[arg(long, env = "TLSRPT_MAX_REPORT_SIZE", default_value = "10MiB", value_parser = parse_size, value_name = "SIZE")]
    pub max_report_size: usize,

    /// Seconds a report POST may take, slow senders included; slower ones get 408. A
    /// client that has not sent its request headers within this time is disconnected.
    #[arg(
        long,
        env = "TLSRPT_REQUEST_TIMEOUT",
        default_value_t = 30,
        value_name = "SECONDS"
    )]
    pub request_timeout: u64,

    /// Requests each client address may make to the report endpoint, as a token bucket:
    /// COUNT/UNIT[,burst=N] (UNIT: s, min, h, day), or `off`. Over it: 429 with
    /// Retry-After, and the report is neither read nor stored. IPv6 clients count per /64.
    #[arg(long, env = "TLSRPT_RATE_LIMIT_PER_IP", value_name = "RATE", default_value = tlsrpt_web::RateLimits::DEFAULT_PER_IP, value_parser = parse_rate_limit)]
    pub rate_limit_per_ip: RateLimitArg,

    /// Reports each --report-token may post, as a token bucket: COUNT/UNIT[,burst=N], or
    /// `off`.
    #[arg(long, env = "TLSRPT_RATE_LIMIT_PER_TOKEN", value_name = "RATE", default_value = tlsrpt_web::RateLimits::DEFAULT_PER_TOKEN, value_parser = parse_rate_limit)]
    pub rate_limit_per_token: RateLimitArg,

    /// A reverse proxy (address or CIDR block) whose X-Forwarded-For header names the
    /// client for the rate limits; repeatable, or comma-separated in the variable. The
    /// header is ignored from every other peer.
    #[arg(
        long = "trusted-proxy",
        env = "TLSRPT_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    pub trusted_proxies: Vec<tlsrpt_web::Cidr>,

    /// Connections the report endpoint serves at once; more wait until one ends.
    #[arg(long, env = "TLSRPT_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000), value_name = "N")]
    pub max_connections: u32,

    #[command(flatten)]
    pub imap: ImapArgs,

    /// Seconds between polls of a mailbox whose server has no IDLE.
    #[arg(
        long,
        env = "TLSRPT_IMAP_POLL_INTERVAL",
        default_value_t = 300,
        value_name = "SECONDS"
    )]
    pub imap_poll_interval: u64,

    /// Re-check the live MTA-STS and TLS-RPT configuration of every known domain (checked
    /// before, or the policy domain of a trusted report) once its latest check is this
    /// many seconds old, storing each check and its changes; 0 disables.
    #[arg(
        long,
        env = "TLSRPT_CHECK_INTERVAL",
        default_value_t = 21_600,
        value_name = "SECONDS"
    )]
    pub check_interval: u64,

    #[command(flatten)]
    pub checker: Box<crate::cmd::CheckerArgs>,

    #[command(flatten)]
    pub dashboard: DashboardArgs,

    /// The alert configuration (TOML: rule thresholds, per-domain overrides; see
    /// docs/ALERTS.md). Without it the rules run with their defaults.
    #[arg(long, env = "TLSRPT_ALERT_CONFIG", value_name = "FILE")]
    pub alert_config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// The alert configuration (TOML), as given to `tlsrpt serve --alert-config`.
    #[arg(long, env = "TLSRPT_ALERT_CONFIG", value_name = "FILE", global = true)]
    pub alert_config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: AlertsCommand,
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// List alerts, newest first: the open ones, or all with --all.
    List {
        /// Resolved alerts too.
        #[arg(long)]
        all: bool,
        /// Only this domain's.
        #[arg(long, env = "TLSRPT_DOMAIN", value_name = "DOMAIN")]
        domain: Option<String>,
        /// Print JSON: {"alerts":[{id, domain, rule, subject, severity, title, evidence,
        /// opened_at, last_seen_at, resolved_at, acked_at, acked_by, snoozed_until}]}.
        #[arg(long, env = "TLSRPT_JSON")]
        json: bool,
    },
    /// Show one alert with its evidence and notifications.
    Show {
        id: i64,
        /// Print JSON: {"alert":{…},"deliveries":[…]}.
        #[arg(long, env = "TLSRPT_JSON")]
        json: bool,
    },
    /// Acknowledge an alert: someone is on it.
    Ack {
        id: i64,
        /// Who acknowledges it [default: $USER].
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Snooze an alert (its resolution is then not notified), or wake it.
    #[command(group(clap::ArgGroup::new("when").required(true).args(["for_", "until", "wake"])))]
    Snooze {
        id: i64,
        /// For this long: e.g. 90m, 12h, 7d.
        #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
        for_: Option<chrono::Duration>,
        /// Until this time (RFC 3339, e.g. 2026-06-01T08:00:00Z).
        #[arg(long, value_name = "TIME")]
        until: Option<chrono::DateTime<chrono::Utc>>,
        /// End the snooze now.
        #[arg(long)]
        wake: bool,
    },
    /// Evaluate every rule on every domain once, now (for cron when `tlsrpt serve` does
    /// not run), and print what changed.
    Evaluate {
        /// Print JSON: {domains, rules, firing:[…], sync:{opened, reopened, resolved,
        /// ongoing}}.
        #[arg(long, env = "TLSRPT_JSON")]
        json: bool,
    },
    /// Send the queued notifications that are due, once (for cron, after `evaluate`, when
    /// `tlsrpt serve` does not run); failures are retried by the next run.
    Deliver {
        /// Print JSON: {claimed, delivered, retrying, given_up, unrecorded}.
        #[arg(long, env = "TLSRPT_JSON")]
        json: bool,
    },
    /// Print the effective rules configuration (TOML), defaults filled, and each
    /// overridden domain's settings.
    Rules,
}

/// A duration such as `90s`, `30m`, `12h` or `7d`.
fn parse_duration(text: &str) -> Result<chrono::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a number and a unit, e.g. 12h"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(format!("{text:?}: the unit must be s, m, h, d or w")),
    };
    n.checked_mul(seconds)
        .filter(|s| *s > 0 && *s <= 366 * 86_400)
        .map(chrono::Duration::seconds)
        .ok_or_else(|| format!("{text:?}: between 1 s and a year"))
}

/// Options of the rollout dashboard served by `tlsrpt serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct DashboardArgs {
    /// Address to serve the dashboard and its JSON API on, e.g. 127.0.0.1:8080. Port 0
    /// picks a free port; the URL is printed on stderr. Without a login (below) only a
    /// loopback address is accepted.
    #[arg(long, env = "TLSRPT_DASHBOARD", value_name = "ADDR")]
    pub dashboard: Option<std::net::SocketAddr>,

    /// Load demo data first (several domains at different rollout stages) and serve the
    /// dashboard, on 127.0.0.1:8080 unless --dashboard says otherwise.
    #[arg(long)]
    pub demo: bool,

    /// User name of the dashboard's HTTP basic login (with --dashboard-password).
    #[arg(
        long,
        env = "TLSRPT_DASHBOARD_USER",
        value_name = "NAME",
        default_value = "admin"
    )]
    pub dashboard_user: String,

    /// Password of the dashboard's HTTP basic login.
    #[arg(
        long,
        env = "TLSRPT_DASHBOARD_PASSWORD",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub dashboard_password: Option<String>,

    /// A token for the dashboard: `Authorization: Bearer TOKEN` for the API, or the
    /// password of the basic login (any user name) in a browser.
    #[arg(
        long,
        env = "TLSRPT_DASHBOARD_TOKEN",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub dashboard_token: Option<String>,

    /// Serve the dashboard on a non-loopback address without a login, for when a reverse
    /// proxy in front authenticates users.
    #[arg(long)]
    pub insecure_no_auth: bool,

    /// Count every stored report in the verdicts, not only trusted ones (DKIM-verified
    /// mail, token-authenticated HTTPS posts, operator imports). Forged reports can then
    /// move a verdict.
    #[arg(long, env = "TLSRPT_COUNT_UNTRUSTED")]
    pub count_untrusted: bool,

    #[command(flatten)]
    pub metrics: MetricsArgs,
}

/// Options of the Prometheus metrics (`GET /metrics` on the dashboard, with its login).
#[derive(Debug, Clone, clap::Args)]
pub struct MetricsArgs {
    /// Also serve GET /metrics alone on this address, e.g. an internal interface for
    /// Prometheus, with the dashboard's login (--dashboard-password or --dashboard-token;
    /// none needed on a loopback address). Works without --dashboard.
    #[arg(long, env = "TLSRPT_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,

    /// Domains that get their own `domain` label in /metrics, the busiest first; the
    /// others' sessions are summed under domain="_other" (see docs/METRICS.md).
    #[arg(
        long,
        env = "TLSRPT_METRICS_MAX_DOMAINS",
        default_value_t = 1000,
        value_name = "N"
    )]
    pub metrics_max_domains: usize,
}

/// `tlsrpt readiness DOMAIN`.
#[derive(Debug, clap::Args)]
pub struct ReadinessArgs {
    /// The policy domain, e.g. example.com.
    pub domain: String,

    /// Print the stable JSON: {"domain","verdict","window","criteria","projection","plan",…}.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub advice: AdviceArgs,
}

/// How the advisor weighs the reports.
#[derive(Debug, Clone, clap::Args)]
pub struct AdviceArgs {
    /// Days of reports to weigh (at least 1). The window widens, up to 60 days, until
    /// reports from two organisations are in it.
    #[arg(long, env = "TLSRPT_WINDOW_DAYS", default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..=400), value_name = "N")]
    pub window_days: u32,

    /// Count every stored report, not only trusted ones (DKIM-verified mail,
    /// token-authenticated HTTPS posts, operator imports).
    #[arg(long, env = "TLSRPT_COUNT_UNTRUSTED")]
    pub count_untrusted: bool,
}

/// `tlsrpt export …`.
#[derive(Debug, clap::Subcommand)]
pub enum ExportCommand {
    /// The readiness of one domain or of every domain, as Markdown (for a ticket or an
    /// email), JSON (automation), CSV (a portfolio spreadsheet; cells that could be
    /// formulas are neutralised) or a printable HTML page.
    Readiness(ExportReadinessArgs),
}

/// `tlsrpt export readiness`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("scope").required(true).args(["domain", "all"])))]
pub struct ExportReadinessArgs {
    /// Export this domain (repeatable).
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Vec<String>,

    /// Export every known domain.
    #[arg(long)]
    pub all: bool,

    /// md, json, csv or html.
    #[arg(long, value_name = "FORMAT")]
    pub format: tlsrpt_readiness::export::Format,

    /// Write to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub advice: AdviceArgs,
}

/// The IMAP accounts to read: one from the `--imap-*` options, and/or several from a file.
#[derive(Debug, Args)]
pub struct ImapArgs {
    /// A JSON file with an array of accounts, for several mailboxes or accounts:
    /// [{"host","port","tls","allow_plain","user","password_file","mailbox","after",
    /// "processed_folder","flag_keyword","rejected_folder","ca_file"}]; only host and user
    /// are required.
    #[arg(long, env = "TLSRPT_IMAP_ACCOUNTS", value_name = "FILE")]
    pub imap_accounts: Option<PathBuf>,

    /// IMAP server host name.
    #[arg(long, env = "TLSRPT_IMAP_HOST", value_name = "HOST")]
    pub imap_host: Option<String>,

    /// IMAP server port [default: 993 for implicit TLS, 143 otherwise].
    #[arg(long, env = "TLSRPT_IMAP_PORT", value_name = "PORT")]
    pub imap_port: Option<u16>,

    /// How the connection is protected: implicit (TLS from the start), starttls, or plain
    /// (refused unless --imap-allow-plain).
    #[arg(long, env = "TLSRPT_IMAP_TLS", default_value = "implicit", value_parser = ["implicit", "starttls", "plain"])]
    pub imap_tls: String,

    /// Allow unencrypted IMAP (the password is sent in clear).
    #[arg(long, env = "TLSRPT_IMAP_ALLOW_PLAIN")]
    pub imap_allow_plain: bool,

    /// Login name.
    #[arg(long, env = "TLSRPT_IMAP_USER", value_name = "USER")]
    pub imap_user: Option<String>,

    /// A file holding the password (read at every connection).
    #[arg(long, env = "TLSRPT_IMAP_PASSWORD_FILE", value_name = "FILE")]
    pub imap_password_file: Option<PathBuf>,

    /// The password itself; prefer --imap-password-file. Never shown in logs.
    #[arg(
        long,
        env = "TLSRPT_IMAP_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub imap_password: Option<String>,

    /// The mailbox that receives the reports.
    #[arg(
        long,
        env = "TLSRPT_IMAP_MAILBOX",
        default_value = "INBOX",
        value_name = "MAILBOX"
    )]
    pub imap_mailbox: String,

    /// What happens to a message once its reports are stored: move it to
    /// --imap-processed-folder, or flag it (\Seen and --imap-flag-keyword) in place.
    #[arg(long, env = "TLSRPT_IMAP_AFTER", default_value = "move", value_parser = ["move", "flag"])]
    pub imap_after: String,

    /// Folder for processed messages (created when missing).
    #[arg(
        long,
        env = "TLSRPT_IMAP_PROCESSED_FOLDER",
        default_value = "TLSRPT/Processed",
        value_name = "FOLDER"
    )]
    pub imap_processed_folder: String,

    /// Keyword set on processed messages with --imap-after flag.
    #[arg(
        long,
        env = "TLSRPT_IMAP_FLAG_KEYWORD",
        default_value = "$TlsrptProcessed",
        value_name = "KEYWORD"
    )]
    pub imap_flag_keyword: String,

    /// Folder for rejected messages (created when missing); they are also kept in the
    /// database with their reason.
    #[arg(
        long,
        env = "TLSRPT_IMAP_REJECTED_FOLDER",
        default_value = "TLSRPT/Rejected",
        value_name = "FOLDER"
    )]
    pub imap_rejected_folder: String,

    /// Extra CA certificates (PEM) trusted for the IMAP server.
    #[arg(long, env = "TLSRPT_IMAP_CA_FILE", value_name = "PEM")]
    pub imap_ca_file: Option<PathBuf>,

    /// DNS server (IP:PORT) asked for DKIM keys instead of the system's resolvers.
    #[arg(long, env = "TLSRPT_DKIM_DNS_SERVER", value_name = "IP:PORT")]
    pub dkim_dns_server: Option<std::net::SocketAddr>,

    /// Seconds between tries to take the lease on a mailbox that another instance holds,
    /// and between checks that a held lease is still held. Only one instance at a time
    /// watches (or syncs) a given mailbox, across every instance on the database: the others
    /// stand by and one takes over within about this delay when the holder stops or dies.
    #[arg(
        long,
        env = "TLSRPT_LEASE_RETRY",
        default_value_t = 5,
        value_name = "SECONDS"
    )]
    pub lease_retry: u64,

    /// Trust DKIM results in Authentication-Results headers added by the MTA with this
    /// authserv-id (only the topmost such header counts), for mailboxes behind an MTA
    /// that already verifies DKIM.
    #[arg(long, env = "TLSRPT_TRUST_AUTHSERV_ID", value_name = "ID")]
    pub trust_authserv_id: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReportsArgs {
    /// Print JSON: {"reports":[{"organization_name","report_id","start_time","end_time",
    /// "auth","trusted","quirks","ingested_at"}]} (times in Unix seconds).
    #[arg(long, env = "TLSRPT_JSON")]
    pub json: bool,

    /// Only reports with a policy for this domain.
    #[arg(long, env = "TLSRPT_DOMAIN", value_name = "DOMAIN")]
    pub domain: Option<String>,

    /// List at most this many, newest period first.
    #[arg(long, env = "TLSRPT_LIMIT", default_value_t = 100)]
    pub limit: u32,
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
/// A rate limit option: a token bucket, or `off`.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitArg(pub Option<tlsrpt_web::Rate>);

fn parse_rate_limit(text: &str) -> Result<RateLimitArg, String> {
    match text.trim() {
        "off" | "0" => Ok(RateLimitArg(None)),
        rate => rate.parse().map(|r| RateLimitArg(Some(r))),
    }
}

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

/// `tlsrpt db …`.
#[derive(Debug, clap::Subcommand)]
pub enum DbCommand {
    /// Check that the stored data hold together: every report has its original JSON and
    /// all of its policies and failure details, the record of inputs accounts for every
    /// report once, and the daily rollups and input counts equal a recomputation from the
    /// reports and the inputs. Reads every report once.
    ///
    /// Exit status: 0 when consistent, 1 when a problem is found or the check fails.
    Check(DbCheckArgs),
}

/// `tlsrpt db check`.
#[derive(Debug, clap::Args)]
pub struct DbCheckArgs {
    /// Print JSON: {"counts":{"reports","policies","failure_details","inputs",
    /// "daily_rollups","daily_domain_totals","domain_activity"},"problems":[…]}.
    #[arg(long, env = "TLSRPT_JSON")]
    pub json: bool,
}
