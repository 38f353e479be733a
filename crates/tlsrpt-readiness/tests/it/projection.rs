//! The projection's arithmetic: which failure details count as refused, unprotected or
//! neither, and how they add up by reporter, MX, sending IP and day.

use tlsrpt_readiness::{Breakdown, CriterionId, Status, Verdict};

use crate::support::*;

fn row<'a>(rows: &'a [Breakdown], key: &str) -> &'a Breakdown {
    rows.iter().find(|b| b.key == key).unwrap()
}

#[test]
fn failures_are_classed_and_summed() {
    let mut e = clean();
    // Refused: negotiation failures against covered hosts, or with no host named.
    fail(
        &mut e,
        ago(3),
        GOOGLE,
        "certificate-expired",
        Some("mx1.example.com"),
        7,
    );
    fail(&mut e, ago(4), MICROSOFT, "validation-failure", None, 4).sending_ip = None;
    fail(
        &mut e,
        ago(4),
        GOOGLE,
        "starttls-not-supported",
        Some("MX2.Example.COM."),
        2,
    );
    // Unprotected: policy-fetch failures.
    fail(&mut e, ago(5), MICROSOFT, "sts-policy-invalid", None, 5);
    // Neither: a former MX host, a DANE result, an unknown result type, a tlsa policy.
    fail(
        &mut e,
        ago(5),
        GOOGLE,
        "starttls-not-supported",
        Some("old-mx.example.net"),
        3,
    );
    fail(
        &mut e,
        ago(6),
        GOOGLE,
        "tlsa-invalid",
        Some("mx1.example.com"),
        2,
    );
    fail(
        &mut e,
        ago(6),
        GOOGLE,
        "brand-new-result",
        Some("mx1.example.com"),
        1,
    );
    fail(
        &mut e,
        ago(6),
        MICROSOFT,
        "certificate-expired",
        Some("mx1.example.com"),
        6,
    )
    .policy_type = "tlsa".to_owned();
    let p = run(&e).projection;

    assert_eq!(p.total_sessions, 28_000);
    assert_eq!(p.failed_sessions, 7 + 4 + 2 + 5 + 3 + 2 + 1 + 6);
    assert_eq!(p.would_refuse_sessions, 13);
    assert_eq!(p.unprotected_sessions, 5);
    assert_eq!(p.other_failed_sessions, 12);
    assert!((p.would_refuse_share - 13.0 / 28_000.0).abs() < 1e-12);
    assert!((p.unprotected_share - 5.0 / 28_000.0).abs() < 1e-12);

    assert_eq!(p.by_reporter.len(), 2);
    let google = row(&p.by_reporter, GOOGLE);
    assert_eq!(
        (google.would_refuse_sessions, google.unprotected_sessions),
        (9, 0)
    );
    let microsoft = row(&p.by_reporter, MICROSOFT);
    assert_eq!(
        (
            microsoft.would_refuse_sessions,
            microsoft.unprotected_sessions
        ),
        (4, 5)
    );
    assert_eq!(p.by_reporter[0].key, GOOGLE, "largest first");
    assert!((microsoft.share - 9.0 / 28_000.0).abs() < 1e-12);

    let keys: Vec<&str> = p.by_mx.iter().map(|b| b.key.as_str()).collect();
    assert_eq!(
        keys,
        ["(not reported)", "mx1.example.com", "MX2.Example.COM."]
    );
    assert_eq!(row(&p.by_mx, "(not reported)").sessions, 9);
    let ips: Vec<(&str, u64)> = p
        .by_sending_ip
        .iter()
        .map(|b| (b.key.as_str(), b.sessions))
        .collect();
    assert_eq!(ips, [("198.51.100.7", 14), ("(not reported)", 4)]);

    assert_eq!(p.by_day.len(), 14);
    assert_eq!(p.by_day.first().unwrap().day, ago(13));
    assert_eq!(p.by_day.last().unwrap().day, ago(0));
    let sum = |f: fn(&tlsrpt_readiness::DayProjection) -> u64| p.by_day.iter().map(f).sum::<u64>();
    assert_eq!(sum(|d| d.would_refuse_sessions), 13);
    assert_eq!(sum(|d| d.unprotected_sessions), 5);
    assert_eq!(sum(|d| d.successful_sessions + d.failed_sessions), 28_000);
    let day6 = p.by_day.iter().find(|d| d.day == ago(6)).unwrap();
    assert_eq!(day6.failed_by_result_type.get("tlsa-invalid"), Some(&2));
    assert_eq!(
        day6.failed_by_result_type.get("certificate-expired"),
        Some(&6)
    );
    assert_eq!(day6.would_refuse_sessions, 0);
}

#[test]
fn without_a_live_policy_the_hosts_reporters_saw_define_coverage() {
    let mut e = clean();
    e.live_check = None;
    fail(
        &mut e,
        ago(8),
        GOOGLE,
        "certificate-expired",
        Some("mx1.example.com"),
        3,
    );
    fail(
        &mut e,
        ago(8),
        GOOGLE,
        "certificate-expired",
        Some("elsewhere.example.org"),
        5,
    );
    let p = run(&e).projection;
    assert_eq!((p.would_refuse_sessions, p.other_failed_sessions), (3, 5));
}

#[test]
fn without_any_known_policy_every_host_counts_as_covered() {
    let mut e = clean();
    e.live_check = None;
    e.policies_seen.clear();
    fail(
        &mut e,
        ago(8),
        GOOGLE,
        "certificate-expired",
        Some("elsewhere.example.org"),
        5,
    );
    assert_eq!(run(&e).projection.would_refuse_sessions, 5);
}

#[test]
fn rows_outside_the_window_are_ignored() {
    let mut e = clean();
    report(
        &mut e,
        ago(15),
        GOOGLE,
        500,
        &policy_body(tlsrpt_check::Mode::Testing),
    );
    fail(
        &mut e,
        ago(15),
        GOOGLE,
        "certificate-expired",
        Some("mx1.example.com"),
        500,
    );
    let a = run(&e);
    assert_eq!(a.projection.total_sessions, 28_000);
    assert_eq!(a.projection.would_refuse_sessions, 0);
    assert_eq!(a.verdict, Verdict::Ready);
    assert_eq!(
        a.criterion(CriterionId::TlsFailureRate).unwrap().status,
        Status::Pass
    );
}
