//! One test per criterion and outcome: the clean fixture passes them all, and each failing
//! test breaks exactly the fact the criterion is about.

use chrono::Duration;
use tlsrpt_check::{Code, Mode, Section, Severity};
use tlsrpt_readiness::{CriterionId as Id, Excluded, Status, Thresholds, assess};

use crate::support::*;

#[test]
fn the_clean_fixture_passes_every_criterion() {
    let a = run(&clean());
    for c in &a.criteria {
        assert_eq!(c.status, Status::Pass, "{c:#?}");
    }
}

// live-check

#[test]
fn live_check_passes_when_fresh() {
    let a = run(&clean());
    assert_status(&a, Id::LiveCheck, Status::Pass);
    assert!(criterion(&a, Id::LiveCheck).summary.contains("1 h before"));
}

#[test]
fn live_check_fails_when_stale() {
    let mut e = clean();
    live_mut(&mut e).checked_at = now() - Duration::hours(25);
    assert_status(&run(&e), Id::LiveCheck, Status::Fail);
}

#[test]
fn live_check_fails_when_missing() {
    let mut e = clean();
    e.live_check = None;
    assert_status(&run(&e), Id::LiveCheck, Status::Fail);
}

// sts-record

#[test]
fn sts_record_passes_with_one_valid_record() {
    let a = run(&clean());
    assert!(
        criterion(&a, Id::StsRecord)
            .summary
            .contains("id 20261001000000")
    );
}

#[test]
fn sts_record_fails_with_two_records() {
    let mut e = clean();
    let live = live_mut(&mut e);
    live.sts_record.record = None;
    live.findings.push(finding(
        Section::StsRecord,
        Code::StsRecordMultiple,
        Severity::Error,
        "Two v=STSv1 records at _mta-sts.example.com.",
    ));
    let a = run(&e);
    assert_status(&a, Id::StsRecord, Status::Fail);
    assert_eq!(
        criterion(&a, Id::StsRecord).summary,
        "Two v=STSv1 records at _mta-sts.example.com."
    );
}

// policy-fetch

#[test]
fn policy_fetch_passes_with_a_200_text_plain_answer() {
    let a = run(&clean());
    assert!(
        criterion(&a, Id::PolicyFetch)
            .summary
            .contains("HTTP 200, text/plain")
    );
}

#[test]
fn policy_fetch_fails_on_a_redirect() {
    let mut e = clean();
    let live = live_mut(&mut e);
    live.policy.as_mut().unwrap().http_status = Some(301);
    live.findings.push(finding(
        Section::Policy,
        Code::PolicyRedirect,
        Severity::Error,
        "The policy URL answered 301.",
    ));
    assert_status(&run(&e), Id::PolicyFetch, Status::Fail);
}

// policy-valid

#[test]
fn policy_valid_passes_on_a_valid_policy() {
    let a = run(&clean());
    assert!(
        criterion(&a, Id::PolicyValid)
            .summary
            .contains("2 mx pattern(s)")
    );
}

#[test]
fn policy_valid_fails_on_an_invalid_policy() {
    let mut e = clean();
    let live = live_mut(&mut e);
    let fetch = live.policy.as_mut().unwrap();
    fetch.policy = None;
    fetch.body = Some("version: STSv1\nmode: testing\n".to_owned());
    live.findings = vec![finding(
        Section::Policy,
        Code::PolicyInvalid,
        Severity::Error,
        "The policy is invalid: the required field `max_age` is missing.",
    )];
    let a = run(&e);
    assert_status(&a, Id::PolicyValid, Status::Fail);
    assert_eq!(a.verdict, tlsrpt_readiness::Verdict::Blocked);
}

// policy-mode

#[test]
fn policy_mode_passes_in_testing() {
    assert_status(&run(&clean()), Id::PolicyMode, Status::Pass);
}

#[test]
fn policy_mode_fails_in_mode_none() {
    let mut e = clean();
    e.live_check = Some(live(Mode::None));
    let a = run(&e);
    assert_status(&a, Id::PolicyMode, Status::Fail);
    assert_eq!(a.verdict, tlsrpt_readiness::Verdict::NotApplicable);
    assert!(a.headline.contains("mode: none"));
}

// mx-coverage

#[test]
fn mx_coverage_passes_and_names_the_matching_patterns() {
    let a = run(&clean());
    let c = criterion(&a, Id::MxCoverage);
    assert_eq!(c.status, Status::Pass);
    assert!(
        c.evidence
            .contains(&"mx1.example.com matches mx: mx1.example.com".to_owned())
    );
}

