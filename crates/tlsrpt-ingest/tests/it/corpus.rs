//! Conformance over the corpus of real reports in `../shared/corpus/tlsrpt-real`: every
//! file is read through `files::plan` + `files::read` and must yield exactly the reports
//! (or the rejection) in the table below.
//!
//! The table was computed independently of this project's parser, with Python's `json`,
//! `email`, `gzip` and `base64` modules: each mail part that is not a text body was
//! decoded and unpacked by its magic bytes, then the report's organization-name,
//! report-id, and per policy the policy-domain, policy-type, summary counts and the
//! failed-session-count summed per result-type were read off the JSON and checked by eye.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use tlsrpt_ingest::files::Source;
use tlsrpt_ingest::{Found, Limits};

use crate::read_all;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/tlsrpt-real"
);

#[derive(Debug)]
enum Outcome {
    /// These reports, in order, and nothing rejected.
    Reports(&'static [Rpt]),
    /// One rejection whose reason holds these words.
    Rejected(&'static [&'static str]),
    /// Not a report, for a reason holding these words.
    NotReport(&'static [&'static str]),
}
use Outcome::{NotReport, Rejected, Reports};

#[derive(Debug)]
struct Rpt {
    org: &'static str,
    id: &'static str,
    policies: &'static [Pol],
}

#[derive(Debug, PartialEq, Eq)]
struct Pol {
    domain: &'static str,
    policy_type: &'static str,
    successful: u64,
    failed: u64,
    /// Failed sessions summed per result-type, sorted by result-type.
    failures: &'static [(&'static str, u64)],
}

const fn pol(
    domain: &'static str,
    policy_type: &'static str,
    successful: u64,
    failed: u64,
    failures: &'static [(&'static str, u64)],
) -> Pol {
    Pol {
        domain,
        policy_type,
        successful,
        failed,
        failures,
    }
}

