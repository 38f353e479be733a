//! Bad input through the binary (the "Bad input" list of issue 2): each is rejected with
//! a clear reason and kept, and the batch goes on with the good reports around it.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{
    Backend, Sandbox, Summary, edit, gzip, on_both_backends, policy, report, report_mail,
    simple_report, zip,
};

on_both_backends!(
    every_bad_input_is_rejected_kept_and_the_batch_goes_on,
    a_dangling_symlink_named_on_the_command_line_is_rejected,
    the_decompression_cap_is_read_from_the_environment,
    an_input_over_a_lowered_size_limit_keeps_its_first_mib,
    invalid_utf8_is_rejected_with_a_reason_that_says_so,
);

const MIB: usize = 1024 * 1024;

/// What a rejection must look like.
struct Expect {
    path: PathBuf,
    /// Every one of these must appear in the reason.
    reason_has: &'static [&'static str],
    /// The bytes `rejected --raw` must give back; `None` when nothing can be kept.
    kept: Option<Vec<u8>>,
    /// The full size of the input, when bytes are kept.
    size: u64,
}

fn expect(path: PathBuf, reason_has: &'static [&'static str]) -> Expect {
    let bytes = std::fs::read(&path).unwrap();
    Expect {
        size: bytes.len() as u64,
        kept: Some(bytes),
        path,
        reason_has,
    }
}

/// `n` zero bytes, gzip-compressed: a few KiB that expand to `n`.
fn gzip_bomb(n: usize) -> Vec<u8> {
    gzip(&vec![0; n])
}

/// `{"organization-name":…,"report-id":…,"policies":[[[…]]]}`, nested `depth` deep.
fn deep_json(depth: usize) -> Vec<u8> {
    let mut json = br#"{"organization-name":"Deep","report-id":"deep-1","policies":"#.to_vec();
    json.extend(std::iter::repeat_n(b'[', depth));
    json.extend(std::iter::repeat_n(b']', depth));
    json.push(b'}');
    json
}

