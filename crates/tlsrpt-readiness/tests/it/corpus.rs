//! Real reports (../shared/corpus/tlsrpt-real) through [`Evidence::add_report`] and the
//! advisor: the projection adds up to what the reports say, and without a live check the
//! verdict is never `ready`.

use std::path::Path;

use chrono::Duration;
use tlsrpt_readiness::export::to_html;
use tlsrpt_readiness::{CriterionId, Evidence, Status, Verdict};
use tlsrpt_report::{Limits, Report, parse};

use crate::support::run;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/tlsrpt-real"
);

fn reports() -> Vec<(String, Report)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(Path::new(CORPUS)).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let bytes = std::fs::read(&path).unwrap();
            if let Ok(report) = parse(&bytes, &Limits::default()) {
                out.push((path.display().to_string(), report));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn real_reports_add_up() {
    let reports = reports();
    assert!(reports.len() >= 15, "{} JSON reports parsed", reports.len());
    let mut domains_seen = 0;
    for (file, report) in &reports {
        let mut domains: Vec<&str> = report
            .policies
            .iter()
            .map(|p| p.policy.policy_domain.as_str())
            .collect();
        domains.sort_unstable();
        domains.dedup();
        for domain in domains {
            domains_seen += 1;
            let mut e = Evidence::new(domain, report.date_range.start + Duration::hours(1));
            e.add_report(report);
            let a = run(&e);
            let entries = report
                .policies
                .iter()
                .filter(|p| p.policy.policy_domain == domain);
            let sessions: u64 = entries
                .clone()
                .map(|p| {
                    p.summary.total_successful_session_count + p.summary.total_failure_session_count
                })
                .sum();
            let detailed: u64 = entries.map(|p| p.detail_failure_sum()).sum();
            let pr = &a.projection;
            assert_eq!(pr.total_sessions, sessions, "{file} {domain}");
            assert_eq!(
                pr.would_refuse_sessions + pr.unprotected_sessions + pr.other_failed_sessions,
                detailed,
                "{file} {domain}"
            );
            assert_ne!(a.verdict, Verdict::Ready, "{file}: no live check");
            assert_eq!(
                a.criterion(CriterionId::LiveCheck).unwrap().status,
                Status::Fail
            );
            let html = to_html(&[a]);
            assert!(!html.contains("<script"), "{file}");
        }
    }
    assert!(domains_seen >= reports.len());
}