/// File name → what it holds.
const EXPECTED: &[(&str, Outcome)] = &[
    (
        "MANIFEST.md",
        NotReport(&["neither JSON, gzip, zip nor mail"]),
    ),
    (
        "Neztore-tls-rpt-monitor__microsoft-report.json",
        Reports(&[Rpt {
            org: "Microsoft Corporation",
            id: "133988091029006454+josh.scot",
            policies: &[pol("josh.scot", "sts", 2, 2, &[("Testing", 3)])],
        }]),
    ),
    (
        "Neztore-tls-rpt-monitor__microsoft-report.json.gz",
        Reports(&[Rpt {
            org: "Microsoft Corporation",
            id: "133988091029006454+josh.scot",
            policies: &[pol("josh.scot", "sts", 2, 0, &[])],
        }]),
    ),
    (
        "cry-inc-dmarc-report-viewer__google.json",
        Reports(&[Rpt {
            org: "Google Inc.",
            id: "2025-05-22T00:00:00Z_foo-bar.io",
            policies: &[pol("foo-bar.io", "sts", 1, 0, &[])],
        }]),
    ),
    (
        "cry-inc-dmarc-report-viewer__google@bbd2196f.json",
        Reports(&[Rpt {
            org: "Google Inc.",
            id: "2025-04-12T00:00:00Z_domain.de",
            policies: &[pol("domain.de", "no-policy-found", 2, 0, &[])],
        }]),
    ),
    (
        "cry-inc-dmarc-report-viewer__microsoft.json",
        Reports(&[Rpt {
            org: "Microsoft Corporation",
            id: "133925885310113267+random.net",
            policies: &[
                pol("random.net", "sts", 2, 0, &[]),
                pol("random.net", "tlsa", 2, 0, &[]),
            ],
        }]),
    ),
    (
        "cry-inc-dmarc-report-viewer__no-contact.json",
        Reports(&[Rpt {
            org: "server.com",
            id: "123_456",
            policies: &[pol("server.com", "sts", 1, 0, &[])],
        }]),
    ),
    (
        "cry-inc-dmarc-report-viewer__no-policy.json",
        Reports(&[Rpt {
            org: "Google Inc.",
            id: "2025-03-27T00:00:00Z_foo-bar.io",
            policies: &[pol("foo-bar.io", "no-policy-found", 1, 0, &[])],
        }]),
    ),
    (
        "cry-inc-dmarc-report-viewer__no_ip_and_mx.json",
        Reports(&[Rpt {
            org: "Microsoft Corporation",
            id: "1234567890+",
            policies: &[pol(
                "xxxxxxxx.xx",
                "sts",
                0,
                3,
                &[("sts-policy-fetch-error", 3)],
            )],
        }]),
    ),
    (
        "cry-inc-dmarc-report-viewer__rfc-example.json",
        Reports(&[Rpt {
            org: "Company-X",
            id: "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
            policies: &[pol(
                "company-y.example",
                "sts",
                5326,
                303,
                &[
                    ("certificate-expired", 100),
                    ("starttls-not-supported", 200),
                    ("validation-failure", 3),
                ],
            )],
        }]),
    ),
    (
        "domainaware-parsedmarc__google.com_smtp_tls_report.eml",
        Reports(&[Rpt {
            org: "Google Inc.",
            id: "2024-09-03T00:00:00Z_cardinalhealth.ca",
            policies: &[pol("cardinalhealth.ca", "no-policy-found", 48, 0, &[])],
        }]),
    ),
    (
        "domainaware-parsedmarc__mail.ru.json",
        Reports(&[Rpt {
            org: "Mail.ru",
            id: "b28254de-7b2e-be36-bb5c-4c3b92da8b25@mail.ru",
            policies: &[pol(
                "example.com",
                "sts",
                0,
                1,
                &[("sts-policy-fetch-error", 2)],
            )],
        }]),
    ),
    (
        "domainaware-parsedmarc__rfc8460.json",
        Reports(&[Rpt {
            org: "Company-X",
            id: "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
            policies: &[pol(
                "company-y.example",
                "sts",
                5326,
                303,
                &[
                    ("certificate-expired", 100),
                    ("starttls-not-supported", 200),
                    ("validation-failure", 3),
                ],
            )],
        }]),
    ),
    (
        "domainaware-parsedmarc__smtp_tls.json",
        Reports(&[Rpt {
            org: "Example Inc.",
            id: "2024-01-09T00:00:00Z_example.com",
            policies: &[pol(
                "example.com",
                "sts",
                0,
                3,
                &[("validation-failure", 3)],
            )],
        }]),
    ),
    (
        "gene-hightower-internet-message-parser__encoding.test.ts-extracted-google-digilicious.eml",
        Reports(&[Rpt {
            org: "Google Inc.",
            id: "2022-01-09T00:00:00Z_digilicious.com",
            policies: &[pol("digilicious.com", "sts", 5, 0, &[])],
        }]),
    ),
    (
        "isseis-tlsrpt-digest__tlsrpt_failure.eml",
        Reports(&[Rpt {
            org: "Google Inc.",
            id: "2026-02-08T00:00:00Z_example.com",
            policies: &[pol(
                "example.com",
                "sts",
                4523,
                2,
                &[("certificate-expired", 2)],
            )],
        }]),
    ),
    (
        "isseis-tlsrpt-digest__tlsrpt_success_google_1.eml",
        Reports(&[Rpt {
            org: "Google Inc.",
            id: "2026-05-11T00:00:00Z_example.com",
            policies: &[pol("example.com", "sts", 1, 0, &[])],
        }]),
    ),
    (
        "isseis-tlsrpt-digest__tlsrpt_success_google_2.eml",
        Reports(&[Rpt {
            org: "Google Inc.",
            id: "2026-05-12T00:00:00Z_example.com",
            policies: &[pol("example.com", "sts", 4, 0, &[])],
        }]),
    ),
    (
        "isseis-tlsrpt-digest__tlsrpt_success_microsoft.eml",
        Reports(&[Rpt {
            org: "Microsoft Corporation",
            id: "134232617934286362+example.com",
            policies: &[pol("example.com", "sts", 2, 0, &[])],
        }]),
    ),
    (
        "kravietz-tlsrpt-rs__google1.eml",
        Reports(&[Rpt {
            org: "Google Inc.",
            id: "2024-09-15T00:00:00Z_krvtz.net",
            policies: &[pol("krvtz.net", "sts", 1, 0, &[])],
        }]),
    ),
    (
        "kravietz-tlsrpt-rs__google2.eml",
        Reports(&[Rpt {
            org: "Google Inc.",
            id: "2024-09-18T00:00:00Z_krvtz.net",
            policies: &[pol("krvtz.net", "sts", 2, 0, &[])],
        }]),
    ),
    (
        "kravietz-tlsrpt-rs__mail.ru.eml",
        Reports(&[Rpt {
            org: "Mail.ru",
            id: "c96d67df-0440-57f7-6e96-c83824d0fdf2@mail.ru",
            policies: &[pol(
                "krvtz.net",
                "sts",
                0,
                1,
                &[("sts-policy-fetch-error", 1)],
            )],
        }]),
    ),
    (
        "kravietz-tlsrpt-rs__mail.ru.json",
        Reports(&[Rpt {
            org: "Mail.ru",
            id: "c96d67df-0440-57f7-6e96-c83824d0fdf2@mail.ru",
            policies: &[pol(
                "krvtz.net",
                "sts",
                0,
                1,
                &[("sts-policy-fetch-error", 1)],
            )],
        }]),
    ),
    (
        "kravietz-tlsrpt-rs__microsoft1.eml",
        Reports(&[Rpt {
            org: "Microsoft Corporation",
            id: "133708152202987951+krvtz.net",
            policies: &[
                pol("krvtz.net", "sts", 2, 0, &[]),
                pol("krvtz.net", "tlsa", 2, 0, &[]),
            ],
        }]),
    ),
    (
        "kravietz-tlsrpt-rs__rfc8460.json",
        Reports(&[Rpt {
            org: "Company-X",
            id: "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
            policies: &[pol(
                "company-y.example",
                "sts",
                5326,
                303,
                &[
                    ("certificate-expired", 100),
                    ("starttls-not-supported", 200),
                    ("validation-failure", 3),
                ],
            )],
        }]),
    ),
    (
        "marcbradshaw-mail-tls-rpt__email.eml",
        Reports(&[Rpt {
            org: "Google Inc.",
            id: "2020-03-02T00:00:00Z_fastmaildmarc.com",
            policies: &[pol("fastmaildmarc.com", "no-policy-found", 343, 0, &[])],
        }]),
    ),
    (
        "marcbradshaw-mail-tls-rpt__report.json",
        Reports(&[Rpt {
            org: "Google Inc.",
            id: "2020-03-02T00:00:00Z_fastmaildmarc.com",
            policies: &[pol("fastmaildmarc.com", "no-policy-found", 343, 0, &[])],
        }]),
    ),
    (
        "marcbradshaw-mail-tls-rpt__report.json.gz.b64",
        Reports(&[Rpt {
            org: "Google Inc.",
            id: "2020-03-02T00:00:00Z_fastmaildmarc.com",
            policies: &[pol("fastmaildmarc.com", "no-policy-found", 343, 0, &[])],
        }]),
    ),
    (
        "mjl-mox__example.eml",
        Reports(&[Rpt {
            org: "Google Inc.",
            id: "2022-09-15T00:00:00Z_test.xmox.nl",
            policies: &[pol("test.xmox.nl", "sts", 3, 0, &[])],
        }]),
    ),
    (
        "mjl-mox__microsoft.eml",
        Reports(&[Rpt {
            org: "Microsoft Corporation",
            id: "133198585438131172+test.xmox.nl",
            policies: &[pol("test.xmox.nl", "sts", 2, 0, &[])],
        }]),
    ),
    (
        "opus-codium-email-report-processor__google.com!example.com!1667520000!1667606399!001.json",
        Reports(&[Rpt {
            org: "Google Inc.",
            id: "2022-11-04T00:00:00Z_example.com",
            policies: &[pol("example.com", "sts", 2, 0, &[])],
        }]),
    ),
    (
        "opus-codium-email-report-processor__report.elm",
        Reports(&[Rpt {
            org: "Google Inc.",
            id: "2023-02-02T00:00:00Z_blogreen.org",
            policies: &[pol("blogreen.org", "sts", 1, 0, &[])],
        }]),
    ),
    (
        "phi-ag-mta-sts-exporter__google.json",
        Reports(&[Rpt {
            org: "Google Inc.",
            id: "2024-02-17T00:00:00Z_example.com",
            policies: &[pol("example.com", "sts", 53, 0, &[])],
        }]),
    ),
    (
        "phi-ag-mta-sts-exporter__microsoft-2.json",
        Reports(&[Rpt {
            org: "Microsoft Corporation",
            id: "133561180919336230+example.com",
            policies: &[pol("example.com", "sts", 7, 0, &[])],
        }]),
    ),
    (
        "phi-ag-mta-sts-exporter__microsoft.json",
        Reports(&[Rpt {
            org: "Microsoft Corporation",
            id: "133526718584528772+example.com",
            policies: &[pol("example.com", "sts", 18, 0, &[])],
        }]),
    ),
    (
        "stalwartlabs-mail-auth__rpt01.eml",
        Reports(&[Rpt {
            org: "Company-X",
            id: "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
            policies: &[pol(
                "company-y.example",
                "sts",
                5326,
                303,
                &[
                    ("certificate-expired", 100),
                    ("starttls-not-supported", 200),
                    ("validation-failure", 3),
                ],
            )],
        }]),
    ),
    (
        "stalwartlabs-mail-auth__rpt01.json",
        Reports(&[Rpt {
            org: "Company-X",
            id: "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
            policies: &[pol(
                "company-y.example",
                "sts",
                5326,
                303,
                &[
                    ("certificate-expired", 100),
                    ("starttls-not-supported", 200),
                    ("validation-failure", 3),
                ],
            )],
        }]),
    ),
    (
        "stalwartlabs-mail-auth__rpt02.eml",
        Reports(&[Rpt {
            org: "Google Inc.",
            id: "2020-01-01T00:00:00Z_example.com",
            policies: &[pol(
                "example.com",
                "sts",
                23,
                1,
                &[("certificate-host-mismatch", 1)],
            )],
        }]),
    ),
    (
        "stalwartlabs-mail-auth__rpt02.json",
        Reports(&[Rpt {
            org: "Google Inc.",
            id: "2020-01-01T00:00:00Z_example.com",
            policies: &[pol(
                "example.com",
                "sts",
                23,
                1,
                &[("certificate-host-mismatch", 1)],
            )],
        }]),
    ),
    (
        "stalwartlabs-mail-auth__rpt03.json",
        Rejected(&["policies[0].policy.policy-domain is missing"]),
    ),
];

