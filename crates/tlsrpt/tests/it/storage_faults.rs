//! A full disk and a read-only database, with the real OS: the SQLite database lives on a
//! small tmpfs that is filled up or remounted read-only; the PostgreSQL database is made
//! read-only (`default_transaction_read_only`, as on a standby). Each path gives a clear
//! error naming the database and the cause, loses nothing (the files stay, the IMAP
//! message stays in INBOX, the HTTP sender gets 503), and works again once the fault is
//! gone. Mounting needs root (CAP_SYS_ADMIN), as in the test and CI containers.

use std::path::{Path, PathBuf};
use std::process::Command;

use tlsrpt_corpus::{Corpus, Format};
use tlsrpt_testkit::dovecot::Dovecot;

use crate::crash::{Server, db_check, describe, post};
use crate::lease::{imap_command, processed};
use crate::support::{Sandbox, Summary};

/// A tmpfs mounted over a sandbox's directory (its database and inputs included),
/// unmounted when dropped: a real filesystem that can be filled up or made read-only.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(sandbox: &Sandbox, size: &str) -> Self {
        let dir = sandbox.path("");
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "cannot mount a tmpfs on {} (these tests need root, as in CI): {}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        Self { dir }
    }

    /// Fills the filesystem up to about `spare` bytes free, with a file `filler`.
    fn fill(&self, spare: u64) {
        use std::io::Write as _;
        let mut filler = std::fs::File::create(self.filler()).unwrap();
        let chunk = vec![0x5a_u8; 64 * 1024];
        let mut left = free_bytes(&self.dir).saturating_sub(spare);
        while left > 0 {
            let n = left.min(chunk.len() as u64);
            if filler.write_all(&chunk[..n as usize]).is_err() {
                break;
            }
            left -= n;
        }
    }

    /// Frees the space `fill` took.
    fn free(&self) {
        std::fs::remove_file(self.filler()).unwrap();
    }

    /// Remounts the filesystem read-only (`true`) or read-write.
    fn read_only(&self, read_only: bool) {
        let mode = if read_only {
            "remount,ro"
        } else {
            "remount,rw"
        };
        let output = Command::new("mount")
            .args(["-o", mode])
            .arg(&self.dir)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "mount -o {mode} {}: {}",
            self.dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn filler(&self) -> PathBuf {
        self.dir.join("filler")
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// Free bytes of the filesystem holding `dir`, from `df`.
fn free_bytes(dir: &Path) -> u64 {
    let output = Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap()
}

/// Writes `n` report files into the sandbox's `in/`; returns the folder.
fn report_files(sandbox: &Sandbox, seed: u64, n: usize) -> PathBuf {
    let mut corpus = Corpus::new(seed, 20);
    for i in 0..n {
        let report = corpus.next(Format::JsonGz);
        sandbox.write(&format!("in/{i:04}-{}", report.file_name), &report.bytes);
    }
    sandbox.path("in")
}

fn file_count(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

/// Creates the sandbox's database with a first run.
fn create_database(sandbox: &Sandbox) {
    let run = sandbox.run(["stats"]);
    assert_eq!(run.code, 0, "{}", run.stderr());
}

#[test]
fn a_full_disk_stops_an_ingest_with_a_clear_error_and_loses_nothing() {
    let sandbox = Sandbox::new();
    let disk = SmallDisk::mount(&sandbox, "16m");
    let reports = 400;
    let input = report_files(&sandbox, 20_261_210, reports);
    create_database(&sandbox);
    // Room for a few batches, not for all of them.
    disk.fill(768 * 1024);

    let ingest = || {
        let mut command = sandbox.command();
        command
            .args(["ingest", "--json", "--batch-size", "50"])
            .arg(&input);
        crate::support::run(command)
    };
    let full = ingest();
    eprintln!("disk full, ingest: exit {}: {}", full.code, full.stderr());
    assert_eq!(full.code, 1, "{}", full.stdout());
    let stderr = full.stderr();
    assert!(
        stderr.contains(&sandbox.db().display().to_string()),
        "{stderr}"
    );
    assert!(stderr.contains("database or disk is full"), "{stderr}");
    assert_eq!(file_count(&input), reports, "the input stays where it was");
    let during = db_check(&sandbox);
    eprintln!("disk full, ingest: stored so far: {}", describe(&during));
    assert!(during.reports < reports as i64);
    assert_eq!(during.inputs, during.reports);

    disk.free();
    let run = ingest();
    assert_eq!(run.code, 0, "{}", run.stderr());
    let summary = Summary::parse(&run.stdout());
    assert_eq!(summary.stored + summary.duplicates, reports as u64);
    let after = db_check(&sandbox);
    eprintln!(
        "disk full, ingest: after freeing space: {}",
        describe(&after)
    );
    assert_eq!(after.reports, reports as i64);
}

#[tokio::test]
async fn a_full_disk_leaves_imap_messages_in_the_mailbox() {
    let dovecot = Dovecot::start();
    let sandbox = Sandbox::new();
    let disk = SmallDisk::mount(&sandbox, "16m");
    let mut corpus = Corpus::new(20_261_211, 20);
    let mails: Vec<Vec<u8>> = (0..200).map(|_| corpus.next(Format::Eml).bytes).collect();
    dovecot.append("INBOX", &mails).await;
    create_database(&sandbox);
    disk.fill(64 * 1024);

    let full = crate::support::run(imap_command(&sandbox, &dovecot, "imap sync"));
    eprintln!(
        "disk full, IMAP sync: exit {}: {}",
        full.code,
        full.stderr()
    );
    assert_eq!(full.code, 1, "{}", full.stdout());
    let stderr = full.stderr();
    assert!(
        stderr.contains(&sandbox.db().display().to_string()),
        "{stderr}"
    );
    assert!(stderr.contains("database or disk is full"), "{stderr}");
    let during = db_check(&sandbox);
    let moved = processed(&dovecot).await;
    assert!(moved as i64 <= during.reports && moved < mails.len());
    assert_eq!(dovecot.messages("INBOX").await.len() + moved, mails.len());

    disk.free();
    let run = crate::support::run(imap_command(&sandbox, &dovecot, "imap sync"));
    assert_eq!(run.code, 0, "{}", run.stderr());
    assert!(dovecot.messages("INBOX").await.is_empty());
    assert_eq!(processed(&dovecot).await, mails.len());
    assert_eq!(db_check(&sandbox).reports, mails.len() as i64);
}

#[tokio::test]
async fn a_full_disk_answers_http_posts_with_503_and_recovers() {
    let sandbox = Sandbox::new();
    let disk = SmallDisk::mount(&sandbox, "16m");
    let mut corpus = Corpus::new(20_261_212, 20);
    let bodies: Vec<Vec<u8>> = (0..300)
        .map(|_| corpus.next(Format::JsonGz).bytes)
        .collect();
    let server = Server::start(&sandbox);
    disk.fill(0);

    let mut refused = Vec::new();
    let mut acknowledged = 0;
    for (i, body) in bodies.iter().enumerate() {
        match post(server.port, body).await {
            Some(200) => acknowledged += 1,
            Some(503) => refused.push(i),
            other => panic!("report {i}: {other:?}\n{}", server.log()),
        }
    }
    let log = server.log();
    eprintln!(
        "disk full, HTTP: {acknowledged} acknowledged, {} refused with 503; log: {}",
        refused.len(),
        log.lines().last().unwrap_or_default()
    );
    assert!(!refused.is_empty(), "{log}");
    assert!(log.contains(&sandbox.db().display().to_string()), "{log}");
    assert!(log.contains("database or disk is full"), "{log}");
    assert_eq!(db_check(&sandbox).reports, acknowledged);

    // The same server takes the refused reports once there is room again.
    disk.free();
    for &i in &refused {
        assert_eq!(
            post(server.port, &bodies[i]).await,
            Some(200),
            "{}",
            server.log()
        );
    }
    assert_eq!(db_check(&sandbox).reports, bodies.len() as i64);
}

#[tokio::test]
async fn a_read_only_sqlite_database_is_refused_with_a_clear_error() {
    let dovecot = Dovecot::start();
    let sandbox = Sandbox::new();
    let disk = SmallDisk::mount(&sandbox, "16m");
    let input = report_files(&sandbox, 20_261_213, 20);
    let mut corpus = Corpus::new(20_261_214, 5);
    let mails: Vec<Vec<u8>> = (0..5).map(|_| corpus.next(Format::Eml).bytes).collect();
    dovecot.append("INBOX", &mails).await;
    create_database(&sandbox);
    // Built now: each writes the password file into the sandbox.
    let sync_read_only = imap_command(&sandbox, &dovecot, "imap sync");
    let sync_writable = imap_command(&sandbox, &dovecot, "imap sync");
    disk.read_only(true);
    let db = sandbox.db().display().to_string();

    let mut command = sandbox.command();
    command.args(["ingest", "--json"]).arg(&input);
    refused(
        "read-only, ingest",
        command,
        &[&db, "Read-only file system"],
    );
    refused(
        "read-only, IMAP sync",
        sync_read_only,
        &[&db, "Read-only file system"],
    );
    assert_eq!(dovecot.messages("INBOX").await.len(), mails.len());

    disk.read_only(false);
    let mut command = sandbox.command();
    command.args(["ingest", "--json"]).arg(&input);
    let run = crate::support::run(command);
    assert_eq!(run.code, 0, "{}", run.stderr());
    let sync = crate::support::run(sync_writable);
    assert_eq!(sync.code, 0, "{}", sync.stderr());
    assert!(dovecot.messages("INBOX").await.is_empty());
    assert_eq!(db_check(&sandbox).reports, 25);
}

/// Runs `command`, which must fail with exit code 1 and say each of `said` (the database,
/// the cause) on stderr; what it said is printed under `label` for the test log.
fn refused(label: &str, command: Command, said: &[&str]) {
    let run = crate::support::run(command);
    eprintln!("{label}: exit {}: {}", run.code, run.stderr());
    assert_eq!(run.code, 1, "{label}");
    for text in said {
        assert!(run.stderr().contains(text), "{label}: {}", run.stderr());
    }
}

/// Runs `sql` on the maintenance database of the sandbox's PostgreSQL server.
fn psql_admin(sandbox: &Sandbox, sql: &str) {
    let url = sandbox.database_url();
    let admin = format!("{}/postgres", &url[..url.rfind('/').unwrap()]);
    let output = Command::new("psql")
        .args([&admin, "-v", "ON_ERROR_STOP=1", "-Atc", sql])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Makes the sandbox's PostgreSQL database read-only, or writable again, for every
/// session: the setting applies to new sessions, so the current ones are ended and the
/// pools reconnect.
fn postgres_read_only(sandbox: &Sandbox, read_only: bool) {
    let url = sandbox.database_url();
    let name = &url[url.rfind('/').unwrap() + 1..];
    let setting = if read_only {
        "SET default_transaction_read_only = on"
    } else {
        "RESET default_transaction_read_only"
    };
    psql_admin(sandbox, &format!("ALTER DATABASE {name} {setting}"));
    psql_admin(
        sandbox,
        &format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ),
    );
}

#[tokio::test]
async fn a_read_only_postgres_database_is_refused_with_a_clear_error() {
    let dovecot = Dovecot::start();
    let sandbox = Sandbox::on(crate::support::Backend::Postgres);
    let mails: Vec<Vec<u8>> = {
        let mut corpus = Corpus::new(20_261_217, 5);
        (0..5).map(|_| corpus.next(Format::Eml).bytes).collect()
    };
    dovecot.append("INBOX", &mails).await;
    let input = report_files(&sandbox, 20_261_215, 20);
    let mut corpus = Corpus::new(20_261_216, 5);
    let bodies: Vec<Vec<u8>> = (0..20).map(|_| corpus.next(Format::JsonGz).bytes).collect();
    let server = Server::start(&sandbox);
    assert_eq!(post(server.port, &bodies[0]).await, Some(200));
    postgres_read_only(&sandbox, true);

    for body in &bodies[1..] {
        assert_eq!(post(server.port, body).await, Some(503), "{}", server.log());
    }
    let log = server.log();
    eprintln!(
        "read-only PostgreSQL, HTTP: 503; log: {}",
        log.lines().last().unwrap_or_default()
    );
    assert!(log.contains("read-only transaction"), "{log}");

    let mut command = sandbox.command();
    command.args(["ingest", "--json"]).arg(&input);
    let url = sandbox.database_url();
    let database = url.rsplit('/').next().unwrap();
    refused(
        "read-only PostgreSQL, ingest",
        command,
        &[database, "read-only transaction"],
    );
    refused(
        "read-only PostgreSQL, IMAP sync",
        imap_command(&sandbox, &dovecot, "imap sync"),
        &["read-only transaction"],
    );
    assert_eq!(dovecot.messages("INBOX").await.len(), mails.len());

    postgres_read_only(&sandbox, false);
    let sync = crate::support::run(imap_command(&sandbox, &dovecot, "imap sync"));
    assert_eq!(sync.code, 0, "{}", sync.stderr());
    assert!(dovecot.messages("INBOX").await.is_empty());
    for body in &bodies[1..] {
        assert_eq!(post(server.port, body).await, Some(200), "{}", server.log());
    }
    let mut command = sandbox.command();
    command.args(["ingest", "--json"]).arg(&input);
    let run = crate::support::run(command);
    assert_eq!(run.code, 0, "{}", run.stderr());
    assert_eq!(db_check(&sandbox).reports, 45);
}
