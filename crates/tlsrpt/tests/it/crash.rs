//! Crash safety with real processes, on both backends: `kill -9` of `tlsrpt ingest`,
//! `tlsrpt imap sync` and `tlsrpt serve --listen` in the middle of their work, then a
//! restart; every report (every acknowledged one, for HTTP) ends up stored exactly once and
//! `tlsrpt db check` finds nothing half-written. The row counts before and after each kill
//! are printed. Full disks and read-only databases
//! are in `storage_faults`.

use std::collections::BTreeSet;
use std::io::{BufRead as _, Read as _};
use std::os::unix::process::ExitStatusExt as _;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tlsrpt_corpus::{Corpus, Format};
use tlsrpt_store::{Store, TableCounts};
use tlsrpt_testkit::dovecot::Dovecot;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::https::listening_port;
use crate::imap::stats_of_files;
use crate::lease::{imap_command, processed};
use crate::support::{Backend, Sandbox, on_both_backends, spawn_until};

on_both_backends!(
    async multi_thread: kill_during_a_large_file_ingest_then_ingest_again,
    kill_during_an_imap_sync_then_sync_again,
    kill_during_https_post_load_then_resend,
);

/// Report files of the file-ingest scenario, besides the mbox.
const FILES: usize = 3000;
/// Messages of the mbox of the file-ingest scenario.
const MBOX_MESSAGES: usize = 300;
/// Messages in the mailbox of the IMAP scenario.
const MAILS: usize = 300;
/// Reports posted in the HTTPS scenario.
const POSTS: usize = 1500;
/// Concurrent HTTP clients.
const CLIENTS: usize = 4;

/// The row counts, in one line for the test output.
pub(crate) fn describe(counts: &TableCounts) -> String {
    format!(
        "reports={} policies={} failure_details={} inputs={} daily_rollups={} daily_domain_totals={} domain_activity={}",
        counts.reports,
        counts.policies,
        counts.failure_details,
        counts.inputs,
        counts.daily_rollups,
        counts.daily_domain_totals,
        counts.domain_activity
    )
}

/// `tlsrpt db check --json` on the sandbox's database: asserts that it finds no problem
/// and returns the row counts.
pub(crate) fn db_check(sandbox: &Sandbox) -> TableCounts {
    let run = sandbox.run(["db", "check", "--json"]);
    let report = run.json();
    assert_eq!(report["problems"], Value::Array(Vec::new()), "{report:#}");
    assert_eq!(run.code, 0, "{}", run.stderr());
    let count = |name: &str| report["counts"][name].as_i64().expect("a count");
    TableCounts {
        reports: count("reports"),
        policies: count("policies"),
        failure_details: count("failure_details"),
        inputs: count("inputs"),
        daily_rollups: count("daily_rollups"),
        daily_domain_totals: count("daily_domain_totals"),
        domain_activity: count("domain_activity"),
    }
}

