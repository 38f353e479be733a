//! The check rules: pure functions from a domain's latest live check (and, for a vanished
//! `_mta-sts` record, the last check that still had one) to the conditions that hold.
//! Certificate countdowns are counted to the evaluation's time, not the check's.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use tlsrpt_check::{CertificateReport, Change, ChangeKind, DomainReport, Mode};
use tlsrpt_store::NewAlert;

use crate::config::RulesConfig;
use crate::reports::new_alert;
use crate::rule::Rule;

/// A domain's latest live check.
#[derive(Debug, Clone)]
pub struct CheckEvidence {
    /// The evaluation's time.
    pub now: DateTime<Utc>,
    /// The check.
    pub report: DomainReport,
    /// Its changes since the check before.
    pub changes: Vec<Change>,
    /// When the latest check shows no `_mta-sts` record: the last check that had one.
    pub last_record: Option<LastRecord>,
}

/// What the check history says senders may have cached: the last check that found a
/// valid `_mta-sts` record, and the last policy fetched successfully.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastRecord {
    /// When the record was last seen.
    pub checked_at: DateTime<Utc>,
    /// The record's id then.
    pub id: String,
    /// The last policy fetched: when, its mode and max_age.
    pub policy: Option<CachedPolicy>,
}

/// A policy as last fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachedPolicy {
    pub fetched_at: DateTime<Utc>,
    pub mode: Mode,
    pub max_age: u64,
}

impl LastRecord {
    /// From a domain's checks, newest first.
    pub fn from_history(reports: &[DomainReport]) -> Option<LastRecord> {
        let (seen, record) = reports
            .iter()
            .find_map(|r| Some((r, r.sts_record.record.as_ref()?)))?;
        let policy = reports.iter().find_map(|r| {
            let policy = r.policy.as_ref()?.policy.as_ref()?;
            Some(CachedPolicy {
                fetched_at: r.checked_at,
                mode: policy.mode,
                max_age: policy.max_age,
            })
        });
        Some(LastRecord {
            checked_at: seen.checked_at,
            id: record.id.clone(),
            policy,
        })
    }
}

fn domain(e: &CheckEvidence) -> &str {
    &e.report.domain
}

/// policy-fetch-failing: the `_mta-sts` record is valid but its policy cannot be fetched
/// or parsed.
pub fn policy_fetch_failing(e: &CheckEvidence, _: &RulesConfig) -> Vec<NewAlert> {
    if e.report.sts_record.record.is_none() {
        return Vec::new();
    }
    let Some(fetch) = e.report.policy.as_ref().filter(|f| f.policy.is_none()) else {
        return Vec::new();
    };
    let reason = fetch.error.clone().unwrap_or_else(|| {
        e.report
            .findings
            .iter()
            .find(|f| {
                f.section == tlsrpt_check::Section::Policy
                    && f.severity == tlsrpt_check::Severity::Error
            })
            .map_or_else(
                || "the policy is not valid".to_owned(),
                |f| f.message.clone(),
            )
    });
    let broke_at = e
        .changes
        .iter()
        .any(|c| c.kind == ChangeKind::PolicyFetchBroke)
        .then_some(e.report.checked_at);
    vec![new_alert(
        domain(e),
        Rule::PolicyFetchFailing,
        "",
        "critical",
        format!(
            "{}: the MTA-STS policy cannot be fetched from {}: {reason}",
            domain(e),
            fetch.url
        ),
        json!({
            "url": fetch.url,
            "http_status": fetch.http_status,
            "error": reason,
            "checked_at": e.report.checked_at,
            "broke_at": broke_at,
        }),
    )]
}

/// mx-drift: an MX host that no mx pattern of the (valid) policy covers. Critical under
/// `mode: enforce`, where senders refuse to deliver to it.
pub fn mx_drift(e: &CheckEvidence, _: &RulesConfig) -> Vec<NewAlert> {
    let Some(policy) = e.report.policy.as_ref().and_then(|p| p.policy.as_ref()) else {
        return Vec::new();
    };
    if e.report.mx.dns_error.is_some() || e.report.mx.null_mx {
        return Vec::new();
    }
    let patterns: Vec<&str> = policy.mx.iter().map(|p| p.text.as_str()).collect();
    let mx_hosts: Vec<&str> = e.report.mx.hosts.iter().map(|h| h.name.as_str()).collect();
    let severity = if policy.mode == Mode::Enforce {
        "critical"
    } else {
        "warning"
    };
    e.report
        .mx
        .hosts
        .iter()
        .filter(|h| h.policy_match.is_none())
        .map(|host| {
            new_alert(
                domain(e),
                Rule::MxDrift,
                &host.name,
                severity,
                format!(
                    "{}: MX {} is not covered by the policy's mx patterns ({}, mode {})",
                    domain(e),
                    host.name,
                    patterns.join(", "),
                    policy.mode.as_str()
                ),
                json!({
                    "mx_host": host.name,
                    "mx_hosts": mx_hosts,
                    "policy_mx": patterns,
                    "mode": policy.mode.as_str(),
                    "checked_at": e.report.checked_at,
                }),
            )
        })
        .collect()
}

