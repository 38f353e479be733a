//! A domain checked, changed (policy id, mode, max_age, a new MX outside the policy, a
//! renewed certificate close to expiry), and checked again: the stored history and the
//! changes reported.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::SubsecRound;

use tlsrpt_check::{Change, DomainReport, Severity, Verdict};
use tlsrpt_testkit::dns::RecordType;
use tlsrpt_watch::stored_changes;

use crate::support::{Cert, Respond, Scenario, Smtp, pki};
use crate::{Backend, on_both_backends, store, watcher};

on_both_backends!(
    async multi_thread: changes_between_checks_are_reported_and_stored);

fn kinds(changes: &[Change]) -> Vec<&'static str> {
    changes.iter().map(|c| c.kind.as_str()).collect()
}

async fn changes_between_checks_are_reported_and_stored(backend: Backend) {
    let (store, _dir) = store(backend).await;
    let domain = format!("hist-{backend:?}.test").to_ascii_lowercase();
    let mx1 = format!("mx1.{domain}");
    let mx2 = format!("mx2.{domain}");
    let mut s = Scenario::good(&domain);

    // First check: nothing to compare with. Second: nothing changed.
    let network = s.start().await;
    let w = watcher(&s, network.dns.addr, &store);
    let first = w.check_and_record(&domain).await.unwrap();
    assert_eq!(
        first.report.verdict,
        Verdict::Pass,
        "{}",
        first.report.to_text()
    );
    assert!(first.changes.is_empty());
    assert_eq!(first.previous_at, None);
    let second = w.check_and_record(&domain).await.unwrap();
    assert!(second.changes.is_empty(), "{:#?}", second.changes);
    assert_eq!(
        second.previous_at,
        Some(first.report.checked_at.trunc_subsecs(0))
    );

    // The operator rotates the id, goes back to testing with a shorter max_age, adds an
    // MX that the policy does not cover, and renews mx1 with a short-lived certificate.
    drop(network);
    s.policy_host = None;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sts = format!("_mta-sts.{domain}");
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
    let w = watcher(&s, network.dns.addr, &store);
    let third = w.check_and_record(&domain).await.unwrap();
    assert_eq!(
        kinds(&third.changes),
        [
            "verdict-changed",
            "sts-id-rotated",
            "mode-changed",
            "max-age-changed",
            "mx-added",
            "mx-drift",
            "cert-renewed",
            "cert-expiring",
        ],
        "{:#?}",
        third.changes
    );
    let change = |kind: &str| {
        third
            .changes
            .iter()
            .find(|c| c.kind.as_str() == kind)
            .unwrap()
    };
    assert_eq!(
        change("sts-id-rotated").before.as_deref(),
        Some("20250101T000000")
    );
    assert_eq!(change("sts-id-rotated").after.as_deref(), Some("2"));
    assert_eq!(change("mode-changed").after.as_deref(), Some("testing"));
    assert_eq!(change("mode-changed").severity, Severity::Warning);
    assert_eq!(change("mx-added").subject.as_deref(), Some(mx2.as_str()));
    assert_eq!(change("mx-drift").subject.as_deref(), Some(mx2.as_str()));
    assert_eq!(
        change("cert-renewed").subject.as_deref(),
        Some(mx1.as_str())
    );
    assert_eq!(change("cert-expiring").severity, Severity::Warning);
    assert_eq!(
        third.previous_at,
        Some(second.report.checked_at.trunc_subsecs(0))
    );

    // The history holds all three checks, newest first, each whole.
    let history = store.check_history(&domain, 10).await.unwrap();
    let ids: Vec<Option<i64>> = history.iter().map(|c| Some(c.id)).collect();
    assert_eq!(ids, [third.check_id, second.check_id, first.check_id]);
    let newest = &history[0];
    assert_eq!(newest.sts_id.as_deref(), Some("2"));
    assert_eq!(newest.mode.as_deref(), Some("testing"));
    assert_eq!(newest.mx_hosts, [mx1.clone(), mx2.clone()]);
    assert_eq!(newest.verdict, "warn");
    assert_eq!(newest.warnings, 3, "{}", third.report.to_text());
    assert_eq!(stored_changes(newest), third.changes);
    let kept: DomainReport = serde_json::from_str(&newest.report_json).unwrap();
    assert_eq!(kept, third.report);
    assert!(kept.policy.unwrap().body.unwrap().contains("mode: testing"));
    assert_eq!(history[2].sts_id.as_deref(), Some("20250101T000000"));
    assert_eq!(history[2].mode.as_deref(), Some("enforce"));
    assert!(stored_changes(&history[2]).is_empty());
}
