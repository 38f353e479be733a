//! Shared test plumbing: a temporary directory with its own database, a runner for the
//! binary, and builders for reports, gzip, zip and mail inputs.

use std::ffi::OsStr;
use std::io::{BufRead as _, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};

use serde_json::{Value, json};

pub use tlsrpt_testkit::Backend;
pub(crate) use tlsrpt_testkit::on_both_backends;

/// A temporary directory holding the inputs of one test, and its database: a SQLite file
/// in the directory, or a fresh PostgreSQL database.
pub struct Sandbox {
    dir: tempfile::TempDir,
    database_url: String,
}

/// Spawns a long-running `command` (e.g. `tlsrpt serve`) with its stderr piped, and reads
/// that until a line contains `needle` (e.g. "listening on"): the child, that line, and the
/// rest of its stderr (give it to [`drain`] or read it, so the child never blocks on it).
pub fn spawn_until(command: &mut Command, needle: &str) -> (Child, String, BufReader<ChildStderr>) {
    let mut child = command.stderr(Stdio::piped()).spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let mut line = String::new();
    while !line.contains(needle) {
        seen.push_str(&line);
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "the command exited before printing {needle:?}: {seen}"
        );
    }
    (child, line, stderr)
}

/// Discards the rest of a child's stderr on a thread of its own.
pub fn drain(mut stderr: BufReader<ChildStderr>) {
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }

    pub fn stderr(&self) -> String {
        String::from_utf8(self.stderr.clone()).expect("stderr is UTF-8")
    }

    /// The stdout as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout()))
    }

    /// The `rejected: …` lines of stderr.
    pub fn rejected_lines(&self) -> Vec<String> {
        self.stderr()
            .lines()
            .filter(|l| l.starts_with("rejected: "))
            .map(str::to_owned)
            .collect()
    }
}

impl Sandbox {
    /// A sandbox on a SQLite file.
    pub fn new() -> Self {
        Self::on(Backend::Sqlite)
    }

    /// A sandbox on `backend`.
    pub fn on(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let database_url = backend.fresh_database_url(dir.path());
        Self { dir, database_url }
    }

    /// The `--database-url` this sandbox's runs get.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The SQLite file of a sandbox on SQLite.
    pub fn db(&self) -> PathBuf {
        self.path("tlsrpt.db")
    }

    /// Writes `bytes` to `name` (creating parent folders) and returns its path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create input folder");
        }
        std::fs::write(&path, bytes).expect("write input");
        path
    }

    /// The binary with this sandbox's database and an environment free of `TLSRPT_*`.
    pub fn command(&self) -> Command {
        let mut command = bare_command();
        command.arg("--database-url").arg(&self.database_url);
        command
    }

    /// Runs the binary on this sandbox's database.
    pub fn run<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = self.command();
        command.args(args);
        run(command)
    }

    /// `tlsrpt ingest --json PATHS…`, returning the run and its parsed summary.
    pub fn ingest_json(&self, paths: &[&Path]) -> (Run, Summary) {
        let mut command = self.command();
        command.arg("ingest").arg("--json").args(paths);
        let run = run(command);
        let summary = Summary::parse(&run.stdout());
        (run, summary)
    }

    /// `tlsrpt stats --json` with extra arguments: the raw stdout.
    pub fn stats_json(&self, args: &[&str]) -> String {
        let run = self.run(["stats", "--json"].iter().chain(args));
        assert_eq!(run.code, 0, "stats failed: {}", run.stderr());
        run.stdout()
    }

    /// `tlsrpt rejected --json`: the list of rejections.
    pub fn rejected(&self) -> Vec<Value> {
        let run = self.run(["rejected", "--json"]);
        assert_eq!(run.code, 0, "rejected failed: {}", run.stderr());
        run.json()["rejected"]
            .as_array()
            .expect("a rejected array")
            .clone()
    }

    /// The bytes kept of rejected input `id`, written out with `rejected --raw ID -o FILE`.
    pub fn raw(&self, id: i64) -> Vec<u8> {
        let out = self.path(&format!("raw-{id}.out"));
        let run = self.run([
            OsStr::new("rejected"),
            OsStr::new("--raw"),
            OsStr::new(&id.to_string()),
            OsStr::new("-o"),
            out.as_os_str(),
        ]);
        assert_eq!(run.code, 0, "rejected --raw failed: {}", run.stderr());
        std::fs::read(out).expect("raw output written")
    }
}

/// The binary with no database option and no `TLSRPT_*` variable inherited.
pub fn bare_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tlsrpt"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TLSRPT_") {
            command.env_remove(name);
        }
    }
    command
}

pub fn run(mut command: Command) -> Run {
    let output = command.output().expect("run tlsrpt");
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: output.stdout,
        stderr: output.stderr,
    }
}

/// The `ingest --json` summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub stored: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub not_reports: u64,
}

impl Summary {
    pub const fn new(stored: u64, duplicates: u64, rejected: u64, not_reports: u64) -> Self {
        Self {
            stored,
            duplicates,
            rejected,
            not_reports,
        }
    }

