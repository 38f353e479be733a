//! Criteria judged on the latest live check (tlsrpt-check's [`DomainReport`]): its
//! freshness, the records, the policy, and every MX host's STARTTLS and certificate.

use chrono::{DateTime, Duration, Utc};
use tlsrpt_check::{Code, DomainReport, Finding, Mode, Section, Severity};

use crate::assessment::{Criterion, Freshness, LiveCheckSummary, Status};
use crate::criterion::CriterionId;
use crate::thresholds::Thresholds;

/// How the live check's age compares with the threshold.
pub(crate) fn freshness(
    live: Option<&DomainReport>,
    now: DateTime<Utc>,
    thresholds: &Thresholds,
) -> Freshness {
    match live {
        None => Freshness::Missing,
        Some(r) if now - r.checked_at > max_age(thresholds) => Freshness::Stale,
        Some(_) => Freshness::Fresh,
    }
}

fn max_age(thresholds: &Thresholds) -> Duration {
    Duration::hours(i64::from(thresholds.live_check_max_age_hours))
}

/// The summary of the live check for the assessment header.
pub(crate) fn summary(live: Option<&DomainReport>, freshness: Freshness) -> LiveCheckSummary {
    LiveCheckSummary {
        status: freshness,
        checked_at: live.map(|r| r.checked_at),
        mode: live_mode(live).map(|m| m.as_str().to_owned()),
        policy_id: live
            .and_then(|r| r.sts_record.record.as_ref())
            .map(|r| r.id.clone()),
    }
}

/// The mode of the live policy, when one was fetched and is valid.
pub(crate) fn live_mode(live: Option<&DomainReport>) -> Option<Mode> {
    live.and_then(|r| r.policy.as_ref())
        .and_then(|p| p.policy.as_ref())
        .map(|p| p.mode)
}

/// The `max_age` the plan would publish: the threshold, or the current one if longer.
pub(crate) fn publish_max_age(live: Option<&DomainReport>, thresholds: &Thresholds) -> u64 {
    let current = live
        .and_then(|r| r.policy.as_ref())
        .and_then(|p| p.policy.as_ref())
        .map_or(0, |p| p.max_age);
    thresholds.enforce_max_age.max(current)
}

/// The criteria judged on the live check's content, in listing order.
const FROM_CHECK: [CriterionId; 8] = [
    CriterionId::StsRecord,
    CriterionId::PolicyFetch,
    CriterionId::PolicyValid,
    CriterionId::PolicyMode,
    CriterionId::MxCoverage,
    CriterionId::MxTls,
    CriterionId::MxCertExpiry,
    CriterionId::TlsrptRecord,
];

/// `live-check`, then every criterion judged on the live check, in listing order.
pub(crate) fn criteria(
    live: Option<&DomainReport>,
    domain: &str,
    now: DateTime<Utc>,
    thresholds: &Thresholds,
) -> Vec<Criterion> {
    let mut out = vec![live_check(live, domain, now, thresholds)];
    let Some(report) = live else {
        out.extend(FROM_CHECK.into_iter().map(|id| Criterion {
            id,
            status: Status::Warn,
            summary: "Not verified: the domain has no live check.".to_owned(),
            evidence: Vec::new(),
        }));
        return out;
    };
    out.push(sts_record(report));
    out.push(policy_fetch(report));
    out.push(policy_valid(report));
    out.push(policy_mode(report));
    out.push(mx_coverage(report));
    out.push(mx_tls(report));
    out.push(mx_cert_expiry(report, now, thresholds));
    out.push(tlsrpt_record(report));
    out
}

fn live_check(
    live: Option<&DomainReport>,
    domain: &str,
    now: DateTime<Utc>,
    thresholds: &Thresholds,
) -> Criterion {
    let id = CriterionId::LiveCheck;
    let run = format!("Run `tlsrpt check {domain}` to check the live configuration.");
    let Some(report) = live else {
        return Criterion {
            id,
            status: Status::Fail,
            summary: format!(
                "{domain} has never been checked live, so its DNS records, policy and MX \
                 hosts are unverified."
            ),
            evidence: vec![run],
        };
    };
    let at = format!(
        "The last live check ran at {} ({} before this assessment).",
        time(report.checked_at),
        age(now - report.checked_at)
    );
    match freshness(live, now, thresholds) {
        Freshness::Fresh => Criterion {
            id,
            status: Status::Pass,
            summary: at,
            evidence: Vec::new(),
        },
        _ => Criterion {
            id,
            status: Status::Fail,
            summary: format!(
                "The live check is stale: it is older than {} hours, so the live \
                 configuration may have changed since.",
                thresholds.live_check_max_age_hours
            ),
            evidence: vec![at, run],
        },
    }
}

fn sts_record(report: &DomainReport) -> Criterion {
    let pass = match &report.sts_record.record {
        Some(r) => format!(
            "{} holds one valid MTA-STS record with id {}.",
            report.sts_record.name, r.id
        ),
        None => format!("{} holds no valid MTA-STS record.", report.sts_record.name),
    };
    let mut c = judged(
        CriterionId::StsRecord,
        findings(report, |f| f.section == Section::StsRecord),
        pass,
        Vec::new(),
    );
    if report.sts_record.record.is_none() {
        c.status = Status::Fail;
    }
    c
}