/// One policy as the table describes it: domain, type, successful and failed sessions,
/// and failed sessions per result-type.
type PolicySeen = (String, String, u64, u64, Vec<(String, u64)>);
/// One report as the table describes it: organization-name, report-id, policies.
type Seen = (String, String, Vec<PolicySeen>);

/// What a report found by the code holds, in the shape of the table.
fn observed(report: &tlsrpt_report::Report) -> Seen {
    let policies = report
        .policies
        .iter()
        .map(|p| {
            let mut failures: BTreeMap<String, u64> = BTreeMap::new();
            for d in &p.failure_details {
                *failures
                    .entry(d.result_type.as_str().to_owned())
                    .or_default() += d.failed_session_count;
            }
            (
                p.policy.policy_domain.clone(),
                p.policy.policy_type.as_str().to_owned(),
                p.summary.total_successful_session_count,
                p.summary.total_failure_session_count,
                failures.into_iter().collect(),
            )
        })
        .collect();
    (
        report.organization_name.clone(),
        report.report_id.clone(),
        policies,
    )
}

fn expected(r: &Rpt) -> Seen {
    let policies = r
        .policies
        .iter()
        .map(|p| {
            (
                p.domain.to_owned(),
                p.policy_type.to_owned(),
                p.successful,
                p.failed,
                p.failures
                    .iter()
                    .map(|(t, n)| ((*t).to_owned(), *n))
                    .collect(),
            )
        })
        .collect();
    (r.org.to_owned(), r.id.to_owned(), policies)
}

