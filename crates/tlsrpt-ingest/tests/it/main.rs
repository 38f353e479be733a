//! Integration tests of report ingestion: the conformance corpus of real reports, hostile
//! and broken inputs, mail transports (RFC 8460 §5.3), mbox and Maildir sources, and
//! never-panic properties of `extract`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_input;
mod corpus;
mod hostile;
mod mail;
mod props;
mod sources;

use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use tlsrpt_ingest::files::{self, Entry, Input};
use tlsrpt_ingest::{Found, Limits};

/// A small valid report for `domain`, as Google would send it.
fn report_json(domain: &str, report_id: &str) -> String {
    format!(
        r#"{{"organization-name":"Google Inc.","contact-info":"smtp-tls-reporting@google.com",
"report-id":"{report_id}",
"date-range":{{"start-datetime":"2024-05-06T00:00:00Z","end-datetime":"2024-05-06T23:59:59Z"}},
"policies":[{{"policy":{{"policy-type":"sts","policy-domain":"{domain}",
"policy-string":["version: STSv1","mode: enforce","mx: mx1.{domain}","max_age: 604800"],
"mx-host":["mx1.{domain}"]}},
"summary":{{"total-successful-session-count":12,"total-failure-session-count":0}}}}]}}"#
    )
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Reads every file `files::plan` finds under `path`, as `tlsrpt ingest` would.
fn read_all(path: &Path, limits: &Limits) -> Vec<Input> {
    let (entries, errors) = files::plan(&[path.to_owned()]);
    assert_eq!(errors, vec![], "planning {}", path.display());
    let mut inputs = Vec::new();
    for entry in &entries {
        files::read(entry, limits, &mut |input| inputs.push(input));
    }
    inputs
}

/// Reads one file (planned or not) and returns its inputs.
fn read_entry(entry: &Entry, limits: &Limits) -> Vec<Input> {
    let mut inputs = Vec::new();
    files::read(entry, limits, &mut |input| inputs.push(input));
    inputs
}

/// The report ids found, in order.
fn report_ids(found: &[Found]) -> Vec<String> {
    found
        .iter()
        .filter_map(|f| match f {
            Found::Report { report, .. } => Some(report.report_id.clone()),
            _ => None,
        })
        .collect()
}

/// The single `Found::Rejected` reason of `found`, or a panic showing what was found.
fn rejected(found: &[Found]) -> &str {
    match found {
        [Found::Rejected { reason, .. }] => reason,
        other => panic!("expected one rejection, found {other:?}"),
    }
}

/// The single `Found::NotReport` reason of `found`, or a panic showing what was found.
fn not_report(found: &[Found]) -> &str {
    match found {
        [Found::NotReport { reason }] => reason,
        other => panic!("expected one not-a-report, found {other:?}"),
    }
}
