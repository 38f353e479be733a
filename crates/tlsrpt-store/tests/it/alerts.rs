//! Alerts: one episode per condition, opened and resolved by evaluations in scope, quietly
//! reopened when flapping, notified once per event and channel, and an outbox that
//! several senders can share.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use tlsrpt_store::{AlertQuery, AlertScope, NewAlert, SyncOptions};

use crate::support::{Backend, TempStore, on_both_backends};

on_both_backends!(
    async: a_lasting_condition_is_one_alert_notified_once,
    evaluations_resolve_only_their_scope,
    a_flapping_condition_reopens_quietly,
    acknowledge_and_snooze,
    the_outbox_retries_and_gives_up,
);

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn alert(domain: &str, rule: &str, subject: &str, figure: i64) -> NewAlert {
    NewAlert {
        domain: domain.to_owned(),
        rule: rule.to_owned(),
        subject: subject.to_owned(),
        severity: "warning".to_owned(),
        title: format!("{rule} on {domain} {subject}"),
        evidence: json!({ "figure": figure }),
    }
}

fn scope(domains: &[&str], rules: &[&str]) -> AlertScope {
    AlertScope {
        domains: domains.iter().map(|d| d.to_string()).collect(),
        rules: rules.iter().map(|r| r.to_string()).collect(),
    }
}

fn options(now: &str) -> SyncOptions {
    SyncOptions {
        channels: vec!["webhook:ops".to_owned(), "email".to_owned()],
        quiet_reopen: Duration::hours(6),
        now: at(now),
    }
}

