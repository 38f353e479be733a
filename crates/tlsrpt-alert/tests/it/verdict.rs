//! ready-for-enforce on the dashboard's demo data (reports written through the real
//! parser and store, and recorded checks): the domain the advisor calls ready raises an
//! info alert with the advisor's headline, and a domain override turns it off, which
//! resolves it.

use std::collections::BTreeMap;

use chrono::Utc;
use tlsrpt_advisor::Trust;
use tlsrpt_alert::{AlertRules, DomainOverride, Evaluator, RulesConfig};

use crate::{Backend, evaluator, on_both_backends, open_alerts, store};

on_both_backends!(async: ready_for_enforce_follows_the_verdict);

async fn ready_for_enforce_follows_the_verdict(backend: Backend) {
    let (store, _dir) = store(backend).await;
    let now = Utc::now();
    tlsrpt_dashboard::demo::load(&store, now).await.unwrap();
    let evaluation = evaluator(&store).evaluate_all(now).await.unwrap();
    let ready: Vec<&str> = evaluation
        .firing
        .iter()
        .filter(|a| a.rule == "ready-for-enforce")
        .map(|a| a.domain.as_str())
        .collect();
    assert_eq!(ready, ["ready.example"], "{:#?}", evaluation.firing);
    let assessment = tlsrpt_advisor::assess(
        &store,
        "ready.example",
        now,
        &tlsrpt_readiness::Thresholds::default(),
        Trust::Trusted,
    )
    .await
    .unwrap();
    let open = open_alerts(&store, "ready.example").await;
    let alert = &open[&("ready-for-enforce".to_owned(), String::new())];
    eprintln!("{} [{}]: {}", alert.rule, alert.severity, alert.title);
    assert_eq!(alert.title, assessment.headline);
    assert!(
        alert
            .title
            .starts_with("ready.example is ready for mode: enforce: "),
        "{}",
        alert.title
    );
    assert_eq!(
        (alert.severity.as_str(), alert.evidence["verdict"].as_str()),
        ("info", Some("ready"))
    );
    // The demo's other stages show in the check rules too.
    for firing in &evaluation.firing {
        eprintln!(
            "demo: {} [{}]: {}",
            firing.rule, firing.severity, firing.title
        );
    }
    assert!(
        evaluation
            .firing
            .iter()
            .any(|a| a.rule == "cert-expiring" && a.domain == "expiring.example")
    );
    assert!(
        evaluation
            .firing
            .iter()
            .any(|a| a.rule == "mx-drift" && a.domain == "stale-mx.example")
    );

    // The domain stays in testing on purpose: its override turns the rule off.
    let quiet = DomainOverride {
        disabled: vec!["ready-for-enforce".to_owned()],
        ..DomainOverride::default()
    };
    let rules = AlertRules::new(
        RulesConfig::default(),
        BTreeMap::from([("ready.example".to_owned(), quiet)]),
    )
    .unwrap();
    let again = Evaluator::new(store.clone(), rules)
        .evaluate_domains(&["ready.example".to_owned()], now)
        .await
        .unwrap();
    assert_eq!(again.sync.resolved, [alert.id]);
    // Only the check's alert (its policy id rotated) is left, outside this scope.
    let left: Vec<String> = open_alerts(&store, "ready.example")
        .await
        .into_keys()
        .map(|(rule, _)| rule)
        .collect();
    assert_eq!(left, ["policy-changed"]);
}