#[test]
fn mx_coverage_fails_on_an_uncovered_mx_even_though_testing_only_warns() {
    let mut e = clean();
    live_mut(&mut e).findings.push(finding(
        Section::Mx,
        Code::MxNotInPolicy,
        Severity::Warning,
        "The MX host mx3.example.com matches no mx pattern of the policy.",
    ));
    assert_status(&run(&e), Id::MxCoverage, Status::Fail);
}

#[test]
fn mx_coverage_warns_on_a_stale_pattern() {
    let mut e = clean();
    live_mut(&mut e).findings.push(finding(
        Section::Mx,
        Code::PolicyMxUnused,
        Severity::Warning,
        "The policy lists old.example.net, which no MX record uses any more.",
    ));
    let a = run(&e);
    assert_status(&a, Id::MxCoverage, Status::Warn);
    assert_eq!(a.verdict, tlsrpt_readiness::Verdict::Ready);
}

// mx-tls

#[test]
fn mx_tls_passes_and_lists_every_probe() {
    let a = run(&clean());
    let c = criterion(&a, Id::MxTls);
    assert_eq!(c.status, Status::Pass);
    assert_eq!(c.evidence.len(), 2);
    assert!(c.evidence[0].starts_with("mx1.example.com (192.0.2.1): STARTTLS, TLSv1.3"));
}

#[test]
fn mx_tls_fails_on_a_certificate_name_mismatch() {
    let mut e = clean();
    live_mut(&mut e).findings.push(finding(
        Section::Mx,
        Code::MxCertNameMismatch,
        Severity::Error,
        "At 192.0.2.2, the certificate does not name mx2.example.com.",
    ));
    let a = run(&e);
    assert_status(&a, Id::MxTls, Status::Fail);
    assert_eq!(a.verdict, tlsrpt_readiness::Verdict::Blocked);
}

// mx-cert-expiry

fn expire_mx2_in(e: &mut tlsrpt_readiness::Evidence, days: i64) {
    let host = &mut live_mut(e).mx.hosts[1];
    let tls = host.addresses[0].tls.as_mut().unwrap();
    tls.certificate = Some(certificate("mx2.example.com", now() + Duration::days(days)));
}

#[test]
fn mx_cert_expiry_passes_when_every_certificate_outlasts_max_age_and_margin() {
    let a = run(&clean());
    assert!(
        criterion(&a, Id::MxCertExpiry)
            .summary
            .contains("max_age of 7 days")
    );
}

#[test]
fn mx_cert_expiry_fails_within_the_max_age_to_publish() {
    let mut e = clean();
    expire_mx2_in(&mut e, 5);
    let a = run(&e);
    assert_status(&a, Id::MxCertExpiry, Status::Fail);
    assert!(criterion(&a, Id::MxCertExpiry).evidence[0].contains("mx2.example.com (192.0.2.2)"));
    assert_eq!(a.verdict, tlsrpt_readiness::Verdict::NotReady);
}

#[test]
fn mx_cert_expiry_warns_within_the_margin() {
    let mut e = clean();
    expire_mx2_in(&mut e, 15);
    assert_status(&run(&e), Id::MxCertExpiry, Status::Warn);
}

// tlsrpt-record

#[test]
fn tlsrpt_record_passes_and_names_the_address() {
    let a = run(&clean());
    assert!(
        criterion(&a, Id::TlsrptRecord)
            .summary
            .contains("mailto:tlsrpt@example.com")
    );
}

#[test]
fn tlsrpt_record_fails_when_missing_although_the_checker_only_warns() {
    let mut e = clean();
    let live = live_mut(&mut e);
    live.tlsrpt.record = None;
    live.findings.push(finding(
        Section::Tlsrpt,
        Code::TlsrptRecordMissing,
        Severity::Warning,
        "No v=TLSRPTv1 TXT record at _smtp._tls.example.com.",
    ));
    let a = run(&e);
    assert_status(&a, Id::TlsrptRecord, Status::Fail);
    let step = a
        .plan
        .iter()
        .find(|s| s.title == "Publish the TLS-RPT record")
        .unwrap();
    assert!(
        step.text
            .as_deref()
            .unwrap()
            .starts_with("_smtp._tls.example.com. IN TXT")
    );
}

// report-days

