//! The check rules on checks recorded by the Watcher on the closed test network (loopback
//! DNS, policy host and SMTP servers with a test CA): a domain changes its policy, gains
//! an MX outside it and an expiring certificate, loses its policy host, then its
//! `_mta-sts` record, and is finally repaired; each alert opens and resolves in turn.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use chrono::Utc;
use tlsrpt_check::Checker;
use tlsrpt_store::{Store, StoredAlert};
use tlsrpt_testkit::dns::RecordType;
use tlsrpt_watch::{Recorded, Watcher};

use crate::support::{Cert, Network, Respond, Scenario, Smtp, enforce_policy, pki};
use crate::{Backend, evaluator, on_both_backends, open_alerts, store};

on_both_backends!(async multi_thread: check_rules_fire_and_resolve);

async fn check(s: &Scenario, network: &Network, store: &Store) -> Recorded {
    let mut config = s.config.clone();
    config.dns_server = Some(network.dns.addr);
    let watcher = Watcher::new(Checker::new(config).unwrap(), store.clone());
    watcher.check_and_record(&s.domain).await.unwrap()
}

type Open = BTreeMap<(String, String), StoredAlert>;

fn keys(open: &Open) -> Vec<(&str, &str)> {
    open.keys().map(|(r, s)| (r.as_str(), s.as_str())).collect()
}

fn show(open: &Open) {
    for alert in open.values() {
        eprintln!("{} [{}]: {}", alert.rule, alert.severity, alert.title);
    }
}

/// Stops the servers, so that the scenario can be changed and started again.
async fn stop(s: &mut Scenario, network: Network) {
    drop(network);
    s.policy_host = None;
    tokio::time::sleep(Duration::from_millis(200)).await;
}