/// A sparse file of `size` bytes that starts like a report: no disk is used for the rest.
fn sparse_file(path: &Path, size: u64) {
    let mut file = std::fs::File::create(path).unwrap();
    file.write_all(br#"{"organization-name":"Huge","report-id":"huge-1","policies":["#)
        .unwrap();
    file.set_len(size).unwrap();
}

/// A report whose organization-name is "Bäd" in Latin-1: not UTF-8.
fn latin1_report() -> Vec<u8> {
    let mut bytes = simple_report("Bad", "utf8-1", "example.com", 1);
    let at = bytes.windows(3).position(|w| w == b"Bad").unwrap();
    bytes[at + 1] = 0xE4;
    bytes
}

/// The first `n` bytes of the file at `path`.
fn first_bytes(path: &Path, n: usize) -> Vec<u8> {
    let mut head = Vec::with_capacity(n);
    std::fs::File::open(path)
        .unwrap()
        .take(n as u64)
        .read_to_end(&mut head)
        .unwrap();
    head
}

fn every_bad_input_is_rejected_kept_and_the_batch_goes_on(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let mut expected = Vec::new();

    sandbox.write(
        "in/01-good.json",
        &simple_report("Good", "g1", "one.example", 11),
    );

    let whole = gzip(&simple_report("Bad", "trunc-1", "example.com", 1));
    let truncated = sandbox.write("in/02-truncated.json.gz", &whole[..whole.len() / 2]);
    expected.push(expect(truncated, &["gzip", "truncated"]));

    let bomb = gzip_bomb(4 * MIB);
    assert!(bomb.len() < 64 * 1024, "the bomb is small: {}", bomb.len());
    let gz_bomb = sandbox.write("in/03-bomb.json.gz", &bomb);
    expected.push(expect(gz_bomb, &["1048576", "--max-decompressed-size"]));

    sandbox.write(
        "in/04-good.json.gz",
        &gzip(&simple_report("Good", "g2", "two.example", 22)),
    );

    let zeros = vec![0; 4 * MIB];
    let zip_bomb = sandbox.write("in/05-bomb.zip", &zip(&[("report.json", &zeros)]));
    expected.push(expect(zip_bomb, &["1048576", "--max-decompressed-size"]));

    let invalid_utf8 = sandbox.write("in/06-latin1.json", &latin1_report());
    expected.push(expect(invalid_utf8, &["not valid JSON"]));

    let deep = sandbox.write("in/07-deep.json", &deep_json(10_000));
    expected.push(expect(deep, &["not valid JSON"]));

    let huge = sandbox.path("in/08-huge.json");
    let huge_size = 100 * MIB as u64;
    sparse_file(&huge, huge_size);
    let head = first_bytes(&huge, MIB);
    expected.push(Expect {
        path: huge,
        reason_has: &["104857600", "52428800", "--max-input-size"],
        kept: Some(head),
        size: huge_size,
    });

    let negative = sandbox.write(
        "in/09-negative.json",
        &edit(
            &serde_json::to_vec_pretty(&report(
                "Bad",
                "neg-1",
                "2026-03-01T00:00:00Z",
                "2026-03-01T23:59:59Z",
                vec![policy(
                    "sts",
                    "example.com",
                    5,
                    3,
                    &[("validation-failure", 3)],
                )],
            ))
            .unwrap(),
            "\"failed-session-count\": 3",
            "\"failed-session-count\": -3",
        ),
    );
    expected.push(expect(negative, &["failed-session-count", "-3"]));

    let fraction = sandbox.write(
        "in/10-fraction.json",
        &edit(
            &simple_report("Bad", "frac-1", "example.com", 1),
            "\"total-failure-session-count\": 0",
            "\"total-failure-session-count\": 2.5",
        ),
    );
    expected.push(expect(fraction, &["total-failure-session-count", "2.5"]));

    let dangling = sandbox.path("in/11-dangling.json");
    std::os::unix::fs::symlink(sandbox.path("in/gone.json"), &dangling).unwrap();
    expected.push(Expect {
        path: dangling,
        reason_has: &["cannot read"],
        kept: None,
        size: 0,
    });

    sandbox.write(
        "in/12-good.eml",
        &report_mail(
            &gzip(&simple_report("Good", "g3", "three.example", 33)),
            "g3.json.gz",
        ),
    );

    let mut args: Vec<OsString> = ["ingest", "--json", "--max-decompressed-size", "1MiB"]
        .map(OsString::from)
        .into();
    args.push(sandbox.path("in").into_os_string());
    // The folder walk meets every file, the dangling link among them.
    let run = sandbox.run(&args);
    let summary = Summary::parse(&run.stdout());
    assert_eq!(
        summary,
        Summary::new(3, 0, expected.len() as u64, 0),
        "stderr: {}",
        run.stderr()
    );
    assert_eq!(run.code, 2);

    // The good reports around the bad ones are all stored.
    let stats: Value = serde_json::from_str(&sandbox.stats_json(&[])).unwrap();
    let stored: Vec<(String, u64)> = stats["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["policy_domain"].as_str().unwrap().to_owned(),
                d["successful_sessions"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        stored,
        [
            ("one.example".to_owned(), 11),
            ("three.example".to_owned(), 33),
            ("two.example".to_owned(), 22)
        ]
    );

    let list = sandbox.rejected();
    let lines = run.rejected_lines();
    let mut problems = Vec::new();
    for e in &expected {
        let name = e.path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(r) = list
            .iter()
            .find(|r| r["locator"] == e.path.display().to_string().as_str())
        else {
            problems.push(format!("{name}: not listed by `rejected`"));
            continue;
        };
        let reason = r["reason"].as_str().unwrap_or_default();
        for word in e.reason_has {
            if !reason.contains(word) {
                problems.push(format!("{name}: reason lacks {word:?}: {reason}"));
            }
        }
        let line = format!("rejected: {}: {reason}", e.path.display());
        if !lines.contains(&line) {
            problems.push(format!("{name}: not on stderr as {line:?}"));
        }
        match &e.kept {
            Some(bytes) => {
                if r["raw_size"] != e.size {
                    problems.push(format!("{name}: raw_size {} != {}", r["raw_size"], e.size));
                }
                let complete = bytes.len() as u64 == e.size;
                if r["raw_complete"] != complete {
                    problems.push(format!("{name}: raw_complete {}", r["raw_complete"]));
                }
                let kept = sandbox.raw(r["id"].as_i64().unwrap());
                if kept != *bytes {
                    problems.push(format!(
                        "{name}: kept {} bytes that differ from the input's first {}",
                        kept.len(),
                        bytes.len()
                    ));
                }
            }
            None => {
                if !r["raw_size"].is_null() {
                    problems.push(format!("{name}: raw_size {}", r["raw_size"]));
                }
            }
        }
    }
    assert_eq!(list.len(), expected.len(), "{list:#?}");
    assert!(problems.is_empty(), "{problems:#?}");
}

fn a_dangling_symlink_named_on_the_command_line_is_rejected(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let good = sandbox.write("good.json", &simple_report("Good", "g", "example.com", 1));
    let dangling = sandbox.path("dangling.json");
    std::os::unix::fs::symlink(sandbox.path("gone.json"), &dangling).unwrap();
    let (run, summary) = sandbox.ingest_json(&[&dangling, &good]);
    assert_eq!(summary, Summary::new(1, 0, 1, 0), "{}", run.stderr());
    assert_eq!(run.code, 2);
    let lines = run.rejected_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!("rejected: {}: cannot read", dangling.display())),
        "{lines:?}"
    );
    let list = sandbox.rejected();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["locator"], dangling.display().to_string());
}

