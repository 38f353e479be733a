//! One IMAP watcher per mailbox across instances: two real `tlsrpt serve` processes on one
//! database and one Dovecot mailbox; exactly one holds the mailbox's lease, a one-shot sync
//! is turned away meanwhile, and after a `kill -9` of the holder the other takes over, with
//! every report stored once and every message moved. A holder whose lease is broken under
//! it stops and stands by again.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tlsrpt_corpus::{Corpus, Format};
use tlsrpt_imap::TlsMode;
use tlsrpt_testkit::dovecot::{Dovecot, PASSWORD, USER};

use crate::imap::{quiet_dns, stats_of_files};
use crate::support::{Backend, Sandbox, on_both_backends};

on_both_backends!(
    async: one_instance_watches_a_mailbox_and_another_takes_over_when_it_dies,
    a_watcher_that_loses_its_lease_stops_and_stands_by_again,
);

/// The lease retry given to both instances, in seconds.
const RETRY: u64 = 1;
/// The longest takeover accepted: many retries, for a loaded machine. The measured time is
/// printed.
const TAKEOVER_BOUND: Duration = Duration::from_secs(20);

/// A running `tlsrpt serve`, with its stderr lines as they arrive.
struct Instance {
    child: Child,
    log: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl Instance {
    /// `tlsrpt serve` watching `dovecot`'s INBOX, logging at info level.
    fn start(sandbox: &Sandbox, dovecot: &Dovecot) -> Self {
        let mut child = imap_command(sandbox, dovecot, "serve")
            .args(["--log", "info", "--lease-retry", &RETRY.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push((Instant::now(), line));
            }
        });
        Self { child, log }
    }

    /// When the first line containing `needle` arrived.
    fn logged(&self, needle: &str) -> Option<Instant> {
        let log = self.log.lock().unwrap();
        log.iter()
            .find(|(_, line)| line.contains(needle))
            .map(|(at, _)| *at)
    }

    /// How many lines contain `needle`.
    fn count(&self, needle: &str) -> usize {
        let log = self.log.lock().unwrap();
        log.iter().filter(|(_, line)| line.contains(needle)).count()
    }

