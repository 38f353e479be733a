//! The exporter over a real store on both backends: the latest check of each domain wins
//! (and its certificate expiry follows a newer check), open alerts are counted by rule and
//! severity, untrusted reports stay out unless asked for, and the domain cap sums the
//! quiet domains under `_other`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use serde_json::json;
use tlsrpt_metrics::{Exporter, Settings};
use tlsrpt_store::{
    AlertScope, Auth, Candidate, NewAlert, NewCheck, NewInput, Raw, Store, SyncOptions,
};
use tlsrpt_testkit::{Backend, on_both_backends};

async fn open(backend: Backend) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&backend.fresh_database_url(dir.path()))
        .await
        .unwrap();
    (dir, store)
}

/// A one-policy report on `domain` starting at `start`, with failures.
fn report(
    id: &str,
    domain: &str,
    start: DateTime<Utc>,
    ok: i64,
    failures: &[(&str, i64)],
    auth: Auth,
) -> NewInput {
    let failed: i64 = failures.iter().map(|(_, n)| n).sum();
    let details: Vec<_> = failures
        .iter()
        .map(|(result_type, n)| {
            json!({"result-type": result_type, "receiving-mx-hostname": format!("mx.{domain}"),
                   "failed-session-count": n})
        })
        .collect();
    let json = json!({
        "organization-name": "Reporter",
        "date-range": {"start-datetime": start.to_rfc3339(),
                       "end-datetime": (start + Duration::seconds(86_399)).to_rfc3339()},
        "contact-info": "tlsrpt@reporter.example",
        "report-id": id,
        "policies": [{
            "policy": {"policy-type": "sts", "policy-domain": domain,
                       "policy-string": ["version: STSv1", "mode: testing"],
                       "mx-host": [format!("mx.{domain}")]},
            "summary": {"total-successful-session-count": ok,
                        "total-failure-session-count": failed},
            "failure-details": details,
        }],
    });
    let bytes = serde_json::to_vec(&json).unwrap();
    let report = tlsrpt_report::parse(&bytes, &tlsrpt_report::Limits::default()).unwrap();
    NewInput {
        source: "file",
        locator: format!("{id}.json"),
        part: None,
        message_id: None,
        received_at: start.timestamp(),
        candidate: Candidate::Report {
            report: Box::new(report),
            raw_json: Raw::compress(&bytes, bytes.len() as u64),
            auth,
        },
    }
}

fn check(domain: &str, at: DateTime<Utc>, verdict: &str, not_after: DateTime<Utc>) -> NewCheck {
    let json = json!({"mx": {"hosts": [{"addresses": [{"tls": {"certificate": {
        "not_after": not_after.to_rfc3339()}}}]}]}});
    NewCheck {
        domain: domain.to_owned(),
        checked_at: at,
        verdict: verdict.to_owned(),
        sts_id: None,
        mode: Some("testing".to_owned()),
        mx_hosts: vec![format!("mx.{domain}")],
        errors: i64::from(verdict == "fail"),
        warnings: 2,
        report_json: json.to_string(),
        changes_json: "[]".to_owned(),
    }
}

fn alert(domain: &str, rule: &str, subject: &str, severity: &str) -> NewAlert {
    NewAlert {
        domain: domain.to_owned(),
        rule: rule.to_owned(),
        subject: subject.to_owned(),
        severity: severity.to_owned(),
        title: format!("{rule} on {domain}"),
        evidence: json!({}),
    }
}

fn value(scrape: &str, series: &str) -> Option<f64> {
    scrape.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?.strip_prefix(' ')?;
        Some(rest.parse().unwrap())
    })
}

