//! The report rules on reports ingested through the store: a failure spike with a new
//! result type on a new MX, a daily reporter gone quiet, forged reports that must change
//! nothing, and every alert resolved once its condition clears.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use tlsrpt_store::Auth;

use crate::{Backend, daily_report, evaluator, ingest, on_both_backends, open_alerts, store};

on_both_backends!(async: report_rules_fire_and_resolve, forged_reports_neither_raise_nor_clear);

const DOMAIN: &str = "rise.example";

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 5, d).unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Google and Microsoft report daily May 5 to 18 (1000 sessions each, 5 validation
/// failures on mx1), Mail.Ru daily May 4 to 17 (1000 clean sessions) and then stops; on
/// May 19 Google sees 100 certificate-expired failures on mx2 and 100 validation
/// failures on mx1 among 1000 sessions, Microsoft 1000 clean ones.
fn history() -> Vec<Value> {
    let mx1 = "mx1.rise.example";
    let mx2 = "mx2.rise.example";
    let mut reports = Vec::new();
    for d in 5..=18 {
        for org in ["Google Inc.", "Microsoft Corporation"] {
            reports.push(daily_report(
                org,
                DOMAIN,
                day(d),
                1000,
                &[("validation-failure", mx1, 5)],
            ));
        }
    }
    for d in 4..=17 {
        reports.push(daily_report("Mail.Ru", DOMAIN, day(d), 1000, &[]));
    }
    reports.push(daily_report(
        "Google Inc.",
        DOMAIN,
        day(19),
        800,
        &[
            ("certificate-expired", mx2, 100),
            ("validation-failure", mx1, 100),
        ],
    ));
    reports.push(daily_report(
        "Microsoft Corporation",
        DOMAIN,
        day(19),
        1000,
        &[],
    ));
    reports
}

async fn report_rules_fire_and_resolve(backend: Backend) {
    let (store, _dir) = store(backend).await;
    ingest(&store, &history(), Auth::Operator).await;
    let evaluator = evaluator(&store);
    let now = at("2026-05-20T12:00:00Z");
    let first = evaluator
        .evaluate_domains(&[DOMAIN.to_owned()], now)
        .await
        .unwrap();
    assert_eq!(first.sync.opened.len(), 4, "{:#?}", first.firing);
    let open = open_alerts(&store, DOMAIN).await;
    let keys: Vec<(&str, &str)> = open.keys().map(|(r, s)| (r.as_str(), s.as_str())).collect();
    assert_eq!(
        keys,
        [
            ("failure-rate-rise", ""),
            ("new-failing-mx", "mx2.rise.example"),
            ("new-result-type", "certificate-expired"),
            ("reporter-silent", "Mail.Ru"),
        ]
    );
    for alert in open.values() {
        eprintln!("{} [{}]: {}", alert.rule, alert.severity, alert.title);
    }
    let get = |rule: &str, subject: &str| &open[&(rule.to_owned(), subject.to_owned())];

    // Baseline May 5-18: 41000 successful (Google and Microsoft 14 days, Mail.Ru 13),
    // 140 failed = 0.34 %; the last day: 200 of 2000 = 10 %, 29.4 times as much.
    let rise = get("failure-rate-rise", "");
    assert_eq!(
        rise.title,
        "rise.example: 10.0% of sessions failed in the last day (200 of 2000), 29.4× the 14-day baseline of 0.34%"
    );
    assert_eq!(rise.severity, "warning");
    assert_eq!(rise.evidence["last_day"]["failed_sessions"], 200);
    assert_eq!(rise.evidence["baseline"]["failed_sessions"], 140);
    assert_eq!(rise.evidence["baseline"]["successful_sessions"], 41000);
    assert_eq!(rise.evidence["baseline"]["from"], "2026-05-05");
    assert_eq!(rise.evidence["baseline"]["until"], "2026-05-18");

    let new_type = get("new-result-type", "certificate-expired");
    assert_eq!(
        new_type.title,
        "rise.example: new failure type certificate-expired: 100 failed sessions in the last day, none in the previous 14 days"
    );
    assert_eq!(
        new_type.evidence["receiving_mx"],
        serde_json::json!(["mx2.rise.example"])
    );
    assert_eq!(
        new_type.evidence["reporters"],
        serde_json::json!(["Google Inc."])
    );

    let new_mx = get("new-failing-mx", "mx2.rise.example");
    assert_eq!(
        new_mx.title,
        "rise.example: mx2.rise.example has 100 failed sessions in the last day (certificate-expired), none in the previous 14 days"
    );
    assert_eq!(new_mx.evidence["failed_sessions"], 100);

    let silent = get("reporter-silent", "Mail.Ru");
    assert_eq!(
        silent.title,
        "rise.example: Mail.Ru has sent no report for 2 days (its last covers 2026-05-17; before that it reported on 14 of 14 days)"
    );
    assert_eq!(silent.evidence["last_report_day"], "2026-05-17");

    // Evaluating again changes nothing: the same four alerts, ongoing.
    let again = evaluator
        .evaluate_domains(&[DOMAIN.to_owned()], now)
        .await
        .unwrap();
    assert_eq!((again.sync.opened.len(), again.sync.ongoing.len()), (0, 4));

    // Mail.Ru's late report for May 19 arrives; two days later the spike has left the
    // last day (and, being in the baseline now, the MX and type are no longer new).
    ingest(
        &store,
        &[daily_report("Mail.Ru", DOMAIN, day(19), 1000, &[])],
        Auth::Operator,
    )
    .await;
    let later = evaluator
        .evaluate_domains(&[DOMAIN.to_owned()], at("2026-05-21T12:00:00Z"))
        .await
        .unwrap();
    assert_eq!(later.sync.resolved.len(), 4, "{:#?}", later.firing);
    assert!(open_alerts(&store, DOMAIN).await.is_empty());
}

async fn forged_reports_neither_raise_nor_clear(backend: Backend) {
    let (store, _dir) = store(backend).await;
    ingest(&store, &history(), Auth::Operator).await;
    let evaluator = evaluator(&store);
    let now = at("2026-05-20T12:00:00Z");
    // Unauthenticated posts: a spike on another domain, and Mail.Ru "reporting" again.
    let forged = [
        daily_report(
            "Google Inc.",
            "forged.example",
            day(19),
            0,
            &[("starttls-not-supported", "mx.forged.example", 5000)],
        ),
        daily_report("Mail.Ru", DOMAIN, day(19), 1000, &[]),
    ];
    ingest(&store, &forged, Auth::Https).await;
    let evaluation = evaluator
        .evaluate_domains(&[DOMAIN.to_owned(), "forged.example".to_owned()], now)
        .await
        .unwrap();
    assert!(
        open_alerts(&store, "forged.example").await.is_empty(),
        "{:#?}",
        evaluation.firing
    );
    let open = open_alerts(&store, DOMAIN).await;
    assert!(open.contains_key(&("reporter-silent".to_owned(), "Mail.Ru".to_owned())));
    assert_eq!(open.len(), 4);
    // The whole sweep agrees: the forged domain is not even known.
    let all = evaluator.evaluate_all(now).await.unwrap();
    assert_eq!(all.domains, [DOMAIN]);
    assert_eq!((all.sync.opened.len(), all.sync.resolved.len()), (0, 0));
}