async fn a_lasting_condition_is_one_alert_notified_once(backend: Backend) {
    let t = TempStore::new(backend).await;
    let s = scope(&["a.example"], &["mx-drift"]);
    let first = t
        .store
        .sync_alerts(
            &s,
            &[alert("A.example.", "mx-drift", "mx3.a.example", 1)],
            &options("2026-05-01T10:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(first.opened.len(), 1);
    let id = first.opened[0];
    for hour in 11..15 {
        let again = t
            .store
            .sync_alerts(
                &s,
                &[alert("a.example", "mx-drift", "mx3.a.example", hour)],
                &options(&format!("2026-05-01T{hour}:00:00Z")),
            )
            .await
            .unwrap();
        assert_eq!(
            (again.opened.len(), again.ongoing.as_slice()),
            (0, &[id][..])
        );
    }
    let stored = t.store.alert(id).await.unwrap().unwrap();
    assert_eq!(stored.domain, "a.example");
    assert_eq!(
        stored.evidence,
        json!({ "figure": 14 }),
        "latest evidence kept"
    );
    assert_eq!(stored.opened_at, at("2026-05-01T10:00:00Z"));
    assert_eq!(stored.last_seen_at, at("2026-05-01T14:00:00Z"));
    assert!(stored.is_open());
    let deliveries = t.store.deliveries(id).await.unwrap();
    let sent: Vec<(&str, &str)> = deliveries
        .iter()
        .map(|d| (d.event.as_str(), d.channel.as_str()))
        .collect();
    assert_eq!(sent, [("opened", "webhook:ops"), ("opened", "email")]);
    let counts = t.store.alert_counts().await.unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!((counts[0].rule.as_str(), counts[0].open), ("mx-drift", 1));
}

async fn evaluations_resolve_only_their_scope(backend: Backend) {
    let t = TempStore::new(backend).await;
    let all = scope(
        &["a.example", "b.example"],
        &["mx-drift", "new-result-type"],
    );
    let opened = t
        .store
        .sync_alerts(
            &all,
            &[
                alert("a.example", "mx-drift", "", 1),
                alert("a.example", "new-result-type", "starttls-not-supported", 1),
                alert("b.example", "mx-drift", "", 1),
            ],
            &options("2026-05-01T10:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(opened.opened.len(), 3);
    // A check of a.example: only its check rules are in scope.
    let after_check = t
        .store
        .sync_alerts(
            &scope(&["a.example"], &["mx-drift"]),
            &[],
            &options("2026-05-01T11:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(after_check.resolved, [opened.opened[0]]);
    let open = t
        .store
        .alerts(&AlertQuery {
            open_only: true,
            ..AlertQuery::default()
        })
        .await
        .unwrap();
    let mut left: Vec<(&str, &str)> = open
        .iter()
        .map(|a| (a.domain.as_str(), a.rule.as_str()))
        .collect();
    left.sort();
    assert_eq!(
        left,
        [("a.example", "new-result-type"), ("b.example", "mx-drift")]
    );
    let resolved = t.store.alert(opened.opened[0]).await.unwrap().unwrap();
    assert_eq!(resolved.resolved_at, Some(at("2026-05-01T11:00:00Z")));
    let events: Vec<String> = t
        .store
        .deliveries(resolved.id)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.event)
        .collect();
    assert_eq!(events, ["opened", "opened", "resolved", "resolved"]);
    let only_a = t
        .store
        .alerts(&AlertQuery {
            domain: Some("A.EXAMPLE".to_owned()),
            ..AlertQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(only_a.len(), 2);
}

async fn a_flapping_condition_reopens_quietly(backend: Backend) {
    let t = TempStore::new(backend).await;
    let s = scope(&["a.example"], &["policy-fetch-failing"]);
    let firing = [alert("a.example", "policy-fetch-failing", "", 1)];
    let id = t
        .store
        .sync_alerts(&s, &firing, &options("2026-05-01T10:00:00Z"))
        .await
        .unwrap()
        .opened[0];
    let gone = t
        .store
        .sync_alerts(&s, &[], &options("2026-05-01T11:00:00Z"))
        .await
        .unwrap();
    assert_eq!(gone.resolved, [id]);
    // Back within the quiet window: the same episode, no new notification.
    let back = t
        .store
        .sync_alerts(&s, &firing, &options("2026-05-01T12:00:00Z"))
        .await
        .unwrap();
    assert_eq!(back.reopened, [id]);
    assert!(back.opened.is_empty());
    // Gone and back again: the resolution was already announced once.
    t.store
        .sync_alerts(&s, &[], &options("2026-05-01T13:00:00Z"))
        .await
        .unwrap();
    assert_eq!(t.store.deliveries(id).await.unwrap().len(), 4);
    // Back after the quiet window: a new episode, notified.
    let later = t
        .store
        .sync_alerts(&s, &firing, &options("2026-05-02T13:00:00Z"))
        .await
        .unwrap();
    assert_eq!(later.opened.len(), 1);
    assert_ne!(later.opened[0], id);
}

async fn acknowledge_and_snooze(backend: Backend) {
    let t = TempStore::new(backend).await;
    let s = scope(&["a.example"], &["cert-expiring"]);
    let id = t
        .store
        .sync_alerts(
            &s,
            &[alert("a.example", "cert-expiring", "mx1.a.example", 5)],
            &options("2026-05-01T10:00:00Z"),
        )
        .await
        .unwrap()
        .opened[0];
    assert!(
        t.store
            .acknowledge_alert(id, "ops@a.example", at("2026-05-01T10:30:00Z"))
            .await
            .unwrap()
    );
    assert!(
        !t.store
            .acknowledge_alert(id + 1000, "x", Utc::now())
            .await
            .unwrap()
    );
    assert!(
        t.store
            .snooze_alert(id, Some(at("2026-05-08T00:00:00Z")))
            .await
            .unwrap()
    );
    let a = t.store.alert(id).await.unwrap().unwrap();
    assert_eq!(a.acked_at, Some(at("2026-05-01T10:30:00Z")));
    assert_eq!(a.acked_by.as_deref(), Some("ops@a.example"));
    assert!(a.is_snoozed(at("2026-05-07T00:00:00Z")));
    assert!(!a.is_snoozed(at("2026-05-08T00:00:01Z")));
    // Resolved while snoozed: recorded, not announced.
    let resolved = t
        .store
        .sync_alerts(&s, &[], &options("2026-05-02T10:00:00Z"))
        .await
        .unwrap();
    assert_eq!(resolved.resolved, [id]);
    let events: Vec<String> = t
        .store
        .deliveries(id)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.event)
        .collect();
    assert_eq!(events, ["opened", "opened"]);
}

async fn the_outbox_retries_and_gives_up(backend: Backend) {
    let t = TempStore::new(backend).await;
    let now = at("2026-05-01T10:00:00Z");
    let id = t
        .store
        .sync_alerts(
            &scope(&["a.example"], &["mx-drift"]),
            &[alert("a.example", "mx-drift", "", 1)],
            &options("2026-05-01T10:00:00Z"),
        )
        .await
        .unwrap()
        .opened[0];
    let lease = Duration::minutes(5);
    let claimed = t.store.claim_deliveries(now, lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 2);
    assert!(claimed.iter().all(|d| d.attempts == 1 && d.alert.id == id));
    // Claimed: not due again within the lease, for this or another sender.
    assert!(
        t.store
            .claim_deliveries(now, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let (webhook, email) = (&claimed[0], &claimed[1]);
    t.store.delivery_succeeded(webhook.id, now).await.unwrap();
    let retry = now + Duration::minutes(1);
    t.store
        .delivery_failed(email.id, "connection refused", Some(retry), now)
        .await
        .unwrap();
    let again = t.store.claim_deliveries(retry, lease, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].id, again[0].attempts), (email.id, 2));
    t.store
        .delivery_failed(email.id, "550 rejected", None, retry)
        .await
        .unwrap();
    // A sender that died mid-attempt: its claim expires and the notification is due again.
    assert!(
        t.store
            .claim_deliveries(retry + Duration::hours(1), lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let status = t.store.deliveries(id).await.unwrap();
    assert_eq!(status[0].delivered_at, Some(now));
    assert_eq!(status[1].failed_at, Some(retry));
    assert_eq!(status[1].last_error.as_deref(), Some("550 rejected"));
    assert_eq!(status[1].attempts, 2);
}
