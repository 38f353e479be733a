//! `tlsrpt ingest` bounds the bytes it holds, not only the number of inputs: large inputs
//! that are rejected (and so kept whole, for inspection) are committed in batches that
//! fit `--max-held-size`, and every one of them is still kept.

use std::process::{Command, Stdio};
use std::time::Duration;

use tlsrpt_testkit::noise::incompressible;

use crate::support::{Sandbox, Summary};

const MIB: usize = 1 << 20;
const FILES: usize = 24;
const FILE_SIZE: usize = 3 * MIB;

/// A broken report of [`FILE_SIZE`] bytes: it starts like one, then goes on with bytes
/// that gzip cannot shrink, so that what is kept of it is as large as it is.
fn broken_report(seed: u64) -> Vec<u8> {
    let mut bytes = br#"{"organization-name":"Big","report-id":""#.to_vec();
    bytes.extend(incompressible(FILE_SIZE - bytes.len(), seed));
    bytes
}

/// The peak resident memory (VmHWM) of process `pid` so far, in bytes, if it still runs.
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Runs `command` to its end: its exit code, its stdout, and its peak resident memory,
/// read from /proc while it ran (the high-water mark only grows, so the last reading
/// before it exits holds the peak up to then).
fn run_measured(mut command: Command) -> (i32, String, u64) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run tlsrpt");
    let stdout = child.stdout.take().expect("stdout");
    let reading = std::thread::spawn(move || std::io::read_to_string(stdout).expect("stdout"));
    let mut peak = 0;
    let status = loop {
        if let Some(rss) = peak_rss(child.id()) {
            peak = peak.max(rss);
        }
        if let Some(status) = child.try_wait().expect("wait for tlsrpt") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let code = status.code().expect("exited, not killed");
    (code, reading.join().expect("stdout reader"), peak)
}

#[test]
fn large_rejected_inputs_are_committed_in_batches_that_fit_the_held_size() {
    let sandbox = Sandbox::new();
    let inputs: Vec<Vec<u8>> = (0..FILES as u64).map(broken_report).collect();
    for (i, bytes) in inputs.iter().enumerate() {
        sandbox.write(&format!("in/big-{i:02}.json"), bytes);
    }
    let mut command = sandbox.command();
    command
        .args(["ingest", "--json", "--max-held-size", "8MiB"])
        .arg(sandbox.path("in"));
    let (code, stdout, peak) = run_measured(command);

    assert_eq!(code, 2, "some inputs were rejected: exit 2");
    assert_eq!(Summary::parse(&stdout), Summary::new(0, 0, FILES as u64, 0));
    // Held whole, the 72 MiB of kept inputs are also bound into one statement: a peak of
    // 259 MiB here, against 102 MiB when a few inputs at a time are held.
    assert!(
        peak < 160 * MIB as u64,
        "peak resident memory {} MiB",
        peak / MIB as u64
    );
    let rejected = sandbox.rejected();
    assert_eq!(rejected.len(), FILES);
    for entry in &rejected {
        assert_eq!(entry["raw_size"], FILE_SIZE as u64, "{entry}");
        assert_eq!(entry["raw_complete"], true, "{entry}");
    }
    for entry in [&rejected[0], &rejected[FILES - 1]] {
        let locator = entry["locator"].as_str().expect("a locator");
        let i: usize = locator
            .trim_end_matches(".json")
            .rsplit('-')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("big-NN.json");
        let id = entry["id"].as_i64().expect("an id");
        assert!(sandbox.raw(id) == inputs[i], "input {i} kept whole");
    }
}
