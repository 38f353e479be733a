//! The evaluation loop of `tlsrpt serve`: a check recorded and a report stored after it
//! started (as another process would) each raise their alert within a few polls, and the
//! loop stops when asked.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use tlsrpt_alert::{AlertRules, Evaluator, RulesConfig};
use tlsrpt_store::{Auth, Store};

use crate::{Backend, daily_report, ingest, on_both_backends, open_alerts, store};

on_both_backends!(async multi_thread: the_loop_evaluates_new_checks_and_reports);

async fn wait_for(store: &Store, domain: &str, rule: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let open = open_alerts(store, domain).await;
        if let Some(alert) = open.values().find(|a| a.rule == rule) {
            return alert.title.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {rule} on {domain} in 20 s: {open:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn the_loop_evaluates_new_checks_and_reports(backend: Backend) {
    let (store, _dir) = store(backend).await;
    let rules = RulesConfig {
        poll_seconds: 1,
        ..RulesConfig::default()
    };
    let evaluator = Evaluator::new(
        store.clone(),
        AlertRules::new(rules, BTreeMap::new()).unwrap(),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        evaluator
            .run(async {
                let _ = stopped.await;
            })
            .await;
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // A check recorded by someone else: the demo's expiring.example (an MX certificate
    // five days from expiry).
    let now = Utc::now();
    for report in tlsrpt_dashboard::demo::checks(now)
        .into_iter()
        .filter(|r| r.domain == "expiring.example")
    {
        tlsrpt_watch::record(&store, &report).await.unwrap();
    }
    let title = wait_for(&store, "expiring.example", "cert-expiring").await;
    eprintln!("loop: {title}");

    // A report stored by someone else: yesterday, a third of the sessions failed.
    let yesterday = (now - chrono::Duration::days(1)).date_naive();
    let report = daily_report(
        "Google Inc.",
        "loop.example",
        yesterday,
        400,
        &[("validation-failure", "mx.loop.example", 200)],
    );
    ingest(&store, &[report], Auth::Operator).await;
    let title = wait_for(&store, "loop.example", "failure-rate-rise").await;
    assert_eq!(
        title,
        "loop.example: 33.3% of sessions failed in the last day (200 of 600), above 5.00% (no 14-day baseline yet)"
    );

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the loop stops when asked")
        .unwrap();
}