    /// Reads the one line `ingest --json` prints, insisting on its exact shape.
    pub fn parse(stdout: &str) -> Self {
        let value: Value = serde_json::from_str(stdout)
            .unwrap_or_else(|e| panic!("summary is not JSON ({e}): {stdout:?}"));
        let object = value.as_object().expect("summary is an object");
        let keys: Vec<&str> = object.keys().map(String::as_str).collect();
        let mut sorted_keys = keys.clone();
        sorted_keys.sort_unstable();
        assert_eq!(
            sorted_keys,
            ["duplicates", "not_reports", "rejected", "stored"],
            "summary keys: {stdout}"
        );
        let count = |k: &str| object[k].as_u64().expect("a count");
        let summary = Self::new(
            count("stored"),
            count("duplicates"),
            count("rejected"),
            count("not_reports"),
        );
        assert_eq!(
            stdout,
            format!("{}\n", summary.to_json()),
            "exact summary text"
        );
        summary
    }

    /// The exact text `ingest --json` must print, without the newline.
    pub fn to_json(self) -> String {
        format!(
            r#"{{"stored":{},"duplicates":{},"rejected":{},"not_reports":{}}}"#,
            self.stored, self.duplicates, self.rejected, self.not_reports
        )
    }
}

/// A failure detail: result type and failed-session-count.
pub type Detail<'a> = (&'a str, i64);

/// One `policies[]` entry.
pub fn policy(kind: &str, domain: &str, ok: i64, failed: i64, details: &[Detail<'_>]) -> Value {
    let details: Vec<Value> = details
        .iter()
        .map(|&(result_type, count)| {
            json!({
                "result-type": result_type,
                "sending-mta-ip": "192.0.2.1",
                "receiving-mx-hostname": format!("mx.{domain}"),
                "failed-session-count": count,
            })
        })
        .collect();
    json!({
        "policy": {
            "policy-type": kind,
            "policy-string": ["version: STSv1", "mode: testing", format!("mx: mx.{domain}"), "max_age: 86400"],
            "policy-domain": domain,
            "mx-host": [format!("mx.{domain}")],
        },
        "summary": {
            "total-successful-session-count": ok,
            "total-failure-session-count": failed,
        },
        "failure-details": details,
    })
}

/// A whole report starting at `start` (RFC 3339) and ending a day later, less a second.
pub fn report(org: &str, id: &str, start: &str, end: &str, policies: Vec<Value>) -> Value {
    json!({
        "organization-name": org,
        "date-range": { "start-datetime": start, "end-datetime": end },
        "contact-info": "tlsrpt@reporter.example",
        "report-id": id,
        "policies": policies,
    })
}

/// A small valid report with one sts policy for `domain`.
pub fn simple_report(org: &str, id: &str, domain: &str, ok: i64) -> Vec<u8> {
    let value = report(
        org,
        id,
        "2026-03-01T00:00:00Z",
        "2026-03-01T23:59:59Z",
        vec![policy("sts", domain, ok, 0, &[])],
    );
    serde_json::to_vec_pretty(&value).expect("serialise")
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

/// A zip archive of `(name, bytes)` files, deflated.
pub fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        writer.start_file(*name, options).expect("zip entry");
        writer.write_all(bytes).expect("zip entry");
    }
    writer.finish().expect("zip").into_inner()
}

/// A TLS report mail as RFC 8460 §5.3 describes it: multipart/report, report-type=tlsrpt,
/// with the gzip report attached as `application/tlsrpt+gzip`, base64-encoded.
pub fn report_mail(gzip_report: &[u8], filename: &str) -> Vec<u8> {
    report_mail_from(
        gzip_report,
        filename,
        "tlsrpt@reporter.example",
        "<cli-test@reporter.example>",
    )
}

/// [`report_mail`] from the address `from`, with the Message-ID `message_id`.
pub fn report_mail_from(
    gzip_report: &[u8],
    filename: &str,
    from: &str,
    message_id: &str,
) -> Vec<u8> {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(gzip_report);
    let body: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    format!(
        "From: {from}\r\n\
         To: tlsrpt@example.com\r\n\
         Subject: Report Domain: example.com Submitter: reporter.example Report-ID: <x>\r\n\
         Date: Sun, 01 Mar 2026 12:00:00 +0000\r\n\
         Message-ID: {message_id}\r\n\
         TLS-Report-Domain: example.com\r\n\
         TLS-Report-Submitter: reporter.example\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"b1\"\r\n\
         \r\n\
         --b1\r\n\
         Content-Type: text/plain; charset=us-ascii\r\n\
         \r\n\
         This is an aggregate TLS report.\r\n\
         --b1\r\n\
         Content-Type: application/tlsrpt+gzip\r\n\
         Content-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"{filename}\"\r\n\
         \r\n\
         {}\r\n\
         --b1--\r\n",
        body.join("\r\n")
    )
    .into_bytes()
}

/// The rejection in `list` whose locator is `path` (and part, when given).
pub fn find_rejection<'a>(list: &'a [Value], path: &Path, part: Option<&str>) -> &'a Value {
    let locator = path.display().to_string();
    list.iter()
        .find(|r| r["locator"] == locator.as_str() && r["part"].as_str() == part)
        .unwrap_or_else(|| panic!("no rejection of {locator} [{part:?}] in {list:#?}"))
}

/// `bytes` with the one occurrence of `from` replaced by `to`.
pub fn edit(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = std::str::from_utf8(bytes).expect("UTF-8 report");
    assert_eq!(
        text.matches(from).count(),
        1,
        "{from:?} occurs once in {text}"
    );
    text.replace(from, to).into_bytes()
}

/// A response as read off the wire.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Reply {
    /// Reads a whole response: its status line, header block and body.
    pub fn parse(bytes: &[u8]) -> Self {
        let text = String::from_utf8_lossy(bytes).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {text:?}"));
        Self {
            status,
            head: head.to_owned(),
            body: body.to_owned(),
        }
    }

    /// The first header called `name` (any case), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}