/// cert-expiring: a certificate of an MX host or of the policy host expiring within
/// `cert_warning_days` of now (critical within `cert_critical_days`, or expired).
pub fn cert_expiring(e: &CheckEvidence, s: &RulesConfig) -> Vec<NewAlert> {
    let mut certs: Vec<(String, &CertificateReport, &'static str)> = Vec::new();
    for host in &e.report.mx.hosts {
        for probe in &host.addresses {
            if let Some(cert) = probe.tls.as_ref().and_then(|t| t.certificate.as_ref()) {
                certs.push((host.name.clone(), cert, "mx"));
            }
        }
    }
    if let Some(fetch) = &e.report.policy
        && let Some(cert) = fetch.tls.as_ref().and_then(|t| t.certificate.as_ref())
    {
        certs.push((format!("mta-sts.{}", e.report.domain), cert, "policy-host"));
    }
    // The soonest-expiring certificate of each host.
    let mut soonest: BTreeMap<String, (&CertificateReport, &'static str)> = BTreeMap::new();
    for (host, cert, role) in certs {
        let entry = soonest.entry(host).or_insert((cert, role));
        if cert.not_after < entry.0.not_after {
            *entry = (cert, role);
        }
    }
    let warning = Duration::days(s.cert_warning_days);
    let critical = Duration::days(s.cert_critical_days);
    soonest
        .into_iter()
        .filter(|(_, (cert, _))| cert.not_after - e.now <= warning)
        .map(|(host, (cert, role))| {
            let left = cert.not_after - e.now;
            let expired = left <= Duration::zero();
            let severity = if expired || left <= critical {
                "critical"
            } else {
                "warning"
            };
            let date = cert.not_after.format("%Y-%m-%d %H:%M UTC");
            let when = if expired {
                format!("has expired ({date})")
            } else if left.num_days() == 0 {
                format!("expires within a day ({date})")
            } else if left.num_days() == 1 {
                format!("expires in 1 day ({date})")
            } else {
                format!("expires in {} days ({date})", left.num_days())
            };
            new_alert(
                domain(e),
                Rule::CertExpiring,
                &host,
                severity,
                format!("{}: the certificate of {host} {when}", domain(e)),
                json!({
                    "host": host,
                    "role": role,
                    "not_after": cert.not_after,
                    "days_left": left.num_days(),
                    "expired": expired,
                    "subject": cert.subject,
                    "issuer": cert.issuer,
                    "serial": cert.serial,
                    "checked_at": e.report.checked_at,
                }),
            )
        })
        .collect()
}

/// policy-changed: the latest check shows the `_mta-sts` id rotated or the policy mode
/// changed (an event: it holds until the next check). A warning when the mode leaves
/// enforce, info otherwise.
pub fn policy_changed(e: &CheckEvidence, _: &RulesConfig) -> Vec<NewAlert> {
    let changes: Vec<&Change> = e
        .changes
        .iter()
        .filter(|c| matches!(c.kind, ChangeKind::StsIdRotated | ChangeKind::ModeChanged))
        .collect();
    if changes.is_empty() {
        return Vec::new();
    }
    let value = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".to_owned());
    let parts: Vec<String> = changes
        .iter()
        .map(|c| {
            let what = if c.kind == ChangeKind::ModeChanged {
                "the mode"
            } else {
                "the policy id"
            };
            format!(
                "{what} changed from {} to {}",
                value(&c.before),
                value(&c.after)
            )
        })
        .collect();
    let leaves_enforce = changes.iter().any(|c| {
        c.kind == ChangeKind::ModeChanged
            && c.before.as_deref() == Some("enforce")
            && c.after.as_deref() != Some("enforce")
    });
    vec![new_alert(
        domain(e),
        Rule::PolicyChanged,
        "",
        if leaves_enforce { "warning" } else { "info" },
        format!("{}: {}", domain(e), parts.join("; ")),
        json!({
            "changes": changes.iter().map(|c| json!({
                "kind": c.kind.as_str(), "before": c.before, "after": c.after,
            })).collect::<Vec<_>>(),
            "checked_at": e.report.checked_at,
        }),
    )]
}

/// sts-record-gone: the `_mta-sts` lookup answered without a valid record, while senders
/// may still hold the policy last fetched (until its max_age after that fetch). Without a
/// policy ever fetched, nothing is known to be cached.
pub fn sts_record_gone(e: &CheckEvidence, _: &RulesConfig) -> Vec<NewAlert> {
    let sts = &e.report.sts_record;
    if sts.record.is_some() || sts.dns_error.is_some() || sts.name.is_empty() {
        return Vec::new();
    }
    let Some(last) = &e.last_record else {
        return Vec::new();
    };
    let Some(policy) = last.policy else {
        return Vec::new();
    };
    let (mode, max_age) = (policy.mode, policy.max_age);
    let until =
        policy.fetched_at + Duration::seconds(i64::try_from(max_age).unwrap_or(i64::MAX / 2));
    if until <= e.now {
        return Vec::new();
    }
    vec![new_alert(
        domain(e),
        Rule::StsRecordGone,
        "",
        if mode == Mode::Enforce {
            "critical"
        } else {
            "warning"
        },
        format!(
            "{}: the _mta-sts record is gone, but senders may keep the cached policy (id {}, mode {}, max_age {max_age} s) until {}",
            domain(e),
            last.id,
            mode.as_str(),
            until.format("%Y-%m-%d %H:%M UTC")
        ),
        json!({
            "record_name": sts.name,
            "last_id": last.id,
            "last_seen_at": last.checked_at,
            "policy_fetched_at": policy.fetched_at,
            "max_age": max_age,
            "mode": mode.as_str(),
            "cached_until": until,
            "checked_at": e.report.checked_at,
        }),
    )]
}
