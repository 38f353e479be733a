//! The rollups kept at ingest and the queries that read them: exact figures for a handful
//! of hand-written reports (trusted and not, duplicates, two entries with one key), the
//! same figures after the migration rebuilds the rollups from the detail rows, concurrent
//! writers, and the plans of the hot queries.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};
use tlsrpt_store::{
    Auth, Candidate, DailyRollup, DayTotals, FailureRow, NewInput, Outcome, PolicySeen,
    PortfolioQuery, RollupQuery, SessionTotals, StatsFilter, Store, UntrustedSummary,
};

use crate::support::{Backend, TempStore, input, on_both_backends};

on_both_backends!(
    async: domain_daily_sums_each_key_once_per_report,
    portfolio_has_every_domain_and_every_day,
    failure_rows_and_policies_seen_read_one_domain,
    stats_read_the_rollups,
    the_migration_rebuilds_the_same_rollups,
    concurrent_writers_count_each_report_once,
    hot_queries_use_an_index,
);

const MX1: &str = "mx1.example.com";

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn time(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// A failure detail; the optional fields only when given.
fn detail(result_type: &str, count: u64, mx: Option<&str>, ip: Option<&str>) -> Value {
    let mut detail = json!({"result-type": result_type, "failed-session-count": count});
    if let Some(mx) = mx {
        detail["receiving-mx-hostname"] = json!(mx);
    }
    if let Some(ip) = ip {
        detail["sending-mta-ip"] = json!(ip);
    }
    detail
}

/// A policy entry whose failure total is the sum of its details.
fn entry(kind: &str, domain: &str, lines: &[&str], ok: u64, details: Vec<Value>) -> Value {
    let failed: u64 = details
        .iter()
        .map(|d| d["failed-session-count"].as_u64().unwrap())
        .sum();
    let mx: Vec<&str> = if kind == "sts" { vec![MX1] } else { vec![] };
    json!({
        "policy": {"policy-type": kind, "policy-string": lines, "policy-domain": domain, "mx-host": mx},
        "summary": {"total-successful-session-count": ok, "total-failure-session-count": failed},
        "failure-details": details,
    })
}

fn sts(domain: &str, mode: &str, ok: u64, details: Vec<Value>) -> Value {
    let mode = format!("mode: {mode}");
    entry("sts", domain, &["version: STSv1", &mode], ok, details)
}

/// The input of a report starting at `start`, vouched for by `auth`, received at `at`.
fn report(org: &str, id: &str, start: &str, policies: Vec<Value>, auth: Auth, at: i64) -> NewInput {
    let end = (time(start) + chrono::Duration::seconds(86_399)).to_rfc3339();
    let json = json!({
        "organization-name": org,
        "date-range": {"start-datetime": start, "end-datetime": end},
        "contact-info": "tlsrpt@reporter.example",
        "report-id": id,
        "policies": policies,
    });
    let mut new = input(&serde_json::to_vec(&json).unwrap(), id);
    match &mut new.candidate {
        Candidate::Report { auth: a, .. } => *a = auth,
        other => panic!("not a report: {other:?}"),
    }
    new.received_at = at;
    new
}

/// r1 (Alpha, trusted, 03-01): example.com sts 10/5 (starttls 2 at mx1, expired 3) and
/// sts 5/1 (starttls 1 at mx1), tlsa 7/0.
fn r1() -> NewInput {
    report(
        "Alpha",
        "r1",
        "2026-03-01T00:00:00Z",
        vec![
            sts(
                "example.com",
                "testing",
                10,
                vec![
                    detail("starttls-not-supported", 2, Some(MX1), None),
                    detail("certificate-expired", 3, None, None),
                ],
            ),
            sts(
                "example.com",
                "testing",
                5,
                vec![detail("starttls-not-supported", 1, Some(MX1), None)],
            ),
            entry("tlsa", "Example.COM.", &["3 1 1 AB"], 7, vec![]),
        ],
        Auth::Operator,
        1_772_500_000,
    )
}

/// r2 (Alpha, untrusted, 03-01 12:00): example.com sts enforce 100/4 (starttls 4 at mx1
/// from 192.0.2.1); untrusted.example sts 9/0.
fn r2() -> NewInput {
    report(
        "Alpha",
        "r2",
        "2026-03-01T12:00:00Z",
        vec![
            sts(
                "example.com",
                "enforce",
                100,
                vec![detail(
                    "starttls-not-supported",
                    4,
                    Some(MX1),
                    Some("192.0.2.1"),
                )],
            ),
            sts("untrusted.example", "testing", 9, vec![]),
        ],
        Auth::DkimNone,
        1_772_600_000,
    )
}

/// r3 (Beta, DKIM-verified, 03-02): example.com sts 1/0, other.example sts 2/0.
fn r3() -> NewInput {
    report(
        "Beta",
        "r3",
        "2026-03-02T00:00:00Z",
        vec![
            sts("example.com", "testing", 1, vec![]),
            sts("other.example", "testing", 2, vec![]),
        ],
        Auth::DkimPass {
            domain: "beta.example".into(),
        },
        1_772_550_000,
    )
}

/// A store holding r1, r2 and r3, written as a batch with a duplicate of r1, then a batch
/// of duplicates that must change nothing.
async fn store_with_reports(backend: Backend) -> TempStore {
    let db = TempStore::new(backend).await;
    let outcomes = db.store.write_batch(&[r1(), r2(), r1()]).await.unwrap();
    assert_eq!(
        outcomes,
        [Outcome::Stored, Outcome::Stored, Outcome::Duplicate]
    );
    let outcomes = db.store.write_batch(&[r3()]).await.unwrap();
    assert_eq!(outcomes, [Outcome::Stored]);
    let outcomes = db.store.write_batch(&[r2(), r3(), r1()]).await.unwrap();
    assert_eq!(outcomes, [Outcome::Duplicate; 3]);
    db
}

fn window(domain: &str, trusted_only: bool) -> RollupQuery {
    RollupQuery {
        domain: domain.into(),
        since: date("2026-03-01"),
        until: date("2026-03-02"),
        trusted_only,
    }
}

#[allow(clippy::too_many_arguments)]
fn rollup(
    day: &str,
    policy_type: &str,
    reporter: &str,
    result_type: Option<&str>,
    mx: Option<&str>,
    reports: i64,
    successful_sessions: i64,
    failed_sessions: i64,
) -> DailyRollup {
    DailyRollup {
        day: date(day),
        policy_type: policy_type.into(),
        reporter: reporter.into(),
        result_type: result_type.map(Into::into),
        receiving_mx: mx.map(Into::into),
        reports,
        successful_sessions,
        failed_sessions,
    }
}

async fn domain_daily_sums_each_key_once_per_report(backend: Backend) {
    let db = store_with_reports(backend).await;
    let starttls = Some("starttls-not-supported");
    let expired = Some("certificate-expired");
    assert_eq!(
        db.store
            .domain_daily(&window("example.com", false))
            .await
            .unwrap(),
        [
            rollup("2026-03-01", "sts", "Alpha", None, None, 2, 115, 10),
            rollup("2026-03-01", "sts", "Alpha", expired, None, 1, 0, 3),
            rollup("2026-03-01", "sts", "Alpha", starttls, Some(MX1), 2, 0, 7),
            rollup("2026-03-01", "tlsa", "Alpha", None, None, 1, 7, 0),
            rollup("2026-03-02", "sts", "Beta", None, None, 1, 1, 0),
        ]
    );
    assert_eq!(
        db.store
            .domain_daily(&window(" EXAMPLE.com.", true))
            .await
            .unwrap(),
        [
            rollup("2026-03-01", "sts", "Alpha", None, None, 1, 15, 6),
            rollup("2026-03-01", "sts", "Alpha", expired, None, 1, 0, 3),
            rollup("2026-03-01", "sts", "Alpha", starttls, Some(MX1), 1, 0, 3),
            rollup("2026-03-01", "tlsa", "Alpha", None, None, 1, 7, 0),
            rollup("2026-03-02", "sts", "Beta", None, None, 1, 1, 0),
        ]
    );
    let one_day = RollupQuery {
        since: date("2026-03-02"),
        ..window("example.com", false)
    };
    assert_eq!(
        db.store.domain_daily(&one_day).await.unwrap(),
        [rollup("2026-03-02", "sts", "Beta", None, None, 1, 1, 0)]
    );
    assert_eq!(
        db.store
            .untrusted_summary("example.com", date("2026-03-01"), date("2026-03-02"))
            .await
            .unwrap(),
        UntrustedSummary {
            reports: 1,
            sessions: 104
        }
    );
    assert_eq!(
        db.store
            .untrusted_summary("example.com", date("2026-03-02"), date("2026-03-02"))
            .await
            .unwrap(),
        UntrustedSummary::default()
    );
}

fn days(figures: [(&str, i64, i64); 3]) -> Vec<DayTotals> {
    figures
        .iter()
        .map(|&(day, successful_sessions, failed_sessions)| DayTotals {
            day: date(day),
            successful_sessions,
            failed_sessions,
        })
        .collect()
}

async fn portfolio_has_every_domain_and_every_day(backend: Backend) {
    let db = store_with_reports(backend).await;
    assert_eq!(
        db.store.domains().await.unwrap(),
        ["example.com", "other.example", "untrusted.example"]
    );
    let query = PortfolioQuery {
        today: date("2026-03-02"),
        days: 3,
        trusted_only: false,
    };
    let all = db.store.portfolio(&query).await.unwrap();
    let names: Vec<&str> = all.iter().map(|d| d.domain.as_str()).collect();
    assert_eq!(names, ["example.com", "other.example", "untrusted.example"]);
    let example = &all[0];
    assert_eq!(
        example.daily,
        days([
            ("2026-02-28", 0, 0),
            ("2026-03-01", 122, 10),
            ("2026-03-02", 1, 0)
        ])
    );
    assert_eq!(example.reports, 3);
    assert_eq!(
        example.last_report_start,
        Some(time("2026-03-02T00:00:00Z"))
    );
    assert_eq!(
        example.last_ingested_at,
        DateTime::from_timestamp(1_772_600_000, 0)
    );
    assert_eq!(
        example.last_days(1),
        SessionTotals {
            successful_sessions: 1,
            failed_sessions: 0
        }
    );
    assert_eq!(example.totals().sessions(), 133);
    assert_eq!(all[1].reports, 1);
    assert_eq!(all[1].totals().successful_sessions, 2);
    assert_eq!(all[2].totals().successful_sessions, 9);

    let trusted = db
        .store
        .portfolio(&PortfolioQuery {
            trusted_only: true,
            ..query
        })
        .await
        .unwrap();
    assert_eq!(
        trusted[0].daily,
        days([
            ("2026-02-28", 0, 0),
            ("2026-03-01", 22, 6),
            ("2026-03-02", 1, 0)
        ])
    );
    assert_eq!(trusted[0].reports, 2);
    let untrusted_only = &trusted[2];
    assert_eq!(untrusted_only.domain, "untrusted.example");
    assert_eq!(untrusted_only.reports, 0);
    assert_eq!(untrusted_only.last_report_start, None);
    assert_eq!(untrusted_only.totals(), SessionTotals::default());

    let earlier = db
        .store
        .portfolio(&PortfolioQuery {
            today: date("2026-02-28"),
            days: 2,
            trusted_only: false,
        })
        .await
        .unwrap();
    assert_eq!(earlier.len(), 3);
    assert!(earlier.iter().all(|d| d.reports == 0 && d.daily.len() == 2));
}

fn failure(mx: Option<&str>, ip: Option<&str>, result_type: &str, failed: i64) -> FailureRow {
    FailureRow {
        day: date("2026-03-01"),
        reporter: "Alpha".into(),
        policy_type: "sts".into(),
        result_type: result_type.into(),
        receiving_mx_hostname: mx.map(Into::into),
        sending_mta_ip: ip.map(Into::into),
        failure_reason_code: None,
        failed_sessions: failed,
    }
}

fn seen(
    reporter: &str,
    kind: &str,
    lines: &[&str],
    figures: (i64, i64),
    at: (&str, &str),
) -> PolicySeen {
    PolicySeen {
        day: time(at.0).date_naive(),
        reporter: reporter.into(),
        policy_type: kind.into(),
        policy_string: lines.iter().map(|l| l.to_string()).collect(),
        mx_host: if kind == "sts" {
            vec![MX1.into()]
        } else {
            vec![]
        },
        sessions: figures.0,
        reports: figures.1,
        first_seen: time(at.0),
        last_seen: time(at.1),
    }
}

async fn failure_rows_and_policies_seen_read_one_domain(backend: Backend) {
    let db = store_with_reports(backend).await;
    let starttls = "starttls-not-supported";
    assert_eq!(
        db.store
            .failure_rows(&window("example.com", false))
            .await
            .unwrap(),
        [
            failure(None, None, "certificate-expired", 3),
            failure(Some(MX1), None, starttls, 3),
            failure(Some(MX1), Some("192.0.2.1"), starttls, 4),
        ]
    );
    assert_eq!(
        db.store
            .failure_rows(&window("example.com", true))
            .await
            .unwrap(),
        [
            failure(None, None, "certificate-expired", 3),
            failure(Some(MX1), None, starttls, 3),
        ]
    );
    assert!(
        db.store
            .failure_rows(&window("other.example", false))
            .await
            .unwrap()
            .is_empty()
    );

    let day1 = "2026-03-01T00:00:00Z";
    let noon = "2026-03-01T12:00:00Z";
    let day2 = "2026-03-02T00:00:00Z";
    let testing = ["version: STSv1", "mode: testing"];
    let enforce_seen = seen(
        "Alpha",
        "sts",
        &["version: STSv1", "mode: enforce"],
        (104, 1),
        (noon, noon),
    );
    let trusted_seen = [
        seen("Alpha", "sts", &testing, (21, 1), (day1, day1)),
        seen("Alpha", "tlsa", &["3 1 1 AB"], (7, 1), (day1, day1)),
        seen("Beta", "sts", &testing, (1, 1), (day2, day2)),
    ];
    let mut all_seen = vec![enforce_seen];
    all_seen.extend(trusted_seen.iter().cloned());
    assert_eq!(
        db.store
            .policies_seen(&window("example.com", false))
            .await
            .unwrap(),
        all_seen
    );
    assert_eq!(
        db.store
            .policies_seen(&window("example.com", true))
            .await
            .unwrap(),
        trusted_seen
    );
    let until_first_day = RollupQuery {
        until: date("2026-03-01"),
        ..window("example.com", true)
    };
    assert_eq!(
        db.store.policies_seen(&until_first_day).await.unwrap(),
        trusted_seen[..2]
    );
}

async fn stats_read_the_rollups(backend: Backend) {
    let db = store_with_reports(backend).await;
    let stats = db
        .store
        .stats(&StatsFilter {
            domain: Some("example.com".into()),
            ..StatsFilter::default()
        })
        .await
        .unwrap();
    let figures: Vec<_> = stats
        .iter()
        .map(|s| {
            (
                s.policy_type.as_str(),
                s.reports,
                s.successful_sessions,
                s.failed_sessions,
                s.failures_by_result_type
                    .iter()
                    .map(|(k, v)| (k.as_str(), *v))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    assert_eq!(
        figures,
        [
            (
                "sts",
                3,
                116,
                10,
                vec![("certificate-expired", 3), ("starttls-not-supported", 7)]
            ),
            ("tlsa", 1, 7, 0, vec![]),
        ]
    );
}

/// Everything the rollup queries say about the three reports.
async fn snapshot(store: &Store) -> String {
    let mut out = format!("{:?}\n", store.domains().await.unwrap());
    let query = PortfolioQuery {
        today: date("2026-03-03"),
        days: 4,
        trusted_only: false,
    };
    out += &format!("{:?}\n", store.portfolio(&query).await.unwrap());
    for trusted_only in [false, true] {
        for domain in ["example.com", "other.example", "untrusted.example"] {
            let window = window(domain, trusted_only);
            out += &format!("{:?}\n", store.domain_daily(&window).await.unwrap());
        }
    }
    out += &format!(
        "{:?}\n",
        store.stats(&StatsFilter::default()).await.unwrap()
    );
    out
}

async fn the_migration_rebuilds_the_same_rollups(backend: Backend) {
    let db = store_with_reports(backend).await;
    let incremental = snapshot(&db.store).await;
    assert!(incremental.contains("untrusted.example"), "{incremental}");
    db.store.close().await;
    // Back to the schema before the rollups, with the reports in place.
    db.execute(&[
        "DROP TABLE daily_rollups",
        "DROP TABLE daily_domain_totals",
        "DROP TABLE domain_activity",
        "DELETE FROM _sqlx_migrations WHERE version = 3",
    ])
    .await;
    let reopened = Store::open(&db.url).await.unwrap();
    assert_eq!(snapshot(&reopened).await, incremental);
    reopened.close().await;
}

async fn concurrent_writers_count_each_report_once(backend: Backend) {
    let db = TempStore::new(backend).await;
    let inputs = |order: usize| -> Vec<NewInput> {
        let mut all: Vec<NewInput> = (0..120)
            .map(|i| {
                let domain = format!("d{}.example", i % 7);
                report(
                    &format!("Org {}", i % 3),
                    &format!("c{i}"),
                    &format!("2026-03-{:02}T00:00:00Z", 1 + i % 5),
                    vec![sts(
                        &domain,
                        "testing",
                        10,
                        vec![detail("validation-failure", 1, Some(MX1), None)],
                    )],
                    Auth::Operator,
                    1_772_500_000,
                )
            })
            .collect();
        all.rotate_left(order * 37);
        if order % 2 == 1 {
            all.reverse();
        }
        all
    };
    let mut writers = Vec::new();
    for order in 0..4 {
        let store = db.store.clone();
        let batch = inputs(order);
        writers.push(tokio::spawn(async move {
            for chunk in batch.chunks(25) {
                store.write_batch(chunk).await.unwrap();
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let stats = db.stats().await;
    assert_eq!(stats.iter().map(|s| s.reports).sum::<i64>(), 120);
    assert_eq!(
        stats.iter().map(|s| s.successful_sessions).sum::<i64>(),
        1200
    );
    assert_eq!(
        stats
            .iter()
            .map(|s| s.failures_by_result_type["validation-failure"])
            .sum::<i64>(),
        120
    );
    let portfolio = db
        .store
        .portfolio(&PortfolioQuery {
            today: date("2026-03-05"),
            days: 5,
            trusted_only: true,
        })
        .await
        .unwrap();
    assert_eq!(portfolio.len(), 7);
    assert_eq!(portfolio.iter().map(|d| d.reports).sum::<i64>(), 120);
}

async fn hot_queries_use_an_index(backend: Backend) {
    let db = store_with_reports(backend).await;
    let plans = db
        .store
        .query_plans("example.com", date("2026-03-02"), true)
        .await
        .unwrap();
    assert_eq!(plans.len(), 7);
    for plan in &plans {
        let text = plan.plan.join("\n");
        // domain_activity has one row per domain: reading all of it is the answer.
        let reads_activity_only = plan.sql.contains("FROM domain_activity");
        let (scan, index) = match backend {
            Backend::Sqlite => ("SCAN ", "USING"),
            Backend::Postgres => ("Seq Scan", "Index"),
        };
        if !reads_activity_only {
            let scans: Vec<&String> = plan.plan.iter().filter(|l| l.contains(scan)).collect();
            assert!(scans.is_empty(), "{}: full scan in\n{text}", plan.name);
            assert!(text.contains(index), "{}: no index in\n{text}", plan.name);
        }
        assert!(!plan.plan.is_empty(), "{}", plan.name);
    }
}