/// Polls the row counts of the sandbox's database until `enough` says so, while `child`
/// runs; then kills it with SIGKILL, asserting that it was still running. Returns the last
/// counts seen before the kill.
async fn kill_when(
    sandbox: &Sandbox,
    child: &mut Child,
    what: &str,
    enough: impl Fn(&TableCounts) -> bool,
) -> TableCounts {
    let store = Store::open(sandbox.database_url()).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let seen = loop {
        let counts = store.table_counts().await.unwrap();
        if enough(&counts) {
            break counts;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "{what} ended before it could be killed, at {}",
            describe(&counts)
        );
        assert!(
            std::time::Instant::now() < deadline,
            "{what} made no progress"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    store.close().await;
    kill(child, what);
    seen
}

/// SIGKILLs `child`, asserting that it was still running.
fn kill(child: &mut Child, what: &str) {
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(9),
        "{what} had already ended ({status}) before the kill"
    );
}

/// The key of every report a corpus file holds: (organization-name, report-id).
fn key_of(gzip_json: &[u8]) -> (String, String) {
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(gzip_json)
        .read_to_end(&mut json)
        .unwrap();
    let report: Value = serde_json::from_slice(&json).unwrap();
    (
        report["organization-name"].as_str().unwrap().to_owned(),
        report["report-id"].as_str().unwrap().to_owned(),
    )
}

/// The keys of the stored reports.
fn stored_keys(sandbox: &Sandbox) -> BTreeSet<(String, String)> {
    let run = sandbox.run(["reports", "--json", "--limit", "1000000"]);
    assert_eq!(run.code, 0, "{}", run.stderr());
    run.json()["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["organization_name"].as_str().unwrap().to_owned(),
                r["report_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// An mbox archive of `mails`.
fn mbox(mails: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for mail in mails {
        out.extend_from_slice(b"From tlsrpt@reporter.example Sun Mar  1 12:00:00 2026\n");
        out.extend_from_slice(mail);
        out.extend_from_slice(b"\n");
    }
    out
}

async fn kill_during_a_large_file_ingest_then_ingest_again(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let mut corpus = Corpus::new(20_261_201, 40);
    for i in 0..FILES {
        let report = corpus.next(Format::JsonGz);
        sandbox.write(&format!("in/{i:05}-{}", report.file_name), &report.bytes);
    }
    let mails: Vec<Vec<u8>> = (0..MBOX_MESSAGES)
        .map(|_| corpus.next(Format::Eml).bytes)
        .collect();
    sandbox.write("in/archive.mbox", &mbox(&mails));
    let total = (FILES + MBOX_MESSAGES) as i64;
    let ingest = || {
        let mut command = sandbox.command();
        command
            .args(["ingest", "--json", "--batch-size", "100"])
            .arg(sandbox.path("in"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    };

    let mut child = ingest().spawn().unwrap();
    let before = kill_when(&sandbox, &mut child, "the ingest", |c| {
        c.reports >= total / 4
    })
    .await;
    let after = db_check(&sandbox);
    eprintln!(
        "{backend:?} file ingest of {total} reports: before kill -9: {}",
        describe(&before)
    );
    eprintln!(
        "{backend:?} file ingest: after kill -9: {}",
        describe(&after)
    );
    assert!(after.reports >= before.reports && after.reports < total);
    // The ledger holds one input per stored report: nothing else was committed.
    assert_eq!(after.inputs, after.reports);

    let run = crate::support::run(ingest());
    assert_eq!(run.code, 0, "{}", run.stderr());
    let summary = crate::support::Summary::parse(&run.stdout());
    assert_eq!(
        summary,
        crate::support::Summary::new((total - after.reports) as u64, after.reports as u64, 0, 0)
    );
    let restarted = db_check(&sandbox);
    eprintln!(
        "{backend:?} file ingest: after restart: {}",
        describe(&restarted)
    );
    assert_eq!(restarted.reports, total);
    assert_eq!(restarted.inputs, after.inputs + total);
}

async fn kill_during_an_imap_sync_then_sync_again(backend: Backend) {
    let dovecot = Dovecot::start();
    let sandbox = Sandbox::on(backend);
    let mut corpus = Corpus::new(20_261_202, 20);
    let mails: Vec<Vec<u8>> = (0..MAILS).map(|_| corpus.next(Format::Eml).bytes).collect();
    dovecot.append("INBOX", &mails).await;

    let mut child = imap_command(&sandbox, &dovecot, "imap sync")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let before = kill_when(&sandbox, &mut child, "the sync", |c| {
        c.reports >= (MAILS / 4) as i64
    })
    .await;
    let after = db_check(&sandbox);
    let inbox = dovecot.messages("INBOX").await.len();
    let moved = processed(&dovecot).await;
    eprintln!(
        "{backend:?} IMAP sync of {MAILS} messages: before kill -9: {}",
        describe(&before)
    );
    eprintln!(
        "{backend:?} IMAP sync: after kill -9: {} ({inbox} messages left in INBOX, {moved} moved)",
        describe(&after)
    );
    assert!(after.reports < MAILS as i64);
    // Nothing is moved out of INBOX before its report is committed.
    assert!(moved as i64 <= after.reports, "{moved} moved, {after:?}");
    assert_eq!(inbox + moved, MAILS);

    // The restart may find the killed process's lease not yet released (PostgreSQL ends
    // the session a moment later): it then says so with status 75 and is run again.
    let restart = |attempt: usize| {
        let run = crate::support::run(imap_command(&sandbox, &dovecot, "imap sync"));
        assert!(
            run.code == 0 || (run.code == 75 && attempt < 50),
            "{}{}",
            run.stdout(),
            run.stderr()
        );
        run.code
    };
    let mut attempt = 0;
    while restart(attempt) == 75 {
        attempt += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(dovecot.messages("INBOX").await.is_empty());
    assert_eq!(processed(&dovecot).await, MAILS);
    let restarted = db_check(&sandbox);
    eprintln!(
        "{backend:?} IMAP sync: after restart: {}",
        describe(&restarted)
    );
    assert_eq!(restarted.reports, MAILS as i64);
    // Every report once: the same totals as the same mails ingested as files.
    assert_eq!(sandbox.stats_json(&[]), stats_of_files(&mails));
}

/// A running `tlsrpt serve --listen` (plain HTTP on loopback).
pub(crate) struct Server {
    pub child: Child,
    pub port: u16,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `tlsrpt serve --listen 127.0.0.1:0` on the sandbox's database, waiting until
    /// it listens; its stderr is collected in `log`.
    pub(crate) fn start(sandbox: &Sandbox) -> Self {
        let mut command = sandbox.command();
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            // One loopback client posts thousands of reports: no per-address limit.
            .args(["--rate-limit-per-ip", "off"])
            .stdout(Stdio::null());
        let (child, line, stderr) = spawn_until(&mut command, "listening on");
        let port = listening_port(&line);
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self { child, port, log }
    }

    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 POST of a gzip report to `/tlsrpt` on loopback `port`: the status code,
/// or `None` when no answer came (connection refused or cut).
pub(crate) async fn post(port: u16, body: &[u8]) -> Option<u16> {
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let head = format!(
        "POST /tlsrpt HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/tlsrpt+gzip\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.ok()?;
    tcp.write_all(body).await.ok()?;
    let mut response = Vec::new();
    let _ = tcp.read_to_end(&mut response).await;
    let response = String::from_utf8_lossy(&response);
    response.split(' ').nth(1)?.parse().ok()
}

/// Posts every body of `bodies` (by index) from `CLIENTS` concurrent clients; returns the
/// status of each (`None`: no answer).
async fn post_all(
    port: u16,
    bodies: Arc<Vec<Vec<u8>>>,
    indexes: Vec<usize>,
) -> Vec<(usize, Option<u16>)> {
    let queue = Arc::new(Mutex::new(indexes));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let queue = Arc::clone(&queue);
        let bodies = Arc::clone(&bodies);
        clients.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            loop {
                let next = queue.lock().unwrap().pop();
                let Some(i) = next else { break };
                answers.push((i, post(port, &bodies[i]).await));
            }
            answers
        }));
    }
    let mut answers = Vec::new();
    for client in clients {
        answers.extend(client.await.unwrap());
    }
    answers
}

fn is_2xx(status: Option<u16>) -> bool {
    status.is_some_and(|s| (200..300).contains(&s))
}

async fn kill_during_https_post_load_then_resend(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let mut corpus = Corpus::new(20_261_203, 30);
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..POSTS)
            .map(|_| corpus.next(Format::JsonGz).bytes)
            .collect(),
    );
    let keys: Vec<(String, String)> = bodies.iter().map(|b| key_of(b)).collect();

    let mut server = Server::start(&sandbox);
    let load = tokio::spawn(post_all(
        server.port,
        Arc::clone(&bodies),
        (0..POSTS).rev().collect(),
    ));
    let before = kill_when(&sandbox, &mut server.child, "the server", |c| {
        c.reports >= (POSTS / 5) as i64
    })
    .await;
    let answers = load.await.unwrap();
    let acknowledged: BTreeSet<usize> = answers
        .iter()
        .filter(|(_, status)| is_2xx(*status))
        .map(|(i, _)| *i)
        .collect();
    let refused: Vec<_> = answers
        .iter()
        .filter(|(_, status)| status.is_some() && !is_2xx(*status))
        .collect();
    assert!(refused.is_empty(), "non-2xx answers: {refused:?}");
    let after = db_check(&sandbox);
    eprintln!(
        "{backend:?} HTTP POST load of {POSTS} reports: before kill -9: {}",
        describe(&before)
    );
    eprintln!(
        "{backend:?} HTTP POST load: after kill -9: {} ({} acknowledged)",
        describe(&after),
        acknowledged.len()
    );
    assert!(after.reports < POSTS as i64);
    // Every acknowledged report is stored (once: the key is unique).
    let stored = stored_keys(&sandbox);
    for &i in &acknowledged {
        assert!(
            stored.contains(&keys[i]),
            "acknowledged report {i} was lost"
        );
    }
    assert!(acknowledged.len() as i64 <= after.reports);

    let server = Server::start(&sandbox);
    let unacknowledged: Vec<usize> = (0..POSTS).filter(|i| !acknowledged.contains(i)).collect();
    let resent = post_all(server.port, Arc::clone(&bodies), unacknowledged.clone()).await;
    assert!(
        resent.iter().all(|(_, status)| is_2xx(*status)),
        "{resent:?}\n{}",
        server.log()
    );
    let resent_all = post_all(server.port, Arc::clone(&bodies), (0..POSTS).collect()).await;
    assert!(resent_all.iter().all(|(_, status)| is_2xx(*status)));
    let restarted = db_check(&sandbox);
    eprintln!(
        "{backend:?} HTTP POST load: after restart and resending {} unacknowledged then all: {}",
        unacknowledged.len(),
        describe(&restarted)
    );
    assert_eq!(restarted.reports, POSTS as i64);
    assert_eq!(stored_keys(&sandbox), keys.into_iter().collect());
}
