//! The check history: every check kept whole, the latest per domain, the history newest
//! first, and the domains to re-check (checked ones and those of trusted reports).

use chrono::{DateTime, Utc};
use tlsrpt_store::{Auth, Candidate, NewCheck};

use crate::support::{Backend, TempStore, input, on_both_backends, report_json};

on_both_backends!(
    async: checks_round_trip_and_list_newest_first,
    latest_checks_has_one_per_domain,
    known_domains_include_trusted_report_domains_only,
);

fn check(domain: &str, at: &str, sts_id: &str) -> NewCheck {
    NewCheck {
        domain: domain.to_owned(),
        checked_at: at.parse::<DateTime<Utc>>().unwrap(),
        verdict: "warn".to_owned(),
        sts_id: Some(sts_id.to_owned()),
        mode: Some("testing".to_owned()),
        mx_hosts: vec![format!("mx1.{domain}"), format!("mx2.{domain}")],
        errors: 0,
        warnings: 2,
        report_json: format!(r#"{{"domain":"{domain}","sts_id":"{sts_id}"}}"#),
        changes_json: "[]".to_owned(),
    }
}

async fn checks_round_trip_and_list_newest_first(backend: Backend) {
    let t = TempStore::new(backend).await;
    assert_eq!(t.store.latest_check("a.example").await.unwrap(), None);
    let first = check("a.example", "2026-05-01T10:00:00Z", "1");
    let mut second = check("A.Example.", "2026-05-02T10:00:00Z", "2");
    second.changes_json = r#"[{"kind":"sts-id-rotated"}]"#.to_owned();
    second.sts_id = None;
    second.mode = None;
    second.verdict = "fail".to_owned();
    second.errors = 3;
    let id1 = t.store.save_check(&first).await.unwrap();
    // Stored out of order: the history is by time, not by insertion.
    let id3 = t
        .store
        .save_check(&check("a.example", "2026-05-03T10:00:00Z", "3"))
        .await
        .unwrap();
    let id2 = t.store.save_check(&second).await.unwrap();
    assert!(id1 < id3 && id3 < id2);

    let history = t.store.check_history("a.example", 10).await.unwrap();
    let ids: Vec<i64> = history.iter().map(|c| c.id).collect();
    assert_eq!(ids, [id3, id2, id1]);
    let got = &history[1];
    assert_eq!(got.domain, "a.example", "stored lowercase without the dot");
    assert_eq!(got.checked_at, second.checked_at);
    assert_eq!(got.verdict, "fail");
    assert_eq!(got.sts_id, None);
    assert_eq!(got.mode, None);
    assert_eq!(got.mx_hosts, second.mx_hosts);
    assert_eq!((got.errors, got.warnings), (3, 2));
    assert_eq!(got.report_json, second.report_json);
    assert_eq!(got.changes_json, second.changes_json);
    assert_eq!(history[2].sts_id.as_deref(), Some("1"));

    assert_eq!(
        t.store.check_history("a.example", 2).await.unwrap().len(),
        2
    );
    let latest = t.store.latest_check("A.EXAMPLE").await.unwrap().unwrap();
    assert_eq!(latest.id, id3);
    assert!(
        t.store
            .check_history("b.example", 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn latest_checks_has_one_per_domain(backend: Backend) {
    let t = TempStore::new(backend).await;
    for (domain, at, id) in [
        ("b.example", "2026-05-01T10:00:00Z", "b1"),
        ("a.example", "2026-05-01T10:00:00Z", "a1"),
        ("b.example", "2026-05-02T10:00:00Z", "b2"),
        ("a.example", "2026-05-01T09:00:00Z", "a0"),
        // Two checks in the same second: the later row wins.
        ("c.example", "2026-05-01T10:00:00Z", "c1"),
        ("c.example", "2026-05-01T10:00:00Z", "c2"),
    ] {
        t.store.save_check(&check(domain, at, id)).await.unwrap();
    }
    let latest = t.store.latest_checks().await.unwrap();
    let got: Vec<(&str, Option<&str>)> = latest
        .iter()
        .map(|c| (c.domain.as_str(), c.sts_id.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("a.example", Some("a1")),
            ("b.example", Some("b2")),
            ("c.example", Some("c2"))
        ]
    );
    assert_eq!(
        t.store.checked_domains().await.unwrap(),
        ["a.example", "b.example", "c.example"]
    );
    // The latest *stored* check of each domain (what a poller for new checks needs):
    // a.example's last row was stored fourth, though it ran earlier.
    let ids: Vec<(String, i64)> = latest
        .iter()
        .map(|c| c.domain.clone())
        .zip([4, 3, 6])
        .collect();
    assert_eq!(t.store.latest_check_ids().await.unwrap(), ids);
}

async fn known_domains_include_trusted_report_domains_only(backend: Backend) {
    let t = TempStore::new(backend).await;
    let trusted = input(
        &report_json("Reporter", "r-1", "Reported.Example", 3),
        "a.json",
    );
    let mut untrusted = input(
        &report_json("Reporter", "r-2", "anyone.example", 3),
        "b.json",
    );
    if let Candidate::Report { auth, .. } = &mut untrusted.candidate {
        *auth = Auth::Https;
    }
    t.store.write_batch(&[trusted, untrusted]).await.unwrap();
    t.store
        .save_check(&check("checked.example", "2026-05-01T10:00:00Z", "1"))
        .await
        .unwrap();
    assert_eq!(
        t.store.known_domains().await.unwrap(),
        ["checked.example", "reported.example"]
    );
    assert_eq!(
        t.store.checked_domains().await.unwrap(),
        ["checked.example"]
    );
}
