//! Any evidence, however inconsistent or hostile, gives an assessment whose figures add up
//! and whose exports render, without a panic.

use chrono::{Days, Duration};
use proptest::prelude::*;
use tlsrpt_check::Mode;
use tlsrpt_readiness::export::{to_csv, to_html, to_json, to_markdown};
use tlsrpt_readiness::{
    CriterionId, Evidence, Excluded, FailureRow, Freshness, PolicySeen, ReporterDay, Thresholds,
    Verdict, assess,
};
use tlsrpt_report::ResultType;

use crate::support::{DOMAIN, live, now, parse_csv};

const ORGS: [&str; 4] = [
    "Google LLC",
    "<script>alert(1)</script>",
    "=cmd|x",
    "Mail.ru",
];
const RESULTS: [&str; 8] = [
    "starttls-not-supported",
    "certificate-expired",
    "validation-failure",
    "sts-policy-fetch-error",
    "sts-webpki-invalid",
    "tlsa-invalid",
    "dane-required",
    "<b>odd</b>",
];
const HOSTS: [&str; 4] = [
    "mx1.example.com",
    "MX2.EXAMPLE.COM.",
    "old.example.net",
    "*",
];

fn count() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..5_000, Just(u64::MAX), Just(u64::MAX / 3)]
}

fn day() -> impl Strategy<Value = chrono::NaiveDate> {
    (0u64..90).prop_map(|n| now().date_naive().checked_sub_days(Days::new(n)).unwrap())
}

fn reporter_day() -> impl Strategy<Value = ReporterDay> {
    (day(), 0usize..ORGS.len(), 0u64..3, count(), count()).prop_map(|(day, o, reports, s, f)| {
        ReporterDay {
            day,
            organization: ORGS[o].to_owned(),
            reports,
            successful_sessions: s,
            failed_sessions: f,
        }
    })
}

fn failure() -> impl Strategy<Value = FailureRow> {
    (
        day(),
        0usize..ORGS.len(),
        0usize..RESULTS.len(),
        proptest::option::of(0usize..HOSTS.len()),
        proptest::bool::ANY,
        count(),
    )
        .prop_map(|(day, o, r, h, tlsa, sessions)| FailureRow {
            day,
            organization: ORGS[o].to_owned(),
            policy_type: if tlsa { "tlsa" } else { "sts" }.to_owned(),
            result_type: ResultType::from_wire(RESULTS[r]),
            receiving_mx: h.map(|h| HOSTS[h].to_owned()),
            sending_ip: Some("203.0.113.9".to_owned()),
            failure_reason_code: Some(ORGS[o].to_owned()),
            sessions,
        })
}

fn seen() -> impl Strategy<Value = PolicySeen> {
    (
        day(),
        0usize..ORGS.len(),
        proptest::collection::vec("[ -~]{0,20}", 0..5),
        count(),
    )
        .prop_map(|(day, o, lines, sessions)| PolicySeen {
            day,
            organization: ORGS[o].to_owned(),
            policy_type: "sts".to_owned(),
            policy_string: lines,
            mx_host: vec!["*.example.com".to_owned(), "bad pattern".to_owned()],
            sessions,
        })
}

fn evidence() -> impl Strategy<Value = Evidence> {
    (
        proptest::collection::vec(reporter_day(), 0..30),
        proptest::collection::vec(failure(), 0..20),
        proptest::collection::vec(seen(), 0..10),
        0u8..5,
        count(),
    )
        .prop_map(
            |(reporter_days, failures, policies_seen, check, untrusted)| Evidence {
                domain: DOMAIN.to_owned(),
                now: now(),
                reporter_days,
                failures,
                policies_seen,
                excluded: Excluded {
                    untrusted_reports: untrusted,
                    untrusted_sessions: untrusted,
                },
                live_check: match check {
                    0 => None,
                    1 => Some(live(Mode::Enforce)),
                    2 => {
                        let mut stale = live(Mode::Testing);
                        stale.checked_at = now() - Duration::days(3);
                        Some(stale)
                    }
                    _ => Some(live(Mode::Testing)),
                },
            },
        )
}

fn thresholds() -> impl Strategy<Value = Thresholds> {
    (0u32..30, 0u32..90, 0u32..20, 0u32..4, 0u64..1000, 0u32..10).prop_map(
        |(window_days, max_window_days, min_days, min_orgs, min_sessions, recent)| Thresholds {
            window_days,
            max_window_days,
            min_days_with_reports: min_days,
            min_organisations: min_orgs,
            min_sessions,
            clean_recent_days: recent,
            ..Thresholds::default()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_evidence_gives_a_consistent_assessment(e in evidence(), t in thresholds()) {
        let a = assess(&e, &t);
        let ids: Vec<CriterionId> = a.criteria.iter().map(|c| c.id).collect();
        prop_assert_eq!(ids, CriterionId::ALL);
        if a.verdict == Verdict::Ready {
            prop_assert_eq!(a.live_check.status, Freshness::Fresh);
            prop_assert!(a.projection.total_sessions > 0);
        }
        let p = &a.projection;
        let inside = |d: chrono::NaiveDate| a.window.since <= d && d <= a.window.until;
        let failed = e
            .failures
            .iter()
            .filter(|f| inside(f.day))
            .fold(0u64, |s, f| s.saturating_add(f.sessions));
        let classed = p
            .would_refuse_sessions
            .saturating_add(p.unprotected_sessions)
            .saturating_add(p.other_failed_sessions);
        prop_assert_eq!(classed, failed);
        for share in [p.would_refuse_share, p.unprotected_share] {
            prop_assert!((0.0..=1.0).contains(&share));
        }
        prop_assert_eq!(
            p.by_day.len(),
            usize::try_from(a.window.days).unwrap()
        );
        let one = [a];
        prop_assert!(!to_html(&one).contains("<script"));
        prop_assert!(!to_markdown(&one).replace("\\<", "").contains("<script"));
        for row in parse_csv(&to_csv(&one)) {
            for cell in row {
                prop_assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{:?}", cell);
            }
        }
        let json: serde_json::Value = serde_json::from_str(&to_json(&one)).unwrap();
        prop_assert_eq!(json.as_array().map(Vec::len), Some(1));
    }
}