    fn text(&self) -> String {
        let log = self.log.lock().unwrap();
        log.iter()
            .map(|(_, line)| line.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tlsrpt SUBCOMMAND…` with the options for `dovecot`'s INBOX over implicit TLS.
pub(crate) fn imap_command(sandbox: &Sandbox, dovecot: &Dovecot, subcommand: &str) -> Command {
    let password = sandbox.write("imap-password", format!("{PASSWORD}\n").as_bytes());
    let mut command = sandbox.command();
    command
        .args(subcommand.split(' '))
        .args(["--imap-host", "localhost", "--imap-user", USER])
        .arg("--imap-port")
        .arg(dovecot.account(TlsMode::Implicit).port.to_string())
        .arg("--imap-password-file")
        .arg(password)
        .arg("--imap-ca-file")
        .arg(dovecot.ca_file())
        .arg("--dkim-dns-server")
        .arg(quiet_dns().to_string());
    command
}

/// Waits up to `limit` for `done`, panicking with `what` (and `context()`) after that.
pub(crate) async fn eventually(
    what: &str,
    limit: Duration,
    mut done: impl AsyncFnMut() -> bool,
    context: impl Fn() -> String,
) {
    let deadline = Instant::now() + limit;
    while !done().await {
        assert!(
            Instant::now() < deadline,
            "{what}: not within {limit:?}\n{}",
            context()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn processed(dovecot: &Dovecot) -> usize {
    let folders = dovecot.folders().await;
    match folders.iter().find(|f| f.ends_with("Processed")) {
        Some(folder) => dovecot.messages(folder).await.len(),
        None => 0,
    }
}

async fn one_instance_watches_a_mailbox_and_another_takes_over_when_it_dies(backend: Backend) {
    let dovecot = Dovecot::start();
    let sandbox = Sandbox::on(backend);
    // The first run creates the database, so that the two instances do not both migrate.
    let created = sandbox.run(["stats"]);
    assert_eq!(created.code, 0, "{}", created.stderr());
    let mut corpus = Corpus::new(20_261_123, 30);
    let first: Vec<Vec<u8>> = (0..20).map(|_| corpus.next(Format::Eml).bytes).collect();
    let second: Vec<Vec<u8>> = (0..300).map(|_| corpus.next(Format::Eml).bytes).collect();

    let instances = [
        Instance::start(&sandbox, &dovecot),
        Instance::start(&sandbox, &dovecot),
    ];
    let logs = || {
        instances
            .iter()
            .enumerate()
            .map(|(i, instance)| format!("--- instance {i}:\n{}", instance.text()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    eventually(
        "one instance holds the mailbox, the other stands by",
        Duration::from_secs(30),
        async || {
            instances
                .iter()
                .any(|i| i.logged("holding mailbox").is_some())
                && instances
                    .iter()
                    .any(|i| i.logged("standby: mailbox").is_some())
        },
        logs,
    )
    .await;
    let holder = instances
        .iter()
        .position(|i| i.logged("holding mailbox").is_some())
        .unwrap();
    let (holder, standby) = (&instances[holder], &instances[1 - holder]);
    assert!(standby.logged("holding mailbox").is_none(), "{}", logs());
    assert!(holder.logged("standby: mailbox").is_none(), "{}", logs());

    // A one-shot sync is turned away while the mailbox is held.
    let sync = crate::support::run(imap_command(&sandbox, &dovecot, "imap sync"));
    assert_eq!(sync.code, 75, "{}", sync.stderr());
    assert!(
        sync.stderr()
            .contains("skipped: another instance (tlsrpt serve or imap sync) holds this mailbox"),
        "{}",
        sync.stderr()
    );

    // Only the holder fetches: the standby never even connects to the IMAP server.
    dovecot.append("INBOX", &first).await;
    eventually(
        "the holder moves the first reports",
        Duration::from_secs(60),
        async || processed(&dovecot).await == first.len(),
        logs,
    )
    .await;
    // The pass is logged as done just after its last move: wait for the line too.
    eventually(
        "the holder logs its pass",
        Duration::from_secs(10),
        async || holder.logged("pass done").is_some(),
        logs,
    )
    .await;
    assert!(standby.logged("connected").is_none(), "{}", logs());
    assert_eq!(sandbox.stats_json(&[]), stats_of_files(&first));

    // Kill the holder once it is busy with the second batch.
    dovecot.append("INBOX", &second).await;
    eventually(
        "the holder starts on the second batch",
        Duration::from_secs(60),
        async || processed(&dovecot).await > first.len(),
        logs,
    )
    .await;
    let pid = holder.child.id().to_string();
    let killed = Command::new("kill").args(["-9", &pid]).status().unwrap();
    assert!(killed.success());
    let killed_at = Instant::now();
    let left = dovecot.messages("INBOX").await.len();

    eventually(
        "the standby takes over",
        TAKEOVER_BOUND,
        async || standby.logged("holding mailbox").is_some(),
        logs,
    )
    .await;
    let takeover = standby
        .logged("holding mailbox")
        .unwrap()
        .saturating_duration_since(killed_at);
    eprintln!(
        "{backend:?}: takeover {:.0} ms after kill -9 (lease retry {RETRY} s; {left} messages were left)",
        takeover.as_secs_f64() * 1000.0
    );

    let all: Vec<Vec<u8>> = first.iter().chain(&second).cloned().collect();
    eventually(
        "the new holder moves every report",
        Duration::from_secs(120),
        async || processed(&dovecot).await == all.len(),
        logs,
    )
    .await;
    assert!(dovecot.messages("INBOX").await.is_empty());
    // Every report stored once: the same totals as the same mails ingested as files.
    assert_eq!(sandbox.stats_json(&[]), stats_of_files(&all));
}

/// Takes the lease away from its holder behind its back: on PostgreSQL, ends the session
/// that holds the advisory lock; on SQLite, removes the lease file.
fn break_lease(sandbox: &Sandbox, backend: Backend) {
    match backend {
        Backend::Postgres => {
            let sql = "SELECT count(pg_terminate_backend(pid)) FROM pg_locks \
                       WHERE locktype = 'advisory' AND classid::int8 = 1414288210 \
                       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
            let output = Command::new("psql")
                .args([sandbox.database_url(), "-Atc", sql])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&output.stdout);
            assert_eq!(
                text.trim(),
                "1",
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Backend::Sqlite => {
            let files: Vec<_> = std::fs::read_dir(sandbox.path(""))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.to_string_lossy().contains("tlsrpt.db.lease-"))
                .collect();
            assert_eq!(files.len(), 1, "{files:?}");
            std::fs::remove_file(&files[0]).unwrap();
        }
    }
}

async fn a_watcher_that_loses_its_lease_stops_and_stands_by_again(backend: Backend) {
    let dovecot = Dovecot::start();
    let sandbox = Sandbox::on(backend);
    let instance = Instance::start(&sandbox, &dovecot);
    let log = || instance.text();
    eventually(
        "the instance holds the mailbox",
        Duration::from_secs(30),
        async || instance.logged("connected").is_some(),
        log,
    )
    .await;

    break_lease(&sandbox, backend);
    let broken_at = Instant::now();
    eventually(
        "the loss is noticed",
        TAKEOVER_BOUND,
        async || instance.logged("is lost").is_some(),
        log,
    )
    .await;
    let noticed = instance
        .logged("is lost")
        .unwrap()
        .saturating_duration_since(broken_at);
    eprintln!(
        "{backend:?}: lease loss noticed {:.0} ms after it was broken (lease retry {RETRY} s)",
        noticed.as_secs_f64() * 1000.0
    );
    assert!(
        instance.logged("stopped watching mailbox").is_some(),
        "{}",
        log()
    );
    // Nobody else holds the mailbox, so the instance takes it again, and works.
    eventually(
        "the instance holds the mailbox again",
        TAKEOVER_BOUND,
        async || instance.count("holding mailbox") == 2,
        log,
    )
    .await;
    let mut corpus = Corpus::new(20_261_124, 5);
    let mails: Vec<Vec<u8>> = (0..10).map(|_| corpus.next(Format::Eml).bytes).collect();
    dovecot.append("INBOX", &mails).await;
    eventually(
        "the reports are moved",
        Duration::from_secs(60),
        async || processed(&dovecot).await == mails.len(),
        log,
    )
    .await;
    assert_eq!(sandbox.stats_json(&[]), stats_of_files(&mails));
}
