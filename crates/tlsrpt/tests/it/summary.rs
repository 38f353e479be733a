//! `tlsrpt ingest`: the summary (JSON and text) and the exit status, 0, 2 or 1.

use crate::support::{
    Backend, Sandbox, Summary, bare_command, edit, on_both_backends, run, simple_report,
};

on_both_backends!(
    json_summary_counts_every_outcome_and_exit_is_0_without_rejections,
    exit_is_2_when_anything_is_rejected,
    text_summary_is_one_line_with_every_count,
);

/// A DMARC aggregate report: not a TLS report, and not an error.
const DMARC_XML: &[u8] = b"<?xml version=\"1.0\"?>\n<feedback><report_metadata>\
<org_name>dmarc.example</org_name></report_metadata></feedback>\n";

/// A report whose counts are negative: rejected.
fn negative_report() -> Vec<u8> {
    edit(
        &simple_report("Reporter", "neg-1", "example.com", 1),
        "\"total-successful-session-count\": 1",
        "\"total-successful-session-count\": -1",
    )
}

fn json_summary_counts_every_outcome_and_exit_is_0_without_rejections(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let a = sandbox.write("a.json", &simple_report("Reporter", "a", "a.example", 1));
    let b = sandbox.write("b.json", &simple_report("Reporter", "b", "b.example", 2));
    let dmarc = sandbox.write("dmarc.xml", DMARC_XML);

    let (run, summary) = sandbox.ingest_json(&[&a, &b, &dmarc]);
    assert_eq!(summary, Summary::new(2, 0, 0, 1));
    assert_eq!(run.code, 0, "stderr: {}", run.stderr());
    assert!(run.rejected_lines().is_empty(), "{}", run.stderr());

    let (run, summary) = sandbox.ingest_json(&[&b, &a]);
    assert_eq!(summary, Summary::new(0, 2, 0, 0));
    assert_eq!(run.code, 0);
}

fn exit_is_2_when_anything_is_rejected(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let good = sandbox.write(
        "good.json",
        &simple_report("Reporter", "g", "example.com", 3),
    );
    let bad = sandbox.write("negative.json", &negative_report());

    let (run, summary) = sandbox.ingest_json(&[&good, &bad]);
    assert_eq!(summary, Summary::new(1, 0, 1, 0));
    assert_eq!(run.code, 2, "stderr: {}", run.stderr());
}

fn text_summary_is_one_line_with_every_count(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let good = sandbox.write(
        "good.json",
        &simple_report("Reporter", "g", "example.com", 3),
    );
    let bad = sandbox.write("negative.json", &negative_report());
    let dmarc = sandbox.write("dmarc.xml", DMARC_XML);

    let mut args = vec!["ingest".into(), good.clone(), bad, dmarc];
    args.push(good);
    let run = sandbox.run(&args);
    assert_eq!(run.code, 2);
    let stdout = run.stdout();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one summary line: {stdout:?}");
    let line = lines[0];
    assert!(
        line.starts_with("1 stored, 1 duplicates, 1 rejected, 1 not TLS reports ("),
        "{line:?}"
    );
    assert!(line.ends_with(" s)"), "{line:?}");
}

#[test]
fn exit_is_1_when_the_database_directory_cannot_be_created() {
    let sandbox = Sandbox::new();
    let good = sandbox.write(
        "good.json",
        &simple_report("Reporter", "g", "example.com", 3),
    );
    let mut command = bare_command();
    command
        .args(["--database-url", "/proc/x/y.db", "ingest", "--json"])
        .arg(&good);
    let run = run(command);
    assert_eq!(run.code, 1, "stderr: {}", run.stderr());
    assert!(run.stdout.is_empty(), "no summary: {}", run.stdout());
    let stderr = run.stderr();
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("/proc/x"), "names the place: {stderr}");
}

#[test]
fn exit_is_1_on_an_unsupported_database_url() {
    let sandbox = Sandbox::new();
    let good = sandbox.write(
        "good.json",
        &simple_report("Reporter", "g", "example.com", 3),
    );
    let mut command = bare_command();
    command
        .current_dir(sandbox.path(""))
        .env("TLSRPT_DATABASE_URL", "mysql://db.example/tlsrpt")
        .args(["ingest", "--json"])
        .arg(&good);
    let run = run(command);
    assert_eq!(run.code, 1, "stderr: {}", run.stderr());
    assert!(run.stdout.is_empty(), "no summary: {}", run.stdout());
    let stderr = run.stderr();
    assert!(stderr.contains("unsupported database URL"), "{stderr}");
    assert!(stderr.contains("mysql://db.example/tlsrpt"), "{stderr}");
    // Nothing was created under a name derived from the URL.
    let created: Vec<_> = std::fs::read_dir(sandbox.path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(created, [std::ffi::OsString::from("good.json")]);
}

#[test]
fn exit_is_1_when_the_database_file_is_not_a_database() {
    let sandbox = Sandbox::new();
    let good = sandbox.write(
        "good.json",
        &simple_report("Reporter", "g", "example.com", 3),
    );
    std::fs::write(sandbox.db(), vec![b'x'; 8192]).unwrap();
    let run = sandbox.run([std::ffi::OsStr::new("ingest"), good.as_os_str()]);
    assert_eq!(run.code, 1, "stderr: {}", run.stderr());
    assert!(run.stdout.is_empty(), "no summary: {}", run.stdout());
    assert!(run.stderr().starts_with("error: "), "{}", run.stderr());
}

#[test]
fn a_fatal_error_names_its_cause_once() {
    let sandbox = Sandbox::new();
    let good = sandbox.write(
        "good.json",
        &simple_report("Reporter", "g", "example.com", 3),
    );
    let mut command = bare_command();
    command
        .args(["--database-url", "/proc/x/y.db", "ingest"])
        .arg(&good);
    let run = run(command);
    assert_eq!(run.code, 1);
    let stderr = run.stderr();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "the cause is printed once: {stderr}"
    );
}