const FETCH_CODES: [Code; 7] = [
    Code::PolicyFetchFailed,
    Code::PolicyTlsInvalid,
    Code::PolicyRedirect,
    Code::PolicyHttpStatus,
    Code::PolicyContentType,
    Code::PolicyTooLarge,
    Code::DnsTemporaryFailure,
];

fn policy_fetch(report: &DomainReport) -> Criterion {
    let id = CriterionId::PolicyFetch;
    let Some(fetch) = &report.policy else {
        return not_verified(id, "no valid _mta-sts record points to a policy");
    };
    let size = fetch.body.as_ref().map_or(0, String::len);
    let pass = format!(
        "The policy at {} was fetched: HTTP {}, {}, {size} bytes.",
        fetch.url,
        fetch
            .http_status
            .map_or_else(|| "no status".to_owned(), |s| s.to_string()),
        fetch.content_type.as_deref().unwrap_or("no content type"),
    );
    judged(
        id,
        findings(report, |f| {
            f.section == Section::Policy && FETCH_CODES.contains(&f.code)
        }),
        pass,
        Vec::new(),
    )
}

const VALIDITY_CODES: [Code; 5] = [
    Code::PolicyInvalid,
    Code::PolicyDuplicateField,
    Code::PolicyTrailingBlankLine,
    Code::PolicyMxNotALabel,
    Code::PolicyMaxAgeShort,
];

fn policy_valid(report: &DomainReport) -> Criterion {
    let id = CriterionId::PolicyValid;
    let Some(fetch) = report.policy.as_ref().filter(|f| f.body.is_some()) else {
        return not_verified(id, "no policy was fetched");
    };
    let pass = match &fetch.policy {
        Some(p) => format!(
            "The policy parses: mode {}, max_age {}, {} mx pattern(s).",
            p.mode.as_str(),
            p.max_age,
            p.mx.len()
        ),
        None => "The policy does not parse.".to_owned(),
    };
    let found = findings(report, |f| VALIDITY_CODES.contains(&f.code));
    if fetch.policy.is_none() && found.is_empty() {
        return Criterion {
            id,
            status: Status::Fail,
            summary: pass,
            evidence: Vec::new(),
        };
    }
    judged(id, found, pass, Vec::new())
}

fn policy_mode(report: &DomainReport) -> Criterion {
    let id = CriterionId::PolicyMode;
    let Some(mode) = live_mode(Some(report)) else {
        return not_verified(id, "no valid policy was fetched");
    };
    let (status, summary) = match mode {
        Mode::Testing => (
            Status::Pass,
            "The policy is in mode: testing, the stage before enforce.",
        ),
        Mode::Enforce => (Status::Pass, "The policy is already in mode: enforce."),
        Mode::None => (
            Status::Fail,
            "The policy is in mode: none: the domain is withdrawing MTA-STS.",
        ),
    };
    Criterion {
        id,
        status,
        summary: summary.to_owned(),
        evidence: Vec::new(),
    }
}

fn mx_coverage(report: &DomainReport) -> Criterion {
    let id = CriterionId::MxCoverage;
    if live_mode(Some(report)).is_none() {
        return not_verified(id, "no valid policy was fetched");
    }
    if report.mx.hosts.is_empty() {
        return not_verified(id, "no MX host was found");
    }
    let found = findings(report, |f| {
        matches!(f.code, Code::MxNotInPolicy | Code::PolicyMxUnused)
    });
    let mapping = report
        .mx
        .hosts
        .iter()
        .filter_map(|h| {
            h.policy_match
                .as_ref()
                .map(|p| format!("{} matches mx: {p}", h.name))
        })
        .collect();
    // The checker only warns about an uncovered MX while in testing; for the move to
    // enforce it is a hard stop, since enforcing senders would refuse that host.
    let status = if found.iter().any(|f| f.code == Code::MxNotInPolicy) {
        Status::Fail
    } else if found.is_empty() {
        Status::Pass
    } else {
        Status::Warn
    };
    let mut c = judged(
        id,
        found,
        "Every MX host matches a policy mx pattern, and every pattern is in use.".to_owned(),
        mapping,
    );
    c.status = status;
    c
}

const TLS_EXCLUDED: [Code; 3] = [
    Code::MxNotInPolicy,
    Code::PolicyMxUnused,
    Code::MxCertExpiring,
];

fn mx_tls(report: &DomainReport) -> Criterion {
    let probes = report
        .mx
        .hosts
        .iter()
        .flat_map(|h| h.addresses.iter().map(move |a| (h, a)))
        .filter_map(|(h, a)| {
            let tls = a.tls.as_ref()?;
            let cert = tls.certificate.as_ref().map_or_else(
                || "no certificate".to_owned(),
                |c| format!("certificate valid until {}", time(c.not_after)),
            );
            Some(format!(
                "{} ({}): STARTTLS, {}, {cert}",
                h.name, a.address, tls.version
            ))
        })
        .collect();
    let hosts: Vec<&str> = report.mx.hosts.iter().map(|h| h.name.as_str()).collect();
    judged(
        CriterionId::MxTls,
        findings(report, |f| {
            f.section == Section::Mx && !TLS_EXCLUDED.contains(&f.code)
        }),
        format!(
            "Every MX host ({}) offers STARTTLS with a trusted certificate for its name.",
            hosts.join(", ")
        ),
        probes,
    )
}

