//! The real-world corpus (../shared/corpus/tlsrpt-real) through `tlsrpt ingest` and
//! `tlsrpt stats`, against figures derived independently of this project.
//!
//! The expected figures were derived once with Python 3's json, gzip, base64 and email
//! modules: every `.json` read as is, `.json.gz` gunzipped, `.b64` base64-decoded then
//! gunzipped, every `.eml`/`.elm` parsed with `email.message_from_bytes` and its
//! `application/tlsrpt+*`, `application/gzip`, `application/json` and
//! `application/octet-stream` parts decoded; MANIFEST.md is not a report. Reports were
//! de-duplicated on (organization-name, report-id) in file-name order, and each policy
//! entry summed per (lower-cased policy-domain without trailing dot, policy-type).

use serde_json::{Value, json};

use crate::support::{Backend, Sandbox, Summary, on_both_backends};

on_both_backends!(the_real_corpus_gives_the_independently_derived_totals,);

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/tlsrpt-real"
);

fn corpus() -> std::path::PathBuf {
    std::path::Path::new(CORPUS)
        .canonicalize()
        .expect("../shared/corpus/tlsrpt-real beside the clone")
}

/// (domain, type, reports, successful, failed, failures by result type).
type Row = (
    &'static str,
    &'static str,
    u64,
    u64,
    u64,
    &'static [(&'static str, u64)],
);

/// Every (policy-domain, policy-type) pair of the corpus, as derived in Python.
/// josh.scot comes from the edited Neztore `.json` (read before its `.json.gz`, which
/// carries the same report-id): its details (3) disagree with its summary (2).
const EXPECTED: &[Row] = &[
    ("blogreen.org", "sts", 1, 1, 0, &[]),
    ("cardinalhealth.ca", "no-policy-found", 1, 48, 0, &[]),
    (
        "company-y.example",
        "sts",
        1,
        5326,
        303,
        &[
            ("certificate-expired", 100),
            ("starttls-not-supported", 200),
            ("validation-failure", 3),
        ],
    ),
    ("digilicious.com", "sts", 1, 5, 0, &[]),
    ("domain.de", "no-policy-found", 1, 2, 0, &[]),
    (
        "example.com",
        "sts",
        11,
        4633,
        7,
        &[
            ("certificate-expired", 2),
            ("certificate-host-mismatch", 1),
            ("sts-policy-fetch-error", 2),
            ("validation-failure", 3),
        ],
    ),
    ("fastmaildmarc.com", "no-policy-found", 1, 343, 0, &[]),
    ("foo-bar.io", "no-policy-found", 1, 1, 0, &[]),
    ("foo-bar.io", "sts", 1, 1, 0, &[]),
    ("josh.scot", "sts", 1, 2, 2, &[("Testing", 3)]),
    (
        "krvtz.net",
        "sts",
        4,
        5,
        1,
        &[("sts-policy-fetch-error", 1)],
    ),
    ("krvtz.net", "tlsa", 1, 2, 0, &[]),
    ("random.net", "sts", 1, 2, 0, &[]),
    ("random.net", "tlsa", 1, 2, 0, &[]),
    ("server.com", "sts", 1, 1, 0, &[]),
    ("test.xmox.nl", "sts", 2, 5, 0, &[]),
    (
        "xxxxxxxx.xx",
        "sts",
        1,
        0,
        3,
        &[("sts-policy-fetch-error", 3)],
    ),
];

fn expected_stats(rows: &[Row]) -> Value {
    let domains: Vec<Value> = rows
        .iter()
        .map(|&(domain, kind, reports, ok, failed, by_type)| {
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
        })
        .collect();
    json!({ "domains": domains })
}

fn the_real_corpus_gives_the_independently_derived_totals(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let dir = corpus();
    // 39 files besides MANIFEST.md, one report candidate each: 29 distinct reports,
    // 9 copies of them, 1 rejection; MANIFEST.md is not a report.
    let (run, summary) = sandbox.ingest_json(&[&dir]);
    assert_eq!(summary, Summary::new(29, 9, 1, 1), "{}", run.stderr());
    assert_eq!(run.code, 2);

    // rpt03.json has no policy-domain: Python's KeyError('policy-domain').
    let rpt03 = dir.join("stalwartlabs-mail-auth__rpt03.json");
    let lines = run.rejected_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!("rejected: {}: ", rpt03.display())),
        "{lines:?}"
    );
    assert!(lines[0].contains("policy-domain"), "{lines:?}");
    let rejected = sandbox.rejected();
    assert_eq!(rejected.len(), 1);
    let id = rejected[0]["id"].as_i64().unwrap();
    assert!(sandbox.raw(id) == std::fs::read(&rpt03).unwrap());

    let stats: Value = serde_json::from_str(&sandbox.stats_json(&[])).unwrap();
    assert_eq!(stats, expected_stats(EXPECTED));

    // A few domains on their own, through --domain.
    for domain in ["example.com", "krvtz.net", "xxxxxxxx.xx"] {
        let rows: Vec<Row> = EXPECTED.iter().copied().filter(|r| r.0 == domain).collect();
        let filtered: Value =
            serde_json::from_str(&sandbox.stats_json(&["--domain", domain])).unwrap();
        assert_eq!(filtered, expected_stats(&rows), "{domain}");
    }

    // Everything again: no new report, and the same rejection and non-report.
    let (_, again) = sandbox.ingest_json(&[&dir]);
    assert_eq!(again, Summary::new(0, 29 + 9, 1, 1));
    let after: Value = serde_json::from_str(&sandbox.stats_json(&[])).unwrap();
    assert_eq!(after, stats);
}