/// Checks one file against its row; returns a description of each difference.
fn check(file: &str, outcome: &Outcome) -> Vec<String> {
    let path = Path::new(CORPUS).join(file);
    let inputs = read_all(&path, &Limits::default());
    let mut problems = Vec::new();
    let [input] = inputs.as_slice() else {
        return vec![format!("{file}: expected one input, read {}", inputs.len())];
    };
    if input.locator != path.display().to_string() || input.source != Source::File {
        problems.push(format!(
            "{file}: input is {:?} at {:?}",
            input.source, input.locator
        ));
    }
    match outcome {
        Reports(reports) => {
            let found: Vec<_> = input
                .found
                .iter()
                .map(|f| match f {
                    Found::Report { report, .. } => Ok(observed(report)),
                    other => Err(format!("{other:?}")),
                })
                .collect();
            let want: Vec<_> = reports.iter().map(|r| Ok(expected(r))).collect();
            if found != want {
                problems.push(format!(
                    "{file}:\n  found    {found:?}\n  expected {want:?}"
                ));
            }
        }
        Rejected(words) => match input.found.as_slice() {
            [Found::Rejected { reason, .. }] if words.iter().all(|w| reason.contains(w)) => {}
            other => problems.push(format!(
                "{file}: expected a rejection {words:?}, found {other:?}"
            )),
        },
        NotReport(words) => match input.found.as_slice() {
            [Found::NotReport { reason }] if words.iter().all(|w| reason.contains(w)) => {}
            other => problems.push(format!(
                "{file}: expected not a report {words:?}, found {other:?}"
            )),
        },
    }
    problems
}