async fn check_rules_fire_and_resolve(backend: Backend) {
    let (store, _dir) = store(backend).await;
    let evaluator = evaluator(&store);
    let d = format!("alert-{backend:?}.test").to_ascii_lowercase();
    let mx1 = format!("mx1.{d}");
    let mx2 = format!("mx2.{d}");
    let sts = format!("_mta-sts.{d}");
    let mut s = Scenario::good(&d);

    // 1. A good enforce domain: nothing to say.
    let network = s.start().await;
    check(&s, &network, &store).await;
    let first = evaluator.evaluate_check(&d, Utc::now()).await.unwrap();
    assert!(first.firing.is_empty(), "{:#?}", first.firing);

    // 2. Back to testing with a new id and a day's max_age, a new MX that the policy does
    //    not cover, and mx1 renewed with a certificate that expires in 10 days.
    stop(&mut s, network).await;
    s.zone
        .remove(&sts, RecordType::TXT)
        .txt(&sts, "v=STSv1; id=2");
    s.serve_policy(
        Cert::Valid,
        Respond::policy(&format!(
            "version: STSv1\nmode: testing\nmx: {mx1}\nmax_age: 86400\n"
        )),
    );
    s.add_mx(20, &mx2, 3, Smtp::StartTls(pki().leaf(&mx2, &Cert::Valid)));
    s.smtp_at(
        SocketAddr::new(s.ip(2), 25),
        &mx1,
        Smtp::StartTls(pki().leaf(&mx1, &Cert::Expiring(10))),
    );
    let network = s.start().await;
    let second = check(&s, &network, &store).await;
    let now = Utc::now();
    evaluator.evaluate_check(&d, now).await.unwrap();
    let open = open_alerts(&store, &d).await;
    show(&open);
    assert_eq!(
        keys(&open),
        [
            ("cert-expiring", mx1.as_str()),
            ("mx-drift", mx2.as_str()),
            ("policy-changed", ""),
        ]
    );
    let get = |open: &Open, rule: &str, subject: &str| {
        open[&(rule.to_owned(), subject.to_owned())].clone()
    };
    let changed = get(&open, "policy-changed", "");
    assert_eq!(
        changed.title,
        format!(
            "{d}: the policy id changed from 20250101T000000 to 2; the mode changed from enforce to testing"
        )
    );
    assert_eq!(changed.severity, "warning");
    assert_eq!(changed.evidence["changes"][1]["after"], "testing");
    let drift = get(&open, "mx-drift", &mx2);
    assert_eq!(
        drift.title,
        format!("{d}: MX {mx2} is not covered by the policy's mx patterns ({mx1}, mode testing)")
    );
    assert_eq!(drift.evidence["policy_mx"], serde_json::json!([mx1]));
    let cert = get(&open, "cert-expiring", &mx1);
    let not_after: chrono::DateTime<Utc> = cert.evidence["not_after"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let days = (not_after - now).num_days();
    assert!((9..=10).contains(&days), "{days}");
    assert_eq!(
        cert.title,
        format!(
            "{d}: the certificate of {mx1} expires in {days} days ({})",
            not_after.format("%Y-%m-%d %H:%M UTC")
        )
    );
    assert_eq!(
        (cert.severity.as_str(), cert.evidence["role"].as_str()),
        ("warning", Some("mx"))
    );

    // The countdown moves with the clock: a week later the full sweep makes it critical.
    evaluator
        .evaluate_all(now + chrono::Duration::days(8))
        .await
        .unwrap();
    let later = get(&open_alerts(&store, &d).await, "cert-expiring", &mx1);
    assert_eq!((later.id, later.severity.as_str()), (cert.id, "critical"));
    eprintln!("{} [{}]: {}", later.rule, later.severity, later.title);

    // 3. The policy host goes away.
    stop(&mut s, network).await;
    s.smtp_at(
        SocketAddr::new(s.ip(2), 25),
        &mx1,
        Smtp::StartTls(pki().leaf(&mx1, &Cert::Expiring(10))),
    );
    s.smtp_at(
        SocketAddr::new(s.ip(3), 25),
        &mx2,
        Smtp::StartTls(pki().leaf(&mx2, &Cert::Valid)),
    );
    let network = s.start().await;
    check(&s, &network, &store).await;
    let third = evaluator.evaluate_check(&d, Utc::now()).await.unwrap();
    let open = open_alerts(&store, &d).await;
    show(&open);
    assert_eq!(
        keys(&open),
        [
            ("cert-expiring", mx1.as_str()),
            ("policy-fetch-failing", "")
        ]
    );
    assert_eq!(
        third.sync.resolved,
        [changed.id, drift.id]
            .iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    let fetch = get(&open, "policy-fetch-failing", "");
    assert!(
        fetch.title.starts_with(&format!(
            "{d}: the MTA-STS policy cannot be fetched from https://mta-sts.{d}/.well-known/mta-sts.txt: "
        )),
        "{}",
        fetch.title
    );
    assert_eq!(fetch.severity, "critical");
    assert!(fetch.evidence["broke_at"].is_string(), "{}", fetch.evidence);

    // 4. The _mta-sts record is removed: senders keep the testing policy fetched at the
    //    second check for its max_age.
    stop(&mut s, network).await;
    s.zone.remove(&sts, RecordType::TXT);
    s.smtp_at(
        SocketAddr::new(s.ip(2), 25),
        &mx1,
        Smtp::StartTls(pki().leaf(&mx1, &Cert::Expiring(10))),
    );
    s.smtp_at(
        SocketAddr::new(s.ip(3), 25),
        &mx2,
        Smtp::StartTls(pki().leaf(&mx2, &Cert::Valid)),
    );
    let network = s.start().await;
    check(&s, &network, &store).await;
    evaluator.evaluate_check(&d, Utc::now()).await.unwrap();
    let open = open_alerts(&store, &d).await;
    show(&open);
    assert_eq!(
        keys(&open),
        [("cert-expiring", mx1.as_str()), ("sts-record-gone", "")]
    );
    let gone = get(&open, "sts-record-gone", "");
    let until = second.report.checked_at + chrono::Duration::seconds(86_400);
    assert_eq!(
        gone.title,
        format!(
            "{d}: the _mta-sts record is gone, but senders may keep the cached policy (id 2, mode testing, max_age 86400 s) until {}",
            until.format("%Y-%m-%d %H:%M UTC")
        )
    );
    assert_eq!(gone.evidence["cached_until"], serde_json::json!(until));
    // Once the cached copies have expired, nothing is left to warn about.
    evaluator
        .evaluate_all(Utc::now() + chrono::Duration::days(2))
        .await
        .unwrap();
    assert!(
        !open_alerts(&store, &d)
            .await
            .contains_key(&("sts-record-gone".to_owned(), String::new()))
    );

    // 5. Repaired: record back with a new id, the enforce policy, mx1 renewed, mx2 gone.
    stop(&mut s, network).await;
    s.zone.txt(&sts, "v=STSv1; id=3");
    s.zone.remove(&d, RecordType::MX).mx(&d, 10, &mx1);
    s.serve_policy(Cert::Valid, Respond::policy(&enforce_policy(&d)));
    s.smtp_at(
        SocketAddr::new(s.ip(2), 25),
        &mx1,
        Smtp::StartTls(pki().leaf(&mx1, &Cert::Valid)),
    );
    let network = s.start().await;
    check(&s, &network, &store).await;
    let last = evaluator.evaluate_check(&d, Utc::now()).await.unwrap();
    assert!(last.firing.is_empty(), "{:#?}", last.firing);
    assert!(open_alerts(&store, &d).await.is_empty());
    drop(network);
}