fn mx_cert_expiry(report: &DomainReport, now: DateTime<Utc>, thresholds: &Thresholds) -> Criterion {
    let id = CriterionId::MxCertExpiry;
    let max_age = publish_max_age(Some(report), thresholds);
    let deadline = now + Duration::seconds(i64::try_from(max_age).unwrap_or(i64::MAX / 2));
    let margin = deadline + Duration::days(i64::from(thresholds.cert_expiry_margin_days));
    let mut certs: Vec<(DateTime<Utc>, String)> = report
        .mx
        .hosts
        .iter()
        .flat_map(|h| h.addresses.iter().map(move |a| (h, a)))
        .filter_map(|(h, a)| {
            let c = a.tls.as_ref()?.certificate.as_ref()?;
            Some((c.not_after, format!("{} ({})", h.name, a.address)))
        })
        .collect();
    certs.sort();
    certs.dedup();
    let Some((earliest, at)) = certs.first() else {
        return not_verified(id, "no MX certificate was seen");
    };
    let days = max_age / 86_400;
    let expiring = |limit: DateTime<Utc>| -> Vec<String> {
        certs
            .iter()
            .filter(|(t, _)| *t < limit)
            .map(|(t, at)| format!("The certificate of {at} expires at {}.", time(*t)))
            .collect()
    };
    let (status, summary, evidence) = if *earliest < deadline {
        (
            Status::Fail,
            format!(
                "An MX certificate expires within the max_age of {days} days about to be \
                 published: if it is not renewed, enforcing senders refuse mail while they \
                 still hold the policy."
            ),
            expiring(deadline),
        )
    } else if *earliest < margin {
        (
            Status::Warn,
            format!(
                "An MX certificate expires less than {} days after the max_age of {days} days \
                 about to be published; make sure renewal is automatic.",
                thresholds.cert_expiry_margin_days
            ),
            expiring(margin),
        )
    } else {
        (
            Status::Pass,
            format!(
                "Every MX certificate is valid for longer than the max_age of {days} days \
                 about to be published; the first to expire, at {}, is the one of {at}.",
                time(*earliest)
            ),
            Vec::new(),
        )
    };
    Criterion {
        id,
        status,
        summary,
        evidence,
    }
}

fn tlsrpt_record(report: &DomainReport) -> Criterion {
    let id = CriterionId::TlsrptRecord;
    let found = findings(report, |f| f.section == Section::Tlsrpt);
    let Some(record) = &report.tlsrpt.record else {
        let summary = found.first().map_or_else(
            || format!("{} holds no valid TLS-RPT record.", report.tlsrpt.name),
            |f| f.message.clone(),
        );
        return Criterion {
            id,
            status: Status::Fail,
            summary,
            evidence: found.iter().skip(1).map(|f| f.message.clone()).collect(),
        };
    };
    judged(
        id,
        found,
        format!(
            "{} is published; reports go to {}.",
            report.tlsrpt.name,
            record.rua.join(", ")
        ),
        Vec::new(),
    )
}

/// The findings of the report that `keep` selects, info-level ones left out.
fn findings(report: &DomainReport, keep: impl Fn(&Finding) -> bool) -> Vec<&Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Info && keep(f))
        .collect()
}

/// A criterion whose status is the worst severity among `found`: its summary is the first
/// worst finding, and every finding is evidence. Without findings it passes with `pass`.
fn judged(
    id: CriterionId,
    found: Vec<&Finding>,
    pass: String,
    pass_evidence: Vec<String>,
) -> Criterion {
    let Some(worst) = found.iter().map(|f| f.severity).max() else {
        return Criterion {
            id,
            status: Status::Pass,
            summary: pass,
            evidence: pass_evidence,
        };
    };
    let status = if worst == Severity::Error {
        Status::Fail
    } else {
        Status::Warn
    };
    let summary = found
        .iter()
        .find(|f| f.severity == worst)
        .map(|f| f.message.clone())
        .unwrap_or_default();
    Criterion {
        id,
        status,
        summary,
        evidence: found
            .iter()
            .map(|f| format!("{} ({}): {}", f.message, f.code, f.advice))
            .collect(),
    }
}

fn not_verified(id: CriterionId, why: &str) -> Criterion {
    Criterion {
        id,
        status: Status::Warn,
        summary: format!("Not verified: {why}."),
        evidence: Vec::new(),
    }
}

/// A time as written in every export.
pub(crate) fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// An age in hours under two days, else in days.
fn age(d: Duration) -> String {
    let hours = d.num_hours().max(0);
    if hours < 48 {
        format!("{hours} h")
    } else {
        format!("{} days", hours / 24)
    }
}