fn the_decompression_cap_is_read_from_the_environment(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let bomb = sandbox.write("bomb.json.gz", &gzip_bomb(2 * MIB));
    let mut command = sandbox.command();
    command
        .env("TLSRPT_MAX_DECOMPRESSED_SIZE", "1MiB")
        .args(["ingest", "--json"])
        .arg(&bomb);
    let run = crate::support::run(command);
    assert_eq!(Summary::parse(&run.stdout()), Summary::new(0, 0, 1, 0));
    assert!(
        run.stderr().contains("--max-decompressed-size"),
        "{}",
        run.stderr()
    );

    // Under the default cap of 20 MiB, 2 MiB of zeros is no bomb, and no report either.
    let (_, summary) = sandbox.ingest_json(&[&bomb]);
    assert_eq!(summary, Summary::new(0, 0, 0, 1));
}

fn an_input_over_a_lowered_size_limit_keeps_its_first_mib(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let big = sandbox.path("big.json");
    sparse_file(&big, 3 * MIB as u64);
    let good = sandbox.write("good.json", &simple_report("Good", "g", "example.com", 1));
    let run = sandbox.run([
        OsString::from("ingest"),
        "--json".into(),
        "--max-input-size".into(),
        "2MiB".into(),
        big.clone().into(),
        good.into(),
    ]);
    assert_eq!(Summary::parse(&run.stdout()), Summary::new(1, 0, 1, 0));
    let list = sandbox.rejected();
    assert_eq!(list[0]["raw_size"], 3 * MIB as u64);
    assert_eq!(list[0]["raw_complete"], false);
    let kept = sandbox.raw(list[0]["id"].as_i64().unwrap());
    assert!(kept == first_bytes(&big, MIB));
}

fn invalid_utf8_is_rejected_with_a_reason_that_says_so(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let latin1 = sandbox.write("latin1.json", &latin1_report());
    let (run, summary) = sandbox.ingest_json(&[&latin1]);
    assert_eq!(summary, Summary::new(0, 0, 1, 0));
    let reason = sandbox.rejected()[0]["reason"].as_str().unwrap().to_owned();
    assert!(
        reason.contains("UTF-8"),
        "the reason should say the input is not UTF-8: {reason:?} (stderr: {})",
        run.stderr()
    );
}
