//! The JSON form is a stable interface: its keys, and a reviewed snapshot of a whole
//! assessment (tests/snapshots/). Set `UPDATE_SNAPSHOTS=1` to rewrite the snapshot after
//! an intended change, then review the diff.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use tlsrpt_readiness::CriterionId;

use crate::support::*;

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn set<'a>(items: &[&'a str]) -> BTreeSet<&'a str> {
    items.iter().copied().collect()
}

#[test]
fn the_json_keys_are_stable() {
    let mut e = clean();
    fail(
        &mut e,
        ago(3),
        GOOGLE,
        "certificate-expired",
        Some("mx1.example.com"),
        7,
    );
    let v = serde_json::to_value(run(&e)).unwrap();
    assert_eq!(
        keys(&v),
        set(&[
            "domain",
            "generated_at",
            "verdict",
            "headline",
            "window",
            "live_check",
            "criteria",
            "projection",
            "policy_comparison",
            "plan",
            "ready_estimate",
            "thresholds",
        ])
    );
    assert_eq!(
        keys(&v["window"]),
        set(&["since", "until", "days", "widened"])
    );
    assert_eq!(
        keys(&v["live_check"]),
        set(&["status", "checked_at", "mode", "policy_id"])
    );
    for c in v["criteria"].as_array().unwrap() {
        assert_eq!(keys(c), set(&["id", "status", "summary", "evidence"]));
    }
    assert_eq!(
        keys(&v["projection"]),
        set(&[
            "total_sessions",
            "failed_sessions",
            "would_refuse_sessions",
            "would_refuse_share",
            "unprotected_sessions",
            "unprotected_share",
            "other_failed_sessions",
            "by_reporter",
            "by_mx",
            "by_sending_ip",
            "by_day",
        ])
    );
    assert_eq!(
        keys(&v["projection"]["by_mx"][0]),
        set(&[
            "key",
            "sessions",
            "share",
            "would_refuse_sessions",
            "unprotected_sessions"
        ])
    );
    for s in v["plan"].as_array().unwrap() {
        assert_eq!(keys(s), set(&["order", "title", "detail", "text"]));
    }
    assert_eq!(v["verdict"], "ready");
    assert_eq!(v["window"]["since"], "2026-11-09");
    assert_eq!(v["live_check"]["status"], "fresh");
    assert_eq!(v["projection"]["would_refuse_sessions"], 7);
}

#[test]
fn criterion_ids_and_enum_values_are_kebab_case() {
    let v = serde_json::to_value(run(&clean())).unwrap();
    let ids: Vec<&str> = v["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = CriterionId::ALL.iter().map(|id| id.as_str()).collect();
    assert_eq!(ids, expected);
    assert_eq!(
        ids,
        [
            "live-check",
            "sts-record",
            "policy-fetch",
            "policy-valid",
            "policy-mode",
            "mx-coverage",
            "mx-tls",
            "mx-cert-expiry",
            "tlsrpt-record",
            "report-days",
            "report-organisations",
            "report-sessions",
            "report-trust",
            "tls-failure-rate",
            "tls-failures-recent",
            "policy-match",
            "policy-fetch-failures",
        ]
    );
    for id in CriterionId::ALL {
        assert_eq!(CriterionId::from_name(id.as_str()), Some(id));
    }
    let mut e = clean();
    e.reporter_days.clear();
    let v = serde_json::to_value(run(&e)).unwrap();
    assert_eq!(v["verdict"], "insufficient-data");
    e.live_check = None;
    let v = serde_json::to_value(run(&e)).unwrap();
    assert_eq!(v["live_check"]["status"], "missing");
}

#[test]
fn snapshot_of_a_not_ready_domain() {
    let mut e = clean();
    fail(
        &mut e,
        ago(1),
        GOOGLE,
        "certificate-not-trusted",
        Some("mx2.example.com"),
        40,
    )
    .failure_reason_code = Some("unable to get local issuer certificate".to_owned());
    fail(&mut e, ago(9), MICROSOFT, "sts-policy-fetch-error", None, 3);
    let actual = serde_json::to_string_pretty(&run(&e)).unwrap() + "\n";
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/not-ready.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        actual, expected,
        "the JSON changed: review it, then UPDATE_SNAPSHOTS=1"
    );
}