#[test]
fn every_corpus_file_yields_exactly_what_the_table_says() {
    let problems: Vec<String> = EXPECTED
        .iter()
        .flat_map(|(file, outcome)| check(file, outcome))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_table_lists_every_corpus_file_and_nothing_else() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(CORPUS)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let listed: BTreeSet<String> = EXPECTED.iter().map(|(f, _)| (*f).to_owned()).collect();
    assert_eq!(listed.len(), EXPECTED.len(), "a file is listed twice");
    assert_eq!(
        on_disk.difference(&listed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "corpus files missing from the table"
    );
    assert_eq!(
        listed.difference(&on_disk).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "table rows whose file left the corpus"
    );
}

#[test]
fn planning_the_corpus_folder_finds_every_file_once() {
    let (entries, errors) = tlsrpt_ingest::files::plan(&[CORPUS.into()]);
    assert_eq!(errors, vec![]);
    let names: Vec<String> = entries
        .iter()
        .map(|e| e.path.file_name().unwrap().to_str().unwrap().to_owned())
        .collect();
    let mut listed: Vec<String> = EXPECTED.iter().map(|(f, _)| (*f).to_owned()).collect();
    listed.sort();
    assert_eq!(names, listed);
    assert!(entries.iter().all(|e| !e.in_maildir));
}

/// File name → the codes of the quirks its report shows, sorted. Computed independently
/// with Python's `json` module by applying the rules of TLSRPT-NOTES §4 to each report
/// (zone-less timestamps, mx-host forms, policy-string forms, key spellings, unknown
/// types and keys, summary/detail mismatch), and checked by eye against the files.
const QUIRKS: &[(&str, &[&str])] = &[
    (
        "Neztore-tls-rpt-monitor__microsoft-report.json",
        &[
            "alternate-key",
            "failure-count-mismatch",
            "mx-host-missing",
            "unknown-result-type",
        ],
    ),
    (
        "Neztore-tls-rpt-monitor__microsoft-report.json.gz",
        &["mx-host-missing"],
    ),
    ("cry-inc-dmarc-report-viewer__google.json", &[]),
    ("cry-inc-dmarc-report-viewer__google@bbd2196f.json", &[]),
    (
        "cry-inc-dmarc-report-viewer__microsoft.json",
        &["mx-host-missing", "tlsa-policy-string-json-array"],
    ),
    (
        "cry-inc-dmarc-report-viewer__no-contact.json",
        &["contact-info-null"],
    ),
    ("cry-inc-dmarc-report-viewer__no-policy.json", &[]),
    (
        "cry-inc-dmarc-report-viewer__no_ip_and_mx.json",
        &["mx-host-missing", "policy-string-missing"],
    ),
    ("cry-inc-dmarc-report-viewer__rfc-example.json", &[]),
    (
        "domainaware-parsedmarc__google.com_smtp_tls_report.eml",
        &[],
    ),
    (
        "domainaware-parsedmarc__mail.ru.json",
        &[
            "failure-count-mismatch",
            "mx-host-missing",
            "policy-string-missing",
        ],
    ),
    ("domainaware-parsedmarc__rfc8460.json", &["mx-host-string"]),
    (
        "domainaware-parsedmarc__smtp_tls.json",
        &["mx-host-missing"],
    ),
    (
        "gene-hightower-internet-message-parser__encoding.test.ts-extracted-google-digilicious.eml",
        &["mx-host-missing", "policy-string-whitespace"],
    ),
    (
        "isseis-tlsrpt-digest__tlsrpt_failure.eml",
        &["mx-host-missing"],
    ),
    ("isseis-tlsrpt-digest__tlsrpt_success_google_1.eml", &[]),
    ("isseis-tlsrpt-digest__tlsrpt_success_google_2.eml", &[]),
    (
        "isseis-tlsrpt-digest__tlsrpt_success_microsoft.eml",
        &["mx-host-missing"],
    ),
    ("kravietz-tlsrpt-rs__google1.eml", &[]),
    ("kravietz-tlsrpt-rs__google2.eml", &[]),
    (
        "kravietz-tlsrpt-rs__mail.ru.eml",
        &["mx-host-missing", "policy-string-missing"],
    ),
    (
        "kravietz-tlsrpt-rs__mail.ru.json",
        &["mx-host-missing", "policy-string-missing"],
    ),
    (
        "kravietz-tlsrpt-rs__microsoft1.eml",
        &["mx-host-missing", "tlsa-policy-string-json-array"],
    ),
    ("kravietz-tlsrpt-rs__rfc8460.json", &[]),
    ("marcbradshaw-mail-tls-rpt__email.eml", &[]),
    ("marcbradshaw-mail-tls-rpt__report.json", &[]),
    ("marcbradshaw-mail-tls-rpt__report.json.gz.b64", &[]),
    ("mjl-mox__example.eml", &[]),
    (
        "mjl-mox__microsoft.eml",
        &[
            "mx-host-missing",
            "timestamp-without-zone",
            "timestamp-without-zone",
        ],
    ),
    (
        "opus-codium-email-report-processor__google.com!example.com!1667520000!1667606399!001.json",
        &[],
    ),
    ("opus-codium-email-report-processor__report.elm", &[]),
    ("phi-ag-mta-sts-exporter__google.json", &[]),
    (
        "phi-ag-mta-sts-exporter__microsoft-2.json",
        &[
            "mx-host-missing",
            "timestamp-without-zone",
            "timestamp-without-zone",
        ],
    ),
    (
        "phi-ag-mta-sts-exporter__microsoft.json",
        &["mx-host-missing"],
    ),
    ("stalwartlabs-mail-auth__rpt01.eml", &[]),
    ("stalwartlabs-mail-auth__rpt01.json", &[]),
    ("stalwartlabs-mail-auth__rpt02.eml", &["mx-host-missing"]),
    ("stalwartlabs-mail-auth__rpt02.json", &["mx-host-missing"]),
];

#[test]
fn every_corpus_report_shows_exactly_the_expected_quirks() {
    let mut problems = Vec::new();
    for (file, codes) in QUIRKS {
        let inputs = read_all(&Path::new(CORPUS).join(file), &Limits::default());
        let found: Vec<Vec<&str>> = inputs
            .iter()
            .flat_map(|i| &i.found)
            .filter_map(|f| match f {
                Found::Report { report, .. } => {
                    let mut c: Vec<&str> = report.quirks.iter().map(|q| q.code()).collect();
                    c.sort_unstable();
                    Some(c)
                }
                _ => None,
            })
            .collect();
        if found != [codes.to_vec()] {
            problems.push(format!("{file}: found {found:?}, expected [{codes:?}]"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every file that holds a report is in this table.
    let with_reports = EXPECTED
        .iter()
        .filter(|(_, o)| matches!(o, Reports(_)))
        .count();
    assert_eq!(QUIRKS.len(), with_reports);
}