#[test]
fn report_days_passes_with_reports_every_day() {
    let a = run(&clean());
    assert!(
        criterion(&a, Id::ReportDays)
            .summary
            .starts_with("Reports cover 14 of the 14 days")
    );
}

#[test]
fn report_days_fails_with_reports_on_too_few_days() {
    let mut e = clean();
    e.reporter_days.retain(|r| r.day >= ago(2));
    let a = run(&e);
    assert_status(&a, Id::ReportDays, Status::Fail);
    assert_eq!(a.verdict, tlsrpt_readiness::Verdict::InsufficientData);
    assert_eq!(
        a.ready_estimate.as_deref(),
        Some("Could be ready after 4 more clean day(s) of reports at the current volume.")
    );
}

// report-organisations

#[test]
fn report_organisations_passes_with_two_reporters() {
    let a = run(&clean());
    let c = criterion(&a, Id::ReportOrganisations);
    assert_eq!(c.status, Status::Pass);
    assert_eq!(
        c.evidence[0],
        "Google LLC: 14 report(s) on 14 day(s), 14000 session(s), 0 failed, last on 2026-11-22."
    );
}

#[test]
fn report_organisations_fails_with_one_reporter() {
    let mut e = clean();
    e.reporter_days.retain(|r| r.organization == GOOGLE);
    let a = run(&e);
    assert_status(&a, Id::ReportOrganisations, Status::Fail);
    assert_eq!(
        a.window.days, 60,
        "widened to the cap looking for a second reporter"
    );
    assert!(
        a.ready_estimate
            .unwrap()
            .contains("at least 2 distinct organisations")
    );
}

#[test]
fn the_window_widens_to_reach_a_second_reporter() {
    let mut e = clean();
    e.reporter_days.retain(|r| r.organization == GOOGLE);
    report(&mut e, ago(20), MICROSOFT, 10, &policy_body(Mode::Testing));
    let a = run(&e);
    assert!(a.window.widened);
    assert_eq!((a.window.days, a.window.since), (21, ago(20)));
    assert_status(&a, Id::ReportOrganisations, Status::Pass);
}

// report-sessions

#[test]
fn report_sessions_passes_above_the_minimum() {
    assert_status(&run(&clean()), Id::ReportSessions, Status::Pass);
}

#[test]
fn report_sessions_fails_below_the_minimum() {
    let mut e = clean();
    for r in &mut e.reporter_days {
        r.successful_sessions = 3;
    }
    let a = run(&e);
    assert_status(&a, Id::ReportSessions, Status::Fail);
    assert!(
        criterion(&a, Id::ReportSessions)
            .summary
            .contains("84 session(s)")
    );
}

// report-trust

#[test]
fn report_trust_passes_when_nothing_was_excluded() {
    assert_status(&run(&clean()), Id::ReportTrust, Status::Pass);
}

#[test]
fn report_trust_warns_about_excluded_reports() {
    let mut e = clean();
    e.excluded = Excluded {
        untrusted_reports: 3,
        untrusted_sessions: 40,
    };
    let a = run(&e);
    assert_status(&a, Id::ReportTrust, Status::Warn);
    assert!(
        criterion(&a, Id::ReportTrust)
            .summary
            .starts_with("3 unauthenticated report(s), claiming 40")
    );
}

// tls-failure-rate

#[test]
fn tls_failure_rate_passes_without_failures() {
    assert_status(&run(&clean()), Id::TlsFailureRate, Status::Pass);
}

#[test]
fn tls_failure_rate_warns_below_the_threshold() {
    let mut e = clean();
    fail(
        &mut e,
        ago(10),
        GOOGLE,
        "certificate-not-trusted",
        Some("mx2.example.com"),
        20,
    )
    .failure_reason_code = Some("X509_V_ERR".to_owned());
    let a = run(&e);
    let c = criterion(&a, Id::TlsFailureRate);
    assert_eq!(c.status, Status::Warn, "{c:#?}");
    assert_eq!(
        c.evidence,
        [
            "20 session(s) certificate-not-trusted at mx2.example.com on 2026-11-12, reported by Google LLC; reason: X509_V_ERR."
        ]
    );
    assert_eq!(a.verdict, tlsrpt_readiness::Verdict::Ready);
}