async fn the_exporter_reads_checks_alerts_and_caps_domains(backend: Backend) {
    let (_dir, store) = open(backend).await;
    let now = Utc.with_ymd_and_hms(2026, 6, 10, 12, 0, 0).unwrap();
    let today = Utc.with_ymd_and_hms(2026, 6, 10, 0, 0, 0).unwrap();
    let yesterday = today - Duration::days(1);
    let last_week = today - Duration::days(7);
    store
        .write_batch(&[
            report(
                "a1",
                "a.example",
                yesterday,
                90,
                &[("certificate-expired", 4)],
                Auth::Operator,
            ),
            report(
                "a2",
                "a.example",
                today,
                10,
                &[("certificate-expired", 1), ("", 3)],
                Auth::Operator,
            ),
            // Outside the window: counted in the report times, not in the sessions.
            report(
                "a0",
                "a.example",
                last_week,
                500,
                &[("starttls-not-supported", 9)],
                Auth::Operator,
            ),
            report("b1", "b.example", today, 20, &[], Auth::Operator),
            report(
                "c1",
                "c.example",
                today,
                5,
                &[("validation-failure", 2)],
                Auth::Operator,
            ),
            // Untrusted: left out unless untrusted reports count.
            report("u1", "untrusted.example", today, 1000, &[], Auth::DkimNone),
        ])
        .await
        .unwrap();
    let expiry_old = now + Duration::days(3);
    let expiry_new = now + Duration::days(40);
    store
        .save_check(&check(
            "a.example",
            now - Duration::hours(6),
            "fail",
            expiry_old,
        ))
        .await
        .unwrap();
    store
        .save_check(&check(
            "a.example",
            now - Duration::hours(1),
            "warn",
            expiry_old,
        ))
        .await
        .unwrap();
    store
        .save_check(&check("checked-only.example", now, "pass", expiry_new))
        .await
        .unwrap();
    let scope = AlertScope {
        domains: vec!["a.example".into(), "b.example".into()],
        rules: vec!["cert-expiring".into(), "new-result-type".into()],
    };
    let options = SyncOptions {
        channels: vec![],
        quiet_reopen: Duration::hours(1),
        now,
    };
    store
        .sync_alerts(
            &scope,
            &[
                alert("a.example", "cert-expiring", "mx.a.example", "warning"),
                alert("b.example", "cert-expiring", "mx.b.example", "warning"),
                alert(
                    "a.example",
                    "new-result-type",
                    "certificate-expired",
                    "critical",
                ),
            ],
            &options,
        )
        .await
        .unwrap();

    let exporter = Exporter::new(
        store.clone(),
        Settings {
            max_domains: 2,
            trusted_only: true,
        },
    );
    let text = exporter.render(now).await.unwrap();
    let at = |series: &str| value(&text, series);

    // a.example (100 sessions + 8 failed) and b.example (20) keep their labels;
    // checked-only.example (0) and c.example (5 + 2) are summed as _other.
    assert_eq!(at("tlsrpt_domains"), Some(4.0), "{text}");
    assert_eq!(at("tlsrpt_domains_unlabelled"), Some(2.0));
    assert_eq!(
        at(r#"tlsrpt_reported_sessions{domain="a.example",result="successful"}"#),
        Some(100.0)
    );
    assert_eq!(
        at(r#"tlsrpt_reported_sessions{domain="a.example",result="failed"}"#),
        Some(8.0)
    );
    assert_eq!(
        at(r#"tlsrpt_reported_sessions{domain="_other",result="successful"}"#),
        Some(5.0)
    );
    assert_eq!(
        at(r#"tlsrpt_reported_sessions{domain="_other",result="failed"}"#),
        Some(2.0)
    );
    assert_eq!(
        at(
            r#"tlsrpt_reported_failed_sessions{domain="a.example",result_type="certificate-expired"}"#
        ),
        Some(5.0)
    );
    assert_eq!(
        at(r#"tlsrpt_reported_failed_sessions{domain="a.example",result_type="other"}"#),
        Some(3.0)
    );
    assert_eq!(
        at(r#"tlsrpt_reported_failed_sessions{domain="_other",result_type="validation-failure"}"#),
        Some(2.0)
    );
    assert!(!text.contains("starttls-not-supported"), "{text}");
    assert!(!text.contains("untrusted.example"), "{text}");
    assert!(
        !text.contains("c.example") && !text.contains("checked-only"),
        "{text}"
    );
    assert_eq!(
        at(r#"tlsrpt_domain_last_report_start_timestamp_seconds{domain="a.example"}"#),
        Some(today.timestamp() as f64)
    );

    // The latest check of a.example: warn, not the earlier fail.
    assert_eq!(
        at(r#"tlsrpt_check_verdict{domain="a.example",verdict="warn"}"#),
        Some(1.0)
    );
    assert_eq!(
        at(r#"tlsrpt_check_verdict{domain="a.example",verdict="fail"}"#),
        Some(0.0)
    );
    assert_eq!(at(r#"tlsrpt_check_errors{domain="a.example"}"#), Some(0.0));
    assert_eq!(
        at(r#"tlsrpt_check_warnings{domain="a.example"}"#),
        Some(2.0)
    );
    assert_eq!(
        at(r#"tlsrpt_check_timestamp_seconds{domain="a.example"}"#),
        Some((now - Duration::hours(1)).timestamp() as f64)
    );
    let expiry = r#"tlsrpt_check_certificate_expiry_timestamp_seconds{domain="a.example"}"#;
    assert_eq!(at(expiry), Some(expiry_old.timestamp() as f64));

    // Open alerts by rule and severity.
    assert_eq!(
        at(r#"tlsrpt_alerts_open{rule="cert-expiring",severity="warning"}"#),
        Some(2.0)
    );
    assert_eq!(
        at(r#"tlsrpt_alerts_open{rule="new-result-type",severity="critical"}"#),
        Some(1.0)
    );

    // A newer check with a renewed certificate replaces the cached expiry.
    store
        .save_check(&check("a.example", now, "pass", expiry_new))
        .await
        .unwrap();
    let text = exporter.render(now).await.unwrap();
    assert_eq!(
        value(&text, expiry),
        Some(expiry_new.timestamp() as f64),
        "{text}"
    );

    // Counting untrusted reports too, untrusted.example is the busiest domain.
    let all = Exporter::new(
        store,
        Settings {
            max_domains: 1,
            trusted_only: false,
        },
    );
    let text = all.render(now).await.unwrap();
    assert_eq!(
        value(
            &text,
            r#"tlsrpt_reported_sessions{domain="untrusted.example",result="successful"}"#
        ),
        Some(1000.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            r#"tlsrpt_reported_sessions{domain="_other",result="successful"}"#
        ),
        Some(125.0)
    );
}

on_both_backends!(async: the_exporter_reads_checks_alerts_and_caps_domains);
