//! `tlsrpt stats`: exact totals per (policy-domain, policy-type) over a handful of
//! hand-written reports, and the `--domain`, `--since` and `--until` filters.

use serde_json::{Value, json};

use crate::support::{Backend, Sandbox, Summary, on_both_backends, policy, report};

on_both_backends!(
    totals_over_all_reports,
    domain_filter_ignores_case_and_a_trailing_dot,
    until_includes_the_whole_last_day,
    since_starts_at_midnight_utc,
    since_and_until_together,
    text_output_has_a_row_per_pair,
);

/// Five reports, written to the sandbox and ingested:
///
/// | report | start (UTC)          | entries                                                        |
/// |--------|----------------------|----------------------------------------------------------------|
/// | r0     | 2025-12-31 23:59:59  | example.com sts 1000/0                                         |
/// | r1     | 2026-01-01 00:00:00  | example.com sts 100/5 (cert-expired 2, validation 3); example.net no-policy-found 7/0 |
/// | r2     | 2026-01-31 23:59:59  | example.com sts 10/1 (starttls 1) and 20/4 (cert-expired 4); `Example.NET.` no-policy-found 3/0 |
/// | r3     | 2026-02-01 00:00:00  | example.com sts 50/0; example.com tlsa 8/1 (tlsa-invalid 1); example.org sts 1/2 (fetch-error 2) |
/// | r4     | 2026-01-31 23:30:00  | (written as 2026-02-01T00:30:00+01:00) example.org sts 4/0     |
fn ingest_reports(sandbox: &Sandbox) {
    let reports = [
        report(
            "Alpha Mail",
            "r0",
            "2025-12-31T23:59:59Z",
            "2026-01-01T23:59:58Z",
            vec![policy("sts", "example.com", 1000, 0, &[])],
        ),
        report(
            "Alpha Mail",
            "r1",
            "2026-01-01T00:00:00Z",
            "2026-01-01T23:59:59Z",
            vec![
                policy(
                    "sts",
                    "example.com",
                    100,
                    5,
                    &[("certificate-expired", 2), ("validation-failure", 3)],
                ),
                policy("no-policy-found", "example.net", 7, 0, &[]),
            ],
        ),
        report(
            "Beta Mail",
            "r2",
            "2026-01-31T23:59:59Z",
            "2026-02-01T23:59:58Z",
            vec![
                policy(
                    "sts",
                    "example.com",
                    10,
                    1,
                    &[("starttls-not-supported", 1)],
                ),
                policy("sts", "example.com", 20, 4, &[("certificate-expired", 4)]),
                policy("no-policy-found", "Example.NET.", 3, 0, &[]),
            ],
        ),
        report(
            "Alpha Mail",
            "r3",
            "2026-02-01T00:00:00Z",
            "2026-02-01T23:59:59Z",
            vec![
                policy("sts", "example.com", 50, 0, &[]),
                policy("tlsa", "example.com", 8, 1, &[("tlsa-invalid", 1)]),
                policy("sts", "example.org", 1, 2, &[("sts-policy-fetch-error", 2)]),
            ],
        ),
        report(
            "Gamma Mail",
            "r4",
            "2026-02-01T00:30:00+01:00",
            "2026-02-02T00:29:59+01:00",
            vec![policy("sts", "example.org", 4, 0, &[])],
        ),
    ];
    let paths: Vec<_> = reports
        .iter()
        .enumerate()
        .map(|(i, r)| sandbox.write(&format!("r{i}.json"), &serde_json::to_vec(r).unwrap()))
        .collect();
    let paths: Vec<&std::path::Path> = paths.iter().map(AsRef::as_ref).collect();
    let (run, summary) = sandbox.ingest_json(&paths);
    assert_eq!(summary, Summary::new(5, 0, 0, 0), "{}", run.stderr());
}

fn entry(
    domain: &str,
    kind: &str,
    reports: u64,
    ok: u64,
    failed: u64,
    by_type: &[(&str, u64)],
) -> Value {
    let by_type: serde_json::Map<String, Value> = by_type
        .iter()
        .map(|&(t, n)| (t.to_owned(), json!(n)))
        .collect();
    json!({
        "policy_domain": domain,
        "policy_type": kind,
        "reports": reports,
        "successful_sessions": ok,
        "failed_sessions": failed,
        "failures_by_result_type": by_type,
    })
}

fn stats(sandbox: &Sandbox, args: &[&str]) -> Value {
    let stdout = sandbox.stats_json(args);
    assert_eq!(stdout.lines().count(), 1, "one line of JSON: {stdout}");
    serde_json::from_str(&stdout).unwrap()
}

fn domains(entries: Vec<Value>) -> Value {
    json!({ "domains": entries })
}

fn totals_over_all_reports(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    ingest_reports(&sandbox);
    let expected = domains(vec![
        // r0 + r1 + r2 (two entries, one report) + r3.
        entry(
            "example.com",
            "sts",
            4,
            1000 + 100 + 10 + 20 + 50,
            5 + 1 + 4,
            &[
                ("certificate-expired", 2 + 4),
                ("starttls-not-supported", 1),
                ("validation-failure", 3),
            ],
        ),
        entry("example.com", "tlsa", 1, 8, 1, &[("tlsa-invalid", 1)]),
        // r1 + r2, whose "Example.NET." is the same domain.
        entry("example.net", "no-policy-found", 2, 7 + 3, 0, &[]),
        entry(
            "example.org",
            "sts",
            2,
            1 + 4,
            2,
            &[("sts-policy-fetch-error", 2)],
        ),
    ]);
    assert_eq!(stats(&sandbox, &[]), expected);
}

