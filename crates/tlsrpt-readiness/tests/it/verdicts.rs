//! One test per verdict, and the rules that decide between them.

use chrono::Duration;
use tlsrpt_check::{Code, Mode, Section, Severity};
use tlsrpt_readiness::{CriterionId, Freshness, Status, Verdict};

use crate::support::*;

#[test]
fn ready_when_every_criterion_passes() {
    let a = run(&clean());
    assert_eq!(a.verdict, Verdict::Ready, "{:#?}", a.criteria);
    assert!(a.criteria.iter().all(|c| c.status != Status::Fail));
    assert!(a.ready_estimate.is_none());
    assert!(
        a.headline
            .starts_with("example.com is ready for mode: enforce")
    );
    assert!(a.headline.contains("28000 session(s)"), "{}", a.headline);
}

#[test]
fn not_ready_when_tls_failures_exceed_the_threshold() {
    let mut e = clean();
    fail(
        &mut e,
        ago(6),
        GOOGLE,
        "certificate-expired",
        Some("mx1.example.com"),
        100,
    );
    let a = run(&e);
    assert_eq!(a.verdict, Verdict::NotReady);
    assert_status(&a, CriterionId::TlsFailureRate, Status::Fail);
    assert!(a.headline.contains("not ready"), "{}", a.headline);
    assert!(
        a.headline.contains("above the 0.10 % threshold"),
        "{}",
        a.headline
    );
}

#[test]
fn insufficient_data_without_reports_because_no_reports_is_never_clean() {
    let mut e = clean();
    e.reporter_days.clear();
    e.policies_seen.clear();
    let a = run(&e);
    assert_eq!(a.verdict, Verdict::InsufficientData);
    for id in [
        CriterionId::ReportDays,
        CriterionId::ReportOrganisations,
        CriterionId::ReportSessions,
        CriterionId::TlsFailureRate,
        CriterionId::TlsFailuresRecent,
    ] {
        assert_status(&a, id, Status::Fail);
    }
    assert_eq!(a.projection.total_sessions, 0);
    assert!(a.ready_estimate.unwrap().contains("once reports arrive"));
}

#[test]
fn blocked_when_an_mx_host_is_not_covered() {
    let mut e = clean();
    live_mut(&mut e).findings.push(finding(
        Section::Mx,
        Code::MxNotInPolicy,
        Severity::Warning,
        "The MX host mx3.example.com matches no mx pattern of the policy.",
    ));
    let a = run(&e);
    assert_eq!(a.verdict, Verdict::Blocked);
    assert!(a.headline.contains("blocked"), "{}", a.headline);
    assert!(a.headline.contains("mx3.example.com"), "{}", a.headline);
    assert_eq!(a.plan[0].title, "Add every MX host to the policy");
}

#[test]
fn blocked_when_the_sts_record_disappears_while_in_testing() {
    let mut e = clean();
    let live = live_mut(&mut e);
    live.sts_record.record = None;
    live.sts_record.txt.clear();
    live.policy = None;
    live.findings = vec![finding(
        Section::StsRecord,
        Code::StsRecordMissing,
        Severity::Error,
        "No v=STSv1 TXT record at _mta-sts.example.com.",
    )];
    let a = run(&e);
    assert_eq!(a.verdict, Verdict::Blocked);
    assert_status(&a, CriterionId::StsRecord, Status::Fail);
    assert!(
        a.plan[0]
            .text
            .as_deref()
            .unwrap()
            .starts_with("_mta-sts.example.com. IN TXT")
    );
}

#[test]
fn not_applicable_when_already_enforcing_shows_regression_monitoring() {
    let mut e = clean();
    e.live_check = Some(live(Mode::Enforce));
    fail(
        &mut e,
        ago(2),
        GOOGLE,
        "certificate-expired",
        Some("mx1.example.com"),
        4,
    );
    let a = run(&e);
    assert_eq!(a.verdict, Verdict::NotApplicable);
    assert!(a.headline.contains("already enforces"), "{}", a.headline);
    assert!(a.headline.contains("4 of 28000"), "{}", a.headline);
    assert_eq!(a.plan[0].title, "Monitor for regressions");
    assert!(a.ready_estimate.is_none());
}

#[test]
fn not_applicable_without_any_mta_sts() {
    let mut e = clean();
    e.policies_seen.clear();
    let live = live_mut(&mut e);
    live.sts_record.record = None;
    live.policy = None;
    live.findings = vec![finding(
        Section::StsRecord,
        Code::StsRecordMissing,
        Severity::Error,
        "No v=STSv1 TXT record at _mta-sts.example.com.",
    )];
    let a = run(&e);
    assert_eq!(a.verdict, Verdict::NotApplicable);
    assert!(
        a.headline.contains("publishes no MTA-STS record"),
        "{}",
        a.headline
    );
    let policy = a.plan.iter().find_map(|s| s.text.as_deref()).unwrap();
    assert!(policy.contains("mode: testing\nmx: mx1.example.com\nmx: mx2.example.com\n"));
}

#[test]
fn never_ready_with_a_stale_live_check() {
    let mut e = clean();
    live_mut(&mut e).checked_at = now() - Duration::hours(30);
    let a = run(&e);
    assert_eq!(a.verdict, Verdict::NotReady);
    assert_eq!(a.live_check.status, Freshness::Stale);
    assert_status(&a, CriterionId::LiveCheck, Status::Fail);
    assert!(a.headline.contains("stale"), "{}", a.headline);
    assert_eq!(a.plan.len(), 1);
    assert!(a.plan[0].detail.contains("tlsrpt check example.com"));
}

#[test]
fn never_ready_without_a_live_check_and_says_so() {
    let mut e = clean();
    e.live_check = None;
    let a = run(&e);
    assert_eq!(a.verdict, Verdict::NotReady);
    assert_eq!(a.live_check.status, Freshness::Missing);
    assert_status(&a, CriterionId::LiveCheck, Status::Fail);
    for id in &CriterionId::ALL[1..9] {
        let c = criterion(&a, *id);
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert!(c.summary.starts_with("Not verified"), "{c:?}");
    }
    assert!(
        a.headline.contains("never been checked live"),
        "{}",
        a.headline
    );
}

#[test]
fn the_assessment_is_deterministic() {
    let e = clean();
    let a = serde_json::to_string(&run(&e)).unwrap();
    let b = serde_json::to_string(&run(&e)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn an_enforcing_domain_with_a_broken_mx_is_told_to_fix_it_first() {
    let mut e = clean();
    e.live_check = Some(live(Mode::Enforce));
    live_mut(&mut e).findings.push(finding(
        Section::Mx,
        Code::MxCertExpired,
        Severity::Error,
        "The certificate of mx2.example.com at 192.0.2.2 expired on 2026-11-20 00:00 UTC.",
    ));
    let a = run(&e);
    assert_eq!(a.verdict, Verdict::NotApplicable);
    assert!(
        a.headline.ends_with(
            "the live check found a problem that bounces mail now: the certificate of \
             mx2.example.com at 192.0.2.2 expired on 2026-11-20 00:00 UTC."
        ),
        "{}",
        a.headline
    );
    let titles: Vec<&str> = a.plan.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Fix STARTTLS and certificates on the MX hosts",
            "Monitor for regressions",
            "Raise max_age"
        ]
    );
}
