//! The alert rules against real stored evidence, on both database backends: reports
//! ingested through the store (real report JSON from the corpus, re-dated), and checks
//! recorded by the Watcher on the checker's closed test network.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod background;
mod checks;
mod config;
mod reports;
#[path = "../../../tlsrpt-check/tests/it/support/mod.rs"]
#[allow(dead_code, missing_debug_implementations)]
mod support;
mod verdict;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::{Value, json};
use tlsrpt_alert::{AlertRules, Evaluator, RulesConfig};
use tlsrpt_ingest::{Claim, Found, Limits, extract};
use tlsrpt_store::{AlertQuery, Auth, Candidate, NewInput, Raw, Store, StoredAlert};

pub use tlsrpt_testkit::Backend;
pub(crate) use tlsrpt_testkit::on_both_backends;

/// A store on a fresh database; the directory holds the SQLite file until dropped.
pub async fn store(backend: Backend) -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = backend.fresh_database_url(dir.path());
    (Store::open(&url).await.unwrap(), dir)
}

/// An evaluator with the default rules.
pub fn evaluator(store: &Store) -> Evaluator {
    Evaluator::new(
        store.clone(),
        AlertRules::new(RulesConfig::default(), BTreeMap::new()).unwrap(),
    )
}

/// The corpus's real report (parsedmarc's SMTP TLS sample), re-dated to `day`, for
/// `domain` from `org`, with `ok` successful sessions and the failures given as
/// (result type, receiving MX, sessions).
pub fn daily_report(
    org: &str,
    domain: &str,
    day: NaiveDate,
    ok: u64,
    failures: &[(&str, &str, u64)],
) -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/tlsrpt-real/domainaware-parsedmarc__smtp_tls.json"
    );
    let mut report: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let detail = report["policies"][0]["failure-details"][0].clone();
    report["organization-name"] = json!(org);
    report["report-id"] = json!(format!("{day}_{domain}_{org}"));
    report["date-range"] = json!({
        "start-datetime": format!("{day}T00:00:00Z"),
        "end-datetime": format!("{day}T23:59:59Z"),
    });
    let policy = &mut report["policies"][0];
    policy["policy"]["policy-domain"] = json!(domain);
    policy["summary"] = json!({
        "total-successful-session-count": ok,
        "total-failure-session-count": failures.iter().map(|f| f.2).sum::<u64>(),
    });
    policy["failure-details"] = Value::Array(
        failures
            .iter()
            .map(|&(result_type, mx, n)| {
                let mut d = detail.clone();
                d["result-type"] = json!(result_type);
                d["receiving-mx-hostname"] = json!(mx);
                d["failed-session-count"] = json!(n);
                d
            })
            .collect(),
    );
    report
}

/// Stores `reports` as one batch that arrived with `auth`.
pub async fn ingest(store: &Store, reports: &[Value], auth: Auth) {
    let batch: Vec<NewInput> = reports
        .iter()
        .enumerate()
        .map(|(i, report)| {
            let bytes = serde_json::to_vec(report).unwrap();
            let mut found = extract(&bytes, Claim::Operator, &Limits::default());
            let Found::Report { report, json, .. } = found.remove(0) else {
                panic!("not a report: {report}");
            };
            NewInput {
                source: "file",
                locator: format!("report-{i}.json"),
                part: None,
                message_id: None,
                received_at: 1_779_000_000,
                candidate: Candidate::Report {
                    report,
                    raw_json: Raw::compress(&json, json.len() as u64),
                    auth: auth.clone(),
                },
            }
        })
        .collect();
    store.write_batch(&batch).await.unwrap();
}

/// The open alerts of `domain`, by rule and subject.
pub async fn open_alerts(store: &Store, domain: &str) -> BTreeMap<(String, String), StoredAlert> {
    store
        .alerts(&AlertQuery {
            domain: Some(domain.to_owned()),
            open_only: true,
            limit: 100,
        })
        .await
        .unwrap()
        .into_iter()
        .map(|a| ((a.rule.clone(), a.subject.clone()), a))
        .collect()
}
