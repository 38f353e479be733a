//! `tlsrpt-bench`: timed runs and `kill -9` drills of the `tlsrpt` binary against real local
//! services, for the figures in the README and the issues. Not a test: it prints figures.
//!
//! - `imap-sync`: N generated report mails in a private Dovecot, synced by `tlsrpt imap sync`.
//! - `imap-kill`: the same, killed with SIGKILL mid-sync, then resumed; checks that every
//!   moved (acknowledged) message's report is stored, once.
//! - `https-kill`: concurrent POSTs of unique reports to `tlsrpt serve`, killed with SIGKILL
//!   under load; checks that every report answered 200 is stored.
//! - `scale`: a million reports written through the store on SQLite or PostgreSQL, then
//!   the 30-day stats and portfolio queries timed (see the `scale` module).
//! - `profile`: the stages of file ingest beside this machine's raw limits (see the
//!   `profile` module).
//! - `parse-files`: parse only, timed on the reports in a folder of `.json.gz` files.

mod profile;
mod scale;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use clap::{Parser, Subcommand};
use tlsrpt_corpus::{Corpus, Format};
use tlsrpt_imap::TlsMode;
use tlsrpt_store::Store;
use tlsrpt_testkit::dovecot::{Dovecot, PASSWORD, USER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The allocator of the `tlsrpt` binary, so that the stages timed here in process
/// allocate as they do there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
struct Args {
    /// The `tlsrpt` binary to measure (build it with --release).
    #[arg(long, env = "TLSRPT_BIN", default_value = "target/release/tlsrpt")]
    tlsrpt: PathBuf,
    #[command(subcommand)]
    command: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Time `tlsrpt imap sync` of N messages, RUNS times.
    ImapSync {
        #[arg(long, default_value_t = 10_000)]
        messages: usize,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Kill `tlsrpt imap sync` mid-way, resume, and compare stored with acknowledged.
    ImapKill {
        #[arg(long, default_value_t = 10_000)]
        messages: usize,
        /// Milliseconds before the kill.
        #[arg(long, default_value_t = 1500)]
        after_ms: u64,
    },
    /// Kill `tlsrpt serve` under POST load and compare stored with acknowledged.
    HttpsKill {
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Milliseconds of load before the kill.
        #[arg(long, default_value_t = 2000)]
        after_ms: u64,
    },
    /// Build a large dataset through the store and time the hot queries (no binary needed).
    Scale(scale::ScaleArgs),
    /// Time the stages of file ingest and the raw limits of this machine (no binary needed).
    Profile(profile::ProfileArgs),
    /// Time parsing alone over the `.json.gz` reports in a folder (no binary needed).
    ParseFiles(profile::ParseFilesArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let tlsrpt = &args.tlsrpt;
    let binary = || -> anyhow::Result<()> {
        ensure!(
            tlsrpt.exists(),
            "{} does not exist: build it with cargo build --release -p tlsrpt",
            tlsrpt.display()
        );
        Ok(())
    };
    match args.command {
        Bench::ImapSync { messages, runs } => {
            binary()?;
            imap_sync(tlsrpt, messages, runs).await
        }
        Bench::ImapKill { messages, after_ms } => {
            binary()?;
            imap_kill(tlsrpt, messages, Duration::from_millis(after_ms)).await
        }
        Bench::HttpsKill {
            connections,
            after_ms,
        } => {
            binary()?;
            https_kill(tlsrpt, connections, Duration::from_millis(after_ms)).await
        }
        Bench::Scale(scale_args) => scale::scale(scale_args).await,
        Bench::Profile(profile_args) => profile::profile(profile_args).await,
        Bench::ParseFiles(parse_args) => profile::parse_files(parse_args),
    }
}

fn mails(count: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut corpus = Corpus::new(seed, 200);
    (0..count).map(|_| corpus.next(Format::Eml).bytes).collect()
}

fn sync_command(tlsrpt: &PathBuf, db: &str, dovecot: &Dovecot, password: &PathBuf) -> Command {
    let mut command = Command::new(tlsrpt);
    command
        .args([
            "--database-url",
            db,
            "imap",
            "sync",
            "--imap-host",
            "localhost",
        ])
        .args(["--imap-user", USER])
        .arg("--imap-port")
        .arg(dovecot.account(TlsMode::Implicit).port.to_string())
        .arg("--imap-password-file")
        .arg(password)
        .arg("--imap-ca-file")
        .arg(dovecot.ca_file())
        .env_remove("TLSRPT_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

async fn imap_sync(tlsrpt: &PathBuf, messages: usize, runs: usize) -> anyhow::Result<()> {
    let mails = mails(messages, 1);
    let mut seconds = Vec::new();
    for run in 1..=runs {
        let dir = tempfile::tempdir()?;
        let password = dir.path().join("password");
        std::fs::write(&password, PASSWORD)?;
        let db = dir.path().join("bench.db").display().to_string();
        let dovecot = Dovecot::start();
        dovecot.append("INBOX", &mails).await;
        let started = Instant::now();
        let status = sync_command(tlsrpt, &db, &dovecot, &password).status()?;
        let elapsed = started.elapsed().as_secs_f64();
        ensure!(status.success(), "imap sync failed");
        let stored = distinct_reports(&db).await?;
        ensure!(stored == messages, "stored {stored} of {messages}");
        println!(
            "run {run}: {messages} messages in {elapsed:.2} s ({:.0} messages/s)",
            messages as f64 / elapsed
        );
        seconds.push(elapsed);
    }
    seconds.sort_by(f64::total_cmp);
    let median = seconds[seconds.len() / 2];
    println!(
        "median over {runs} runs: {median:.2} s for {messages} messages ({:.0} messages/s)",
        messages as f64 / median
    );
    Ok(())
}

async fn imap_kill(tlsrpt: &PathBuf, messages: usize, after: Duration) -> anyhow::Result<()> {
    let mails = mails(messages, 2);
    let dir = tempfile::tempdir()?;
    let password = dir.path().join("password");
    std::fs::write(&password, PASSWORD)?;
    let db = dir.path().join("bench.db").display().to_string();
    let dovecot = Dovecot::start();
    dovecot.append("INBOX", &mails).await;

    let mut child = sync_command(tlsrpt, &db, &dovecot, &password).spawn()?;
    tokio::time::sleep(after).await;
    child.kill()?;
    child.wait()?;
    let moved = processed(&dovecot).await;
    let stored = distinct_reports(&db).await?;
    println!(
        "killed after {after:?}: {moved} messages moved (acknowledged), {stored} reports stored"
    );
    ensure!(stored >= moved, "a moved message's report is missing");
    ensure!(
        moved < messages,
        "the sync finished before the kill: raise --messages"
    );

    let status = sync_command(tlsrpt, &db, &dovecot, &password).status()?;
    ensure!(status.success(), "the resumed sync failed");
    let moved = processed(&dovecot).await;
    let stored = distinct_reports(&db).await?;
    let left = dovecot.messages("INBOX").await.len();
    println!("after resuming: {moved} moved, {left} left in INBOX, {stored} reports stored");
    ensure!(
        moved == messages && stored == messages && left == 0,
        "lost or duplicated"
    );
    println!("ok: every acknowledged message's report is stored exactly once");
    Ok(())
}

async fn processed(dovecot: &Dovecot) -> usize {
    let folders = dovecot.folders().await;
    match folders.iter().find(|f| f.ends_with("Processed")) {
        Some(folder) => dovecot.messages(folder).await.len(),
        None => 0,
    }
}

/// The number of distinct stored reports (each has one row).
async fn distinct_reports(db: &str) -> anyhow::Result<usize> {
    let store = Store::open(db).await?;
    let reports = store.reports(None, i64::MAX).await?;
    store.close().await;
    Ok(reports.len())
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn https_kill(tlsrpt: &PathBuf, connections: usize, after: Duration) -> anyhow::Result<()> {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("bench.db").display().to_string();
    let mut child = Command::new(tlsrpt)
        .args(["--database-url", &db, "serve", "--listen", "127.0.0.1:0"])
        // Every connection comes from 127.0.0.1: the per-address limit would answer 429.
        .args(["--rate-limit-per-ip", "off"])
        .env_remove("TLSRPT_DATABASE_URL")
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stderr = BufReader::new(child.stderr.take().context("stderr")?);
    let mut line = String::new();
    while !line.contains("listening on") {
        line.clear();
        if stderr.read_line(&mut line)? == 0 {
            bail!("serve exited before listening");
        }
    }
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    let addr: std::net::SocketAddr = line
        .trim()
        .rsplit("//")
        .next()
        .context("address")?
        .parse()?;
    let mut server = Server(child);

    let deadline = Instant::now() + after;
    let mut tasks = Vec::new();
    for worker in 0..connections {
        tasks.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut n = 0u64;
            loop {
                n += 1;
                let id = format!("kill-drill-{worker}-{n}");
                match post(addr, &id).await {
                    Ok(200) => acknowledged.push(id),
                    Ok(_) | Err(_) if Instant::now() > deadline => break,
                    Ok(status) => panic!("unexpected status {status} before the kill"),
                    Err(_) => break,
                }
            }
            acknowledged
        }));
    }
    tokio::time::sleep(after).await;
    server.0.kill()?;
    server.0.wait()?;
    let mut acknowledged = Vec::new();
    for task in tasks {
        acknowledged.extend(task.await?);
    }
    let store = Store::open(&db).await?;
    let stored: std::collections::HashSet<String> = store
        .reports(None, i64::MAX)
        .await?
        .into_iter()
        .map(|r| r.report_id)
        .collect();
    let missing = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .count();
    println!(
        "killed after {after:?} under {connections} connections: {} acknowledged (200), {} stored, {missing} acknowledged but missing",
        acknowledged.len(),
        stored.len()
    );
    ensure!(missing == 0, "acknowledged reports were lost");
    println!("ok: every acknowledged report is stored exactly once");
    Ok(())
}

/// POSTs one unique report over HTTP/1.1 and returns the status code.
async fn post(addr: std::net::SocketAddr, id: &str) -> anyhow::Result<u16> {
    let body = serde_json::to_vec(&serde_json::json!({
        "organization-name": "Kill Drill",
        "date-range": {"start-datetime": "2026-03-01T00:00:00Z", "end-datetime": "2026-03-01T23:59:59Z"},
        "contact-info": "drill@example.net",
        "report-id": id,
        "policies": [{
            "policy": {"policy-type": "sts", "policy-domain": "example.com", "mx-host": ["mx.example.com"]},
            "summary": {"total-successful-session-count": 10, "total-failure-session-count": 0}
        }]
    }))?;
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "POST /tlsrpt HTTP/1.1\r\nHost: bench\r\nContent-Type: application/tlsrpt+json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&body).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let text = String::from_utf8_lossy(&response);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no status line")
}