fn domain_filter_ignores_case_and_a_trailing_dot(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    ingest_reports(&sandbox);
    let example_com = domains(vec![
        entry(
            "example.com",
            "sts",
            4,
            1180,
            10,
            &[
                ("certificate-expired", 6),
                ("starttls-not-supported", 1),
                ("validation-failure", 3),
            ],
        ),
        entry("example.com", "tlsa", 1, 8, 1, &[("tlsa-invalid", 1)]),
    ]);
    for spelling in ["example.com", "EXAMPLE.COM.", "Example.Com"] {
        assert_eq!(
            stats(&sandbox, &["--domain", spelling]),
            example_com,
            "{spelling}"
        );
    }
    assert_eq!(
        stats(&sandbox, &["--domain", "example.net."]),
        domains(vec![entry("example.net", "no-policy-found", 2, 10, 0, &[])])
    );
    assert_eq!(
        stats(&sandbox, &["--domain", "nowhere.example"]),
        domains(vec![])
    );
}

fn until_includes_the_whole_last_day(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    ingest_reports(&sandbox);
    // r0, r1, r2 (23:59:59 on the 31st) and r4 (23:30 UTC on the 31st); not r3.
    let expected = domains(vec![
        entry(
            "example.com",
            "sts",
            3,
            1000 + 100 + 30,
            10,
            &[
                ("certificate-expired", 6),
                ("starttls-not-supported", 1),
                ("validation-failure", 3),
            ],
        ),
        entry("example.net", "no-policy-found", 2, 10, 0, &[]),
        entry("example.org", "sts", 1, 4, 0, &[]),
    ]);
    assert_eq!(stats(&sandbox, &["--until", "2026-01-31"]), expected);
}

fn since_starts_at_midnight_utc(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    ingest_reports(&sandbox);
    // Only r3, which starts at 2026-02-01T00:00:00Z; r4 starts before, in UTC.
    let expected = domains(vec![
        entry("example.com", "sts", 1, 50, 0, &[]),
        entry("example.com", "tlsa", 1, 8, 1, &[("tlsa-invalid", 1)]),
        entry(
            "example.org",
            "sts",
            1,
            1,
            2,
            &[("sts-policy-fetch-error", 2)],
        ),
    ]);
    assert_eq!(stats(&sandbox, &["--since", "2026-02-01"]), expected);
}

fn since_and_until_together(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    ingest_reports(&sandbox);
    // r1, r2, r4: not r0 (the second before 2026-01-01) nor r3.
    assert_eq!(
        stats(
            &sandbox,
            &["--since", "2026-01-01", "--until", "2026-01-31"]
        ),
        domains(vec![
            entry(
                "example.com",
                "sts",
                2,
                130,
                10,
                &[
                    ("certificate-expired", 6),
                    ("starttls-not-supported", 1),
                    ("validation-failure", 3),
                ],
            ),
            entry("example.net", "no-policy-found", 2, 10, 0, &[]),
            entry("example.org", "sts", 1, 4, 0, &[]),
        ])
    );
    // One day: r2 and r4.
    assert_eq!(
        stats(
            &sandbox,
            &["--since", "2026-01-31", "--until", "2026-01-31"]
        ),
        domains(vec![
            entry(
                "example.com",
                "sts",
                1,
                30,
                5,
                &[("certificate-expired", 4), ("starttls-not-supported", 1)],
            ),
            entry("example.net", "no-policy-found", 1, 3, 0, &[]),
            entry("example.org", "sts", 1, 4, 0, &[]),
        ])
    );
    assert_eq!(
        stats(
            &sandbox,
            &["--domain", "example.org", "--since", "2026-02-01"]
        ),
        domains(vec![entry(
            "example.org",
            "sts",
            1,
            1,
            2,
            &[("sts-policy-fetch-error", 2)]
        )])
    );
}

fn text_output_has_a_row_per_pair(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    ingest_reports(&sandbox);
    let run = sandbox.run(["stats"]);
    assert_eq!(run.code, 0);
    let stdout = run.stdout();
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        vec![
            vec![
                "example.com",
                "sts",
                "4",
                "1180",
                "10",
                "certificate-expired=6,",
                "starttls-not-supported=1,",
                "validation-failure=3"
            ],
            vec!["example.com", "tlsa", "1", "8", "1", "tlsa-invalid=1"],
            vec!["example.net", "no-policy-found", "2", "10", "0"],
            vec![
                "example.org",
                "sts",
                "2",
                "5",
                "2",
                "sts-policy-fetch-error=2"
            ],
        ],
        "{stdout}"
    );
    let empty = sandbox.run(["stats", "--domain", "nowhere.example"]);
    assert_eq!(empty.stdout(), "no reports match\n");
}

#[test]
fn an_invalid_date_is_a_usage_error() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(["stats", "--since", "2026-13-01"]);
    assert_eq!(run.code, 2, "{}", run.stderr());
    assert!(run.stderr().contains("--since"), "{}", run.stderr());
}

#[test]
fn the_output_is_the_same_bytes_on_both_backends() {
    let (sqlite, postgres) = (Sandbox::on(Backend::Sqlite), Sandbox::on(Backend::Postgres));
    ingest_reports(&sqlite);
    ingest_reports(&postgres);
    for args in [
        &[][..],
        &["--domain", "EXAMPLE.com."],
        &["--since", "2026-01-01", "--until", "2026-01-31"],
        &["--domain", "example.org", "--since", "2026-02-01"],
    ] {
        assert_eq!(
            sqlite.stats_json(args),
            postgres.stats_json(args),
            "{args:?}"
        );
    }
    let text = |sandbox: &Sandbox| sandbox.run(["stats"]).stdout();
    assert_eq!(text(&sqlite), text(&postgres));
}
