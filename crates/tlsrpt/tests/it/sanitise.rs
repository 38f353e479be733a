//! Terminal safety: text from reports and from file names is printed with control
//! characters made visible, never as raw escape sequences.

use std::ffi::OsStr;

use crate::support::{Backend, Sandbox, bare_command, on_both_backends, policy, report, run};

on_both_backends!(escape_sequences_in_reports_and_paths_are_made_visible,);

const ESC: u8 = 0x1b;

fn assert_no_escape(what: &str, bytes: &[u8]) {
    assert!(
        !bytes.contains(&ESC),
        "{what} holds a raw ESC: {:?}",
        String::from_utf8_lossy(bytes)
    );
}

fn escape_sequences_in_reports_and_paths_are_made_visible(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let hostile = report(
        "Evil \u{1b}[31mCorp",
        "evil-\u{1b}[2J-1",
        "2026-03-01T00:00:00Z",
        "2026-03-01T23:59:59Z",
        vec![policy(
            "sts",
            "evil\u{1b}[31m.example",
            1,
            1,
            &[("x\u{1b}[5m", 1)],
        )],
    );
    let good = sandbox.write("good.json", &serde_json::to_vec(&hostile).unwrap());
    // A rejected file whose name and reason both carry an escape sequence.
    let bad_report = serde_json::json!({
        "organization-name": "Evil",
        "report-id": "evil-2",
        "date-range": {
            "start-datetime": "not a date \u{1b}[31m",
            "end-datetime": "2026-03-01T23:59:59Z"
        },
        "policies": [],
    });
    let bad = sandbox.write(
        "bad-\u{1b}[31m.json",
        &serde_json::to_vec(&bad_report).unwrap(),
    );

    let ingest = sandbox.run([OsStr::new("ingest"), good.as_os_str(), bad.as_os_str()]);
    assert_eq!(
        ingest.code,
        2,
        "{}",
        String::from_utf8_lossy(&ingest.stderr)
    );
    assert_no_escape("ingest stdout", &ingest.stdout);
    assert_no_escape("ingest stderr", &ingest.stderr);
    let stderr = ingest.stderr();
    assert!(
        stderr.contains("bad-\\u{1b}[31m.json"),
        "the escape is shown: {stderr}"
    );

    for args in [
        &["stats"][..],
        &["stats", "--json"],
        &["rejected"],
        &["rejected", "--json"],
    ] {
        let run = sandbox.run(args);
        assert_eq!(
            run.code,
            0,
            "{args:?}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert_no_escape(&format!("{args:?} stdout"), &run.stdout);
        assert_no_escape(&format!("{args:?} stderr"), &run.stderr);
    }
    let stats = sandbox.run(["stats"]).stdout();
    assert!(stats.contains("evil\\u{1b}[31m.example"), "{stats}");
    let rejected = sandbox.run(["rejected"]).stdout();
    assert!(rejected.contains("bad-\\u{1b}[31m.json"), "{rejected}");
}

#[test]
fn an_escape_in_a_fatal_error_is_made_visible() {
    let mut command = bare_command();
    command.args(["--database-url", "mysql://\u{1b}[31mhost/db", "stats"]);
    let run = run(command);
    assert_eq!(run.code, 1);
    assert_no_escape("stderr", &run.stderr);
}