#[test]
fn tls_failure_rate_fails_above_the_threshold() {
    let mut e = clean();
    fail(
        &mut e,
        ago(10),
        MICROSOFT,
        "starttls-not-supported",
        Some("mx1.example.com"),
        29,
    );
    let a = run(&e);
    assert_status(&a, Id::TlsFailureRate, Status::Fail);
    let thresholds = Thresholds {
        max_failure_rate: 0.002,
        ..Thresholds::default()
    };
    assert_eq!(
        assess(&e, &thresholds)
            .criterion(Id::TlsFailureRate)
            .unwrap()
            .status,
        Status::Warn,
        "the threshold is configurable"
    );
}

// tls-failures-recent

#[test]
fn tls_failures_recent_passes_with_clean_recent_days() {
    assert_status(&run(&clean()), Id::TlsFailuresRecent, Status::Pass);
}

#[test]
fn tls_failures_recent_fails_on_one_failure_yesterday() {
    let mut e = clean();
    fail(
        &mut e,
        ago(1),
        GOOGLE,
        "validation-failure",
        Some("mx1.example.com"),
        1,
    );
    let a = run(&e);
    assert_status(&a, Id::TlsFailureRate, Status::Warn);
    assert_status(&a, Id::TlsFailuresRecent, Status::Fail);
    assert_eq!(a.verdict, tlsrpt_readiness::Verdict::NotReady);
    assert_eq!(
        a.ready_estimate.as_deref(),
        Some("Could be ready after 2 more clean day(s) of reports at the current volume.")
    );
}

#[test]
fn tls_failures_recent_fails_without_recent_reports() {
    let mut e = clean();
    e.reporter_days.retain(|r| r.day < ago(2));
    assert_status(&run(&e), Id::TlsFailuresRecent, Status::Fail);
}

// policy-match

#[test]
fn policy_match_passes_when_reporters_saw_the_live_policy() {
    assert_status(&run(&clean()), Id::PolicyMatch, Status::Pass);
}

#[test]
fn policy_match_fails_when_a_reporter_still_sees_another_policy() {
    let mut e = clean();
    let old = "version: STSv1\nmode: testing\nmx: old.example.net\nmax_age: 86400\n";
    for p in e
        .policies_seen
        .iter_mut()
        .filter(|p| p.organization == MICROSOFT)
    {
        p.policy_string = old.lines().map(str::to_owned).collect();
    }
    let a = run(&e);
    let c = criterion(&a, Id::PolicyMatch);
    assert_eq!(c.status, Status::Fail);
    assert_eq!(
        c.evidence,
        [
            "Microsoft Corporation (2026-11-09 to 2026-11-22, 14000 session(s), its latest): saw `mx: old.example.net`; lacked `mx: mx1.example.com`, `mx: mx2.example.com`."
        ]
    );
}

#[test]
fn policy_match_warns_when_only_older_reports_saw_another_policy() {
    let mut e = clean();
    let old =
        "version: STSv1\nmode: testing\nmx: mx1.example.com\nmx: mx2.example.com\nmax_age: 3600";
    for p in e.policies_seen.iter_mut().filter(|p| p.day < ago(7)) {
        p.policy_string = old.lines().map(str::to_owned).collect();
    }
    let a = run(&e);
    assert_status(&a, Id::PolicyMatch, Status::Warn);
    let seen = &a.policy_comparison.seen;
    assert_eq!(seen.len(), 4);
    let stale = seen
        .iter()
        .find(|s| s.organization == GOOGLE && !s.latest)
        .unwrap();
    assert_eq!((stale.first_seen, stale.last_seen), (ago(13), ago(8)));
    assert_eq!(stale.only_seen, ["max_age: 3600"]);
    assert_eq!(stale.only_live, ["max_age: 86400"]);
}

// policy-fetch-failures

#[test]
fn policy_fetch_failures_pass_when_none_were_reported() {
    assert_status(&run(&clean()), Id::PolicyFetchFailures, Status::Pass);
}

#[test]
fn policy_fetch_failures_warn_and_are_explained() {
    let mut e = clean();
    fail(&mut e, ago(9), GOOGLE, "sts-policy-fetch-error", None, 12);
    let a = run(&e);
    let c = criterion(&a, Id::PolicyFetchFailures);
    assert_eq!(c.status, Status::Warn);
    assert!(
        c.summary
            .starts_with("12 session(s) (0.04 %) went unprotected"),
        "{}",
        c.summary
    );
    assert!(
        c.evidence
            .last()
            .unwrap()
            .contains("The live check fetched a valid policy")
    );
    assert_eq!(
        a.verdict,
        tlsrpt_readiness::Verdict::Ready,
        "fetch failures do not bounce mail"
    );
}
