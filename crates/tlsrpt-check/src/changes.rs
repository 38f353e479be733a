//! What changed between two checks of the same domain: the policy id rotated, the mode or
//! max_age changed, the MX set or policy patterns drifted, a certificate was renewed or
//! entered its expiry window, a record appeared or disappeared.
//!
//! Pure: [`detect_changes`] compares two [`DomainReport`]s and does no I/O. A DNS lookup that
//! failed temporarily in either check says nothing about its record, so it never produces a
//! change.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::checker::EXPIRY_WARNING_DAYS;
use crate::finding::Severity;
use crate::policy::{Mode, Policy};
use crate::report::{CertificateReport, DomainReport, MxHostReport, Verdict};

/// The stable kinds of change. Their kebab-case names never change meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// The verdict (pass, warn, fail) changed.
    VerdictChanged,
    /// A valid `v=STSv1` record now exists where there was none.
    StsRecordAppeared,
    /// The valid `v=STSv1` record is gone.
    StsRecordDisappeared,
    /// The `id` of the `_mta-sts` record changed.
    StsIdRotated,
    /// The policy could be fetched and parsed before, and cannot now.
    PolicyFetchBroke,
    /// The policy can be fetched and parsed again.
    PolicyFetchRecovered,
    /// The policy text changed but the `id` did not: senders keep their cached copy.
    PolicyChangedIdUnchanged,
    /// The policy mode changed.
    ModeChanged,
    /// The policy `max_age` changed.
    MaxAgeChanged,
    /// mx patterns were added to or removed from the policy.
    PolicyMxChanged,
    /// An MX host was added.
    MxAdded,
    /// An MX host was removed.
    MxRemoved,
    /// An MX host stopped (or started) matching the policy, or a pattern stopped matching
    /// any MX host.
    MxDrift,
    /// An MX host presents a different certificate.
    CertRenewed,
    /// An MX certificate entered the expiry window (or expired).
    CertExpiring,
    /// The `_smtp._tls` TLS-RPT record changed, appeared or disappeared.
    TlsrptRecordChanged,
}

impl ChangeKind {
    /// The stable kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerdictChanged => "verdict-changed",
            Self::StsRecordAppeared => "sts-record-appeared",
            Self::StsRecordDisappeared => "sts-record-disappeared",
            Self::StsIdRotated => "sts-id-rotated",
            Self::PolicyFetchBroke => "policy-fetch-broke",
            Self::PolicyFetchRecovered => "policy-fetch-recovered",
            Self::PolicyChangedIdUnchanged => "policy-changed-id-unchanged",
            Self::ModeChanged => "mode-changed",
            Self::MaxAgeChanged => "max-age-changed",
            Self::PolicyMxChanged => "policy-mx-changed",
            Self::MxAdded => "mx-added",
            Self::MxRemoved => "mx-removed",
            Self::MxDrift => "mx-drift",
            Self::CertRenewed => "cert-renewed",
            Self::CertExpiring => "cert-expiring",
            Self::TlsrptRecordChanged => "tlsrpt-record-changed",
        }
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change between two checks of a domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Stable machine-readable kind.
    pub kind: ChangeKind,
    /// Info for routine changes, warning or error when mail delivery may suffer.
    pub severity: Severity,
    /// The MX host or policy pattern the change is about, when it is about one.
    pub subject: Option<String>,
    /// What changed, in plain words.
    pub message: String,
    /// The value before, when there was one.
    pub before: Option<String>,
    /// The value now, when there is one.
    pub after: Option<String>,
}

impl Change {
    fn new(kind: ChangeKind, severity: Severity, message: impl Into<String>) -> Self {
        Self {
            kind,
            severity,
            subject: None,
            message: message.into(),
            before: None,
            after: None,
        }
    }

    fn about(mut self, subject: &str) -> Self {
        self.subject = Some(subject.to_owned());
        self
    }

    fn values(mut self, before: Option<String>, after: Option<String>) -> Self {
        self.before = before;
        self.after = after;
        self
    }
}

/// The changes from `previous` to `current`, two checks of the same domain, in the order of
/// the records: verdict, `_mta-sts` record, policy, MX hosts, certificates, TLS-RPT record.
pub fn detect_changes(previous: &DomainReport, current: &DomainReport) -> Vec<Change> {
    let mut changes = Vec::new();
    verdict(previous, current, &mut changes);
    sts_record(previous, current, &mut changes);
    policy(previous, current, &mut changes);
    mx_set(previous, current, &mut changes);
    mx_drift(previous, current, &mut changes);
    certificates(previous, current, &mut changes);
    tlsrpt_record(previous, current, &mut changes);
    changes
}

fn verdict(previous: &DomainReport, current: &DomainReport, changes: &mut Vec<Change>) {
    if previous.verdict == current.verdict {
        return;
    }
    let rank = |v: Verdict| match v {
        Verdict::Pass => 0,
        Verdict::Warn => 1,
        Verdict::Fail => 2,
    };
    let worse = rank(current.verdict) > rank(previous.verdict);
    let name = |v: Verdict| v.as_str().to_owned();
    changes.push(
        Change::new(
            ChangeKind::VerdictChanged,
            if worse {
                Severity::Warning
            } else {
                Severity::Info
            },
            format!(
                "The verdict went from {} to {}{}.",
                name(previous.verdict),
                name(current.verdict),
                if worse {
                    "; see the findings for what broke"
                } else {
                    ""
                }
            ),
        )
        .values(Some(name(previous.verdict)), Some(name(current.verdict))),
    );
}

/// The policy id, `Some(None)` when the lookup answered without a valid record, `None` when
/// it failed (nothing known).
fn sts_id(report: &DomainReport) -> Option<Option<&str>> {
    if report.sts_record.dns_error.is_some() || report.sts_record.name.is_empty() {
        return None;
    }
    Some(report.sts_record.record.as_ref().map(|r| r.id.as_str()))
}

fn sts_record(previous: &DomainReport, current: &DomainReport, changes: &mut Vec<Change>) {
    let (Some(before), Some(after)) = (sts_id(previous), sts_id(current)) else {
        return;
    };
    let name = &current.sts_record.name;
    match (before, after) {
        (None, Some(id)) => changes.push(
            Change::new(
                ChangeKind::StsRecordAppeared,
                Severity::Info,
                format!("A valid MTA-STS record now exists at {name} (id={id})."),
            )
            .values(None, Some(id.to_owned())),
        ),
        (Some(id), None) => changes.push(
            Change::new(
                ChangeKind::StsRecordDisappeared,
                Severity::Warning,
                format!(
                    "The MTA-STS record at {name} (id={id}) is gone or no longer valid; senders \
                     will not fetch the policy again, and drop it once their cached copy expires."
                ),
            )
            .values(Some(id.to_owned()), None),
        ),
        (Some(old), Some(new)) if old != new => changes.push(
            Change::new(
                ChangeKind::StsIdRotated,
                Severity::Info,
                format!(
                    "The policy id at {name} changed from {old} to {new}: senders fetch the \
                     policy again."
                ),
            )
            .values(Some(old.to_owned()), Some(new.to_owned())),
        ),
        _ => {}
    }
}

/// The policy as fetched: `None` when no fetch was attempted, `Some(Err(reason))` when the
/// fetch or parse failed.
fn fetched(report: &DomainReport) -> Option<Result<&Policy, String>> {
    let fetch = report.policy.as_ref()?;
    Some(fetch.policy.as_ref().ok_or_else(|| {
        fetch.error.clone().unwrap_or_else(|| {
            report
                .findings
                .iter()
                .find(|f| f.section == crate::Section::Policy && f.severity == Severity::Error)
                .map_or_else(
                    || "the policy is not valid".to_owned(),
                    |f| f.message.clone(),
                )
        })
    }))
}

fn policy(previous: &DomainReport, current: &DomainReport, changes: &mut Vec<Change>) {
    let (Some(before), Some(after)) = (fetched(previous), fetched(current)) else {
        return;
    };
    let url = current.policy.as_ref().map_or("", |p| p.url.as_str());
    let (old, new) = match (before, after) {
        (Ok(_), Err(reason)) => {
            changes.push(
                Change::new(
                    ChangeKind::PolicyFetchBroke,
                    Severity::Error,
                    format!("The policy at {url} could be fetched before and cannot now: {reason}"),
                )
                .values(Some("valid policy".to_owned()), Some(reason)),
            );
            return;
        }
        (Err(reason), Ok(_)) => {
            changes.push(
                Change::new(
                    ChangeKind::PolicyFetchRecovered,
                    Severity::Info,
                    format!("The policy at {url} can be fetched and parsed again."),
                )
                .values(Some(reason), Some("valid policy".to_owned())),
            );
            return;
        }
        (Err(_), Err(_)) => return,
        (Ok(old), Ok(new)) => (old, new),
    };
    if old.mode != new.mode {
        let weaker = old.mode == Mode::Enforce;
        changes.push(
            Change::new(
                ChangeKind::ModeChanged,
                if weaker {
                    Severity::Warning
                } else {
                    Severity::Info
                },
                format!(
                    "The policy mode changed from {} to {}{}.",
                    old.mode.as_str(),
                    new.mode.as_str(),
                    if weaker {
                        ": senders no longer refuse unauthenticated delivery"
                    } else {
                        ""
                    }
                ),
            )
            .values(
                Some(old.mode.as_str().to_owned()),
                Some(new.mode.as_str().to_owned()),
            ),
        );
    }
    if old.max_age != new.max_age {
        changes.push(
            Change::new(
                ChangeKind::MaxAgeChanged,
                Severity::Info,
                format!(
                    "The policy max_age changed from {} to {} seconds.",
                    old.max_age, new.max_age
                ),
            )
            .values(Some(old.max_age.to_string()), Some(new.max_age.to_string())),
        );
    }
    let patterns = |p: &Policy| -> BTreeSet<String> {
        p.mx.iter()
            .map(|m| {
                let star = if m.wildcard { "*." } else { "" };
                format!("{star}{}", m.domain)
            })
            .collect()
    };
    let (old_mx, new_mx) = (patterns(old), patterns(new));
    if old_mx != new_mx {
        let added: Vec<&str> = new_mx.difference(&old_mx).map(String::as_str).collect();
        let removed: Vec<&str> = old_mx.difference(&new_mx).map(String::as_str).collect();
        let mut parts = Vec::new();
        if !added.is_empty() {
            parts.push(format!("added {}", added.join(", ")));
        }
        if !removed.is_empty() {
            parts.push(format!("removed {}", removed.join(", ")));
        }
        changes.push(
            Change::new(
                ChangeKind::PolicyMxChanged,
                Severity::Info,
                format!("The policy's mx patterns changed: {}.", parts.join("; ")),
            )
            .values(Some(list(&old_mx)), Some(list(&new_mx))),
        );
    }
    let body = |r: &DomainReport| r.policy.as_ref().and_then(|p| p.body.clone());
    if old != new && sts_id(previous).flatten().is_some() && sts_id(previous) == sts_id(current) {
        changes.push(
            Change::new(
                ChangeKind::PolicyChangedIdUnchanged,
                Severity::Warning,
                format!(
                    "The policy at {url} changed but the id in {} did not: senders that cached \
                     the old policy keep using it until it expires. Rotate the id.",
                    current.sts_record.name
                ),
            )
            .values(body(previous), body(current)),
        );
    }
}

fn list<'a>(items: impl IntoIterator<Item = &'a String>) -> String {
    let items: Vec<&str> = items.into_iter().map(String::as_str).collect();
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        items.join(", ")
    }
}

/// The MX hosts, when the lookup answered.
fn mx_hosts(report: &DomainReport) -> Option<BTreeMap<&str, &MxHostReport>> {
    if report.mx.dns_error.is_some() || report.sts_record.name.is_empty() {
        return None;
    }
    Some(
        report
            .mx
            .hosts
            .iter()
            .map(|h| (h.name.as_str(), h))
            .collect(),
    )
}

fn mx_set(previous: &DomainReport, current: &DomainReport, changes: &mut Vec<Change>) {
    let (Some(before), Some(after)) = (mx_hosts(previous), mx_hosts(current)) else {
        return;
    };
    let names = |m: &BTreeMap<&str, &MxHostReport>| -> BTreeSet<String> {
        m.keys().map(|k| (*k).to_owned()).collect()
    };
    let (old, new) = (names(&before), names(&after));
    if old == new {
        return;
    }
    for host in new.difference(&old) {
        changes.push(
            Change::new(
                ChangeKind::MxAdded,
                Severity::Info,
                format!("{host} was added to the MX hosts of {}.", current.domain),
            )
            .about(host)
            .values(Some(list(&old)), Some(list(&new))),
        );
    }
    for host in old.difference(&new) {
        changes.push(
            Change::new(
                ChangeKind::MxRemoved,
                Severity::Info,
                format!("{host} is no longer an MX host of {}.", current.domain),
            )
            .about(host)
            .values(Some(list(&old)), Some(list(&new))),
        );
    }
}

/// Host name → covered by the policy, when a valid policy was compared against the MX hosts.
fn coverage(report: &DomainReport) -> Option<BTreeMap<&str, Option<&str>>> {
    let policy = report.policy.as_ref()?.policy.as_ref()?;
    if policy.mode == Mode::None {
        return None;
    }
    let hosts = mx_hosts(report)?;
    Some(
        hosts
            .into_iter()
            .map(|(name, h)| (name, h.policy_match.as_deref()))
            .collect(),
    )
}

fn mx_drift(previous: &DomainReport, current: &DomainReport, changes: &mut Vec<Change>) {
    let (Some(before), Some(now)) = (coverage(previous), coverage(current)) else {
        return;
    };
    let enforce = current
        .policy
        .as_ref()
        .and_then(|p| p.policy.as_ref())
        .is_some_and(|p| p.mode == Mode::Enforce);
    for (host, matched) in &now {
        let was = before.get(host).copied();
        match (was, matched) {
            (None | Some(Some(_)), None) => changes.push(
                Change::new(
                    ChangeKind::MxDrift,
                    if enforce {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                    format!(
                        "The MX host {host} {} no mx pattern of the policy{}.",
                        if was.is_some() {
                            "no longer matches"
                        } else {
                            "is new and matches"
                        },
                        if enforce {
                            "; senders that enforce the policy refuse to deliver there"
                        } else {
                            ""
                        }
                    ),
                )
                .about(host)
                .values(was.flatten().map(str::to_owned), None),
            ),
            (Some(None), Some(pattern)) => changes.push(
                Change::new(
                    ChangeKind::MxDrift,
                    Severity::Info,
                    format!("The MX host {host} matches the policy again ({pattern})."),
                )
                .about(host)
                .values(None, Some((*pattern).to_owned())),
            ),
            _ => {}
        }
    }
    // Patterns still in the policy that matched an MX host before and match none now.
    let used = |c: &BTreeMap<&str, Option<&str>>| -> BTreeSet<String> {
        c.values().flatten().map(|p| (*p).to_owned()).collect()
    };
    let listed: BTreeSet<&str> = current
        .policy
        .as_ref()
        .and_then(|p| p.policy.as_ref())
        .map(|p| p.mx.iter().map(|m| m.text.as_str()).collect())
        .unwrap_or_default();
    for pattern in used(&before).difference(&used(&now)) {
        if listed.contains(pattern.as_str()) {
            changes.push(
                Change::new(
                    ChangeKind::MxDrift,
                    Severity::Warning,
                    format!(
                        "The policy pattern {pattern} matched an MX host before and matches none \
                         now; remove it from the policy if the move is final."
                    ),
                )
                .about(pattern)
                .values(Some(pattern.clone()), None),
            );
        }
    }
}

/// The distinct certificates seen on each MX host, by serial.
fn certificates_by_host(
    report: &DomainReport,
) -> BTreeMap<&str, BTreeMap<&str, &CertificateReport>> {
    report
        .mx
        .hosts
        .iter()
        .map(|h| {
            let certs = h
                .addresses
                .iter()
                .filter_map(|a| a.tls.as_ref()?.certificate.as_ref())
                .map(|c| (c.serial.as_str(), c))
                .collect();
            (h.name.as_str(), certs)
        })
        .filter(|(_, certs): &(&str, BTreeMap<&str, &CertificateReport>)| !certs.is_empty())
        .collect()
}

fn describe(certs: &BTreeMap<&str, &CertificateReport>) -> String {
    certs
        .values()
        .map(|c| {
            format!(
                "serial {}, expires {}",
                c.serial,
                c.not_after.format("%Y-%m-%d")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn certificates(previous: &DomainReport, current: &DomainReport, changes: &mut Vec<Change>) {
    let before = certificates_by_host(previous);
    for (host, now) in certificates_by_host(current) {
        let Some(then) = before.get(host) else {
            continue;
        };
        let serials = |m: &BTreeMap<&str, &CertificateReport>| -> Vec<String> {
            m.keys().map(|s| (*s).to_owned()).collect()
        };
        if serials(then) != serials(&now) {
            let latest = now.values().map(|c| c.not_after).max();
            changes.push(
                Change::new(
                    ChangeKind::CertRenewed,
                    Severity::Info,
                    format!(
                        "The MX host {host} presents a new certificate{}.",
                        latest
                            .map(|t| format!(", valid until {}", t.format("%Y-%m-%d")))
                            .unwrap_or_default()
                    ),
                )
                .about(host)
                .values(Some(describe(then)), Some(describe(&now))),
            );
        }
        let soonest = |m: &BTreeMap<&str, &CertificateReport>| {
            m.values().map(|c| (c.days_remaining, c.not_after)).min()
        };
        if let (Some((was_days, _)), Some((days, not_after))) = (soonest(then), soonest(&now))
            && was_days >= EXPIRY_WARNING_DAYS
            && days < EXPIRY_WARNING_DAYS
        {
            let (severity, when) = if days < 0 {
                (Severity::Error, "has expired".to_owned())
            } else {
                (Severity::Warning, format!("expires in {days} day(s)"))
            };
            changes.push(
                Change::new(
                    ChangeKind::CertExpiring,
                    severity,
                    format!(
                        "The certificate of the MX host {host} {when} ({}); renew it.",
                        not_after.format("%Y-%m-%d")
                    ),
                )
                .about(host)
                .values(
                    Some(format!("{was_days} days remaining")),
                    Some(format!("{days} days remaining")),
                ),
            );
        }
    }
}

fn tlsrpt_record(previous: &DomainReport, current: &DomainReport, changes: &mut Vec<Change>) {
    let state = |r: &DomainReport| -> Option<Option<String>> {
        if r.tlsrpt.dns_error.is_some() || r.tlsrpt.name.is_empty() {
            return None;
        }
        Some(r.tlsrpt.record.as_ref().map(|rec| rec.rua.join(", ")))
    };
    let (Some(before), Some(after)) = (state(previous), state(current)) else {
        return;
    };
    if before == after {
        return;
    }
    let name = &current.tlsrpt.name;
    let (severity, message) = match (&before, &after) {
        (None, Some(rua)) => (
            Severity::Info,
            format!("A valid TLS-RPT record now exists at {name}; reports go to {rua}."),
        ),
        (Some(_), None) => (
            Severity::Warning,
            format!(
                "The TLS-RPT record at {name} is gone or no longer valid: senders stop sending \
                 TLS reports."
            ),
        ),
        _ => (
            Severity::Info,
            format!(
                "The TLS-RPT record at {name} now sends reports to {}.",
                after.as_deref().unwrap_or_default()
            ),
        ),
    };
    changes.push(
        Change::new(ChangeKind::TlsrptRecordChanged, severity, message).values(before, after),
    );
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};

    use super::*;
    use crate::pattern::MxPattern;
    use crate::report::{
        AddressProbe, MxReport, PolicyFetchReport, StsRecordReport, TlsRptReport, TlsSession,
    };
    use crate::sts_record::StsRecord;
    use crate::tlsrpt_record::TlsRptRecord;

    fn cert(serial: &str, days: i64) -> CertificateReport {
        let now: DateTime<Utc> = "2026-06-01T00:00:00Z".parse().unwrap();
        CertificateReport {
            subject: "CN=mx1.example.com".to_owned(),
            issuer: "CN=Test CA".to_owned(),
            serial: serial.to_owned(),
            san_dns: vec!["mx1.example.com".to_owned()],
            not_before: now - Duration::days(60),
            not_after: now + Duration::days(days),
            days_remaining: days,
            chain_length: 2,
            chain_trusted: true,
            chain_error: None,
            name_matches: true,
        }
    }

    fn host(
        name: &str,
        policy_match: Option<&str>,
        certificate: CertificateReport,
    ) -> MxHostReport {
        let mut probe = AddressProbe::new("192.0.2.25".parse().unwrap());
        probe.connected = true;
        probe.starttls_offered = Some(true);
        probe.tls = Some(TlsSession {
            version: "TLSv1.3".to_owned(),
            cipher_suite: "TLS13_AES_128_GCM_SHA256".to_owned(),
            certificate: Some(certificate),
        });
        MxHostReport {
            name: name.to_owned(),
            preference: Some(10),
            policy_match: policy_match.map(str::to_owned),
            tlsa: Some(false),
            addresses: vec![probe],
        }
    }

    fn policy(mode: Mode, max_age: u64, mx: &[&str]) -> Policy {
        Policy {
            version: "STSv1".to_owned(),
            mode,
            max_age,
            mx: mx.iter().map(|m| MxPattern::parse(m).unwrap()).collect(),
        }
    }

    /// A clean enforce-ready check of example.com.
    fn base() -> DomainReport {
        DomainReport {
            domain: "example.com".to_owned(),
            checked_at: "2026-06-01T00:00:00Z".parse().unwrap(),
            elapsed_ms: 10,
            verdict: Verdict::Pass,
            sts_record: StsRecordReport {
                name: "_mta-sts.example.com".to_owned(),
                txt: vec!["v=STSv1; id=1".to_owned()],
                record: Some(StsRecord {
                    id: "1".to_owned(),
                    extensions: Vec::new(),
                }),
                dns_error: None,
            },
            policy: Some(PolicyFetchReport {
                url: "https://mta-sts.example.com/.well-known/mta-sts.txt".to_owned(),
                body: Some(
                    "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmax_age: 604800\n"
                        .to_owned(),
                ),
                policy: Some(policy(Mode::Enforce, 604_800, &["mx1.example.com"])),
                ..PolicyFetchReport::default()
            }),
            mx: MxReport {
                hosts: vec![host(
                    "mx1.example.com",
                    Some("mx1.example.com"),
                    cert("01", 90),
                )],
                ..MxReport::default()
            },
            tlsrpt: TlsRptReport {
                name: "_smtp._tls.example.com".to_owned(),
                txt: vec!["v=TLSRPTv1; rua=mailto:r@example.com".to_owned()],
                record: Some(TlsRptRecord {
                    rua: vec!["mailto:r@example.com".to_owned()],
                    extensions: Vec::new(),
                }),
                dns_error: None,
            },
            findings: Vec::new(),
        }
    }

    fn kinds(changes: &[Change]) -> Vec<&'static str> {
        changes.iter().map(|c| c.kind.as_str()).collect()
    }

    fn set_policy(report: &mut DomainReport, p: Policy, body: &str) {
        let fetch = report.policy.as_mut().unwrap();
        fetch.policy = Some(p);
        fetch.body = Some(body.to_owned());
    }

    #[test]
    fn identical_checks_have_no_changes() {
        assert_eq!(detect_changes(&base(), &base()), Vec::new());
    }

    #[test]
    fn sts_id_rotated() {
        let mut now = base();
        now.sts_record.record.as_mut().unwrap().id = "2".to_owned();
        let changes = detect_changes(&base(), &now);
        assert_eq!(kinds(&changes), ["sts-id-rotated"]);
        assert_eq!(changes[0].before.as_deref(), Some("1"));
        assert_eq!(changes[0].after.as_deref(), Some("2"));
        assert_eq!(changes[0].severity, Severity::Info);
    }

    #[test]
    fn mode_changed_with_rotation() {
        let mut then = base();
        set_policy(
            &mut then,
            policy(Mode::Testing, 604_800, &["mx1.example.com"]),
            "testing",
        );
        let mut now = base();
        now.sts_record.record.as_mut().unwrap().id = "2".to_owned();
        let changes = detect_changes(&then, &now);
        assert_eq!(kinds(&changes), ["sts-id-rotated", "mode-changed"]);
        assert_eq!(changes[1].before.as_deref(), Some("testing"));
        assert_eq!(changes[1].after.as_deref(), Some("enforce"));
        assert_eq!(changes[1].severity, Severity::Info);
        // Back from enforce to testing is a warning.
        let back = detect_changes(&now, &then);
        assert_eq!(back[1].kind, ChangeKind::ModeChanged);
        assert_eq!(back[1].severity, Severity::Warning);
    }

    #[test]
    fn policy_changed_without_id_rotation() {
        let mut now = base();
        set_policy(
            &mut now,
            policy(Mode::Enforce, 86_400, &["mx1.example.com"]),
            "new",
        );
        let changes = detect_changes(&base(), &now);
        assert_eq!(
            kinds(&changes),
            ["max-age-changed", "policy-changed-id-unchanged"]
        );
        assert_eq!(changes[0].before.as_deref(), Some("604800"));
        assert_eq!(changes[0].after.as_deref(), Some("86400"));
        assert_eq!(changes[1].severity, Severity::Warning);
        assert_eq!(changes[1].after.as_deref(), Some("new"));
    }

    #[test]
    fn policy_mx_changed_lists_added_and_removed() {
        let mut now = base();
        now.sts_record.record.as_mut().unwrap().id = "2".to_owned();
        set_policy(
            &mut now,
            policy(
                Mode::Enforce,
                604_800,
                &["mx1.example.com", "*.mail.example.net"],
            ),
            "new",
        );
        let changes = detect_changes(&base(), &now);
        assert_eq!(kinds(&changes), ["sts-id-rotated", "policy-mx-changed"]);
        assert!(
            changes[1].message.contains("added *.mail.example.net"),
            "{}",
            changes[1].message
        );
        assert_eq!(changes[1].before.as_deref(), Some("mx1.example.com"));
        assert_eq!(
            changes[1].after.as_deref(),
            Some("*.mail.example.net, mx1.example.com")
        );
        let back = detect_changes(&now, &base());
        assert!(back[1].message.contains("removed *.mail.example.net"));
    }

    #[test]
    fn mx_added_and_removed() {
        let mut now = base();
        now.mx.hosts.push(host(
            "mx2.example.com",
            Some("mx1.example.com"),
            cert("02", 90),
        ));
        // mx2 is (implausibly) covered, so only the set changes.
        let changes = detect_changes(&base(), &now);
        assert_eq!(kinds(&changes), ["mx-added"]);
        assert_eq!(changes[0].subject.as_deref(), Some("mx2.example.com"));
        assert_eq!(
            changes[0].after.as_deref(),
            Some("mx1.example.com, mx2.example.com")
        );
        let back = detect_changes(&now, &base());
        assert_eq!(kinds(&back), ["mx-removed"]);
        assert_eq!(back[0].subject.as_deref(), Some("mx2.example.com"));
    }

    #[test]
    fn mx_drift_when_a_new_mx_is_not_in_the_policy() {
        let mut now = base();
        now.verdict = Verdict::Fail;
        now.mx.hosts = vec![host("mx9.example.org", None, cert("09", 90))];
        let changes = detect_changes(&base(), &now);
        assert_eq!(
            kinds(&changes),
            [
                "verdict-changed",
                "mx-added",
                "mx-removed",
                "mx-drift",
                "mx-drift"
            ]
        );
        let uncovered = &changes[3];
        assert_eq!(uncovered.subject.as_deref(), Some("mx9.example.org"));
        assert_eq!(uncovered.severity, Severity::Error, "enforce mode");
        let unused = &changes[4];
        assert_eq!(unused.subject.as_deref(), Some("mx1.example.com"));
        assert_eq!(unused.severity, Severity::Warning);
        assert_eq!(changes[0].severity, Severity::Warning);
    }

    #[test]
    fn mx_drift_when_the_policy_drops_an_mx_and_when_it_is_fixed() {
        let mut now = base();
        now.sts_record.record.as_mut().unwrap().id = "2".to_owned();
        set_policy(
            &mut now,
            policy(Mode::Testing, 604_800, &["mx.other.example"]),
            "x",
        );
        now.mx.hosts[0].policy_match = None;
        let changes = detect_changes(&base(), &now);
        assert_eq!(
            kinds(&changes),
            [
                "sts-id-rotated",
                "mode-changed",
                "policy-mx-changed",
                "mx-drift"
            ]
        );
        assert_eq!(changes[3].severity, Severity::Warning, "testing mode");
        assert_eq!(changes[3].before.as_deref(), Some("mx1.example.com"));
        let fixed = detect_changes(&now, &base());
        let drift: Vec<&Change> = fixed
            .iter()
            .filter(|c| c.kind == ChangeKind::MxDrift)
            .collect();
        assert_eq!(drift.len(), 1);
        assert_eq!(drift[0].severity, Severity::Info);
        assert!(drift[0].message.contains("matches the policy again"));
    }

    #[test]
    fn cert_renewed() {
        let mut now = base();
        now.mx.hosts[0] = host("mx1.example.com", Some("mx1.example.com"), cert("0a", 365));
        let changes = detect_changes(&base(), &now);
        assert_eq!(kinds(&changes), ["cert-renewed"]);
        assert_eq!(changes[0].subject.as_deref(), Some("mx1.example.com"));
        assert!(changes[0].before.as_deref().unwrap().contains("serial 01"));
        assert!(
            changes[0]
                .after
                .as_deref()
                .unwrap()
                .contains("serial 0a, expires 2027-06-01")
        );
    }

    #[test]
    fn cert_expiring_when_it_crosses_the_window() {
        let mut then = base();
        then.mx.hosts[0] = host("mx1.example.com", Some("mx1.example.com"), cert("01", 20));
        let mut now = base();
        now.mx.hosts[0] = host("mx1.example.com", Some("mx1.example.com"), cert("01", 10));
        let changes = detect_changes(&then, &now);
        assert_eq!(kinds(&changes), ["cert-expiring"]);
        assert_eq!(changes[0].severity, Severity::Warning);
        assert_eq!(changes[0].after.as_deref(), Some("10 days remaining"));
        // Already inside the window: no new change.
        let mut later = base();
        later.mx.hosts[0] = host("mx1.example.com", Some("mx1.example.com"), cert("01", 5));
        assert_eq!(detect_changes(&now, &later), Vec::new());
        // Straight to expired is an error.
        let mut expired = base();
        expired.mx.hosts[0] = host("mx1.example.com", Some("mx1.example.com"), cert("01", -1));
        let changes = detect_changes(&then, &expired);
        assert_eq!(kinds(&changes), ["cert-expiring"]);
        assert_eq!(changes[0].severity, Severity::Error);
    }

    #[test]
    fn sts_record_appeared_and_disappeared() {
        let mut none = base();
        none.sts_record.record = None;
        none.sts_record.txt.clear();
        none.policy = None;
        let gone = detect_changes(&base(), &none);
        assert_eq!(kinds(&gone), ["sts-record-disappeared"]);
        assert_eq!(gone[0].severity, Severity::Warning);
        let back = detect_changes(&none, &base());
        assert_eq!(kinds(&back), ["sts-record-appeared"]);
        assert_eq!(back[0].after.as_deref(), Some("1"));
    }

    #[test]
    fn a_dns_failure_is_not_a_change() {
        let mut failed = base();
        failed.sts_record.record = None;
        failed.sts_record.dns_error = Some("SERVFAIL".to_owned());
        failed.policy = None;
        failed.mx.hosts.clear();
        failed.mx.dns_error = Some("timeout".to_owned());
        failed.tlsrpt.record = None;
        failed.tlsrpt.dns_error = Some("SERVFAIL".to_owned());
        assert_eq!(detect_changes(&base(), &failed), Vec::new());
        assert_eq!(detect_changes(&failed, &base()), Vec::new());
    }

    #[test]
    fn policy_fetch_broke_and_recovered() {
        let mut broken = base();
        let fetch = broken.policy.as_mut().unwrap();
        fetch.policy = None;
        fetch.error = Some("connection refused".to_owned());
        let changes = detect_changes(&base(), &broken);
        assert_eq!(kinds(&changes), ["policy-fetch-broke"]);
        assert_eq!(changes[0].severity, Severity::Error);
        assert_eq!(changes[0].after.as_deref(), Some("connection refused"));
        let back = detect_changes(&broken, &base());
        assert_eq!(kinds(&back), ["policy-fetch-recovered"]);
        assert_eq!(back[0].before.as_deref(), Some("connection refused"));
    }

    #[test]
    fn tlsrpt_record_changed() {
        let mut now = base();
        now.tlsrpt.record.as_mut().unwrap().rua = vec!["mailto:new@example.com".to_owned()];
        let changes = detect_changes(&base(), &now);
        assert_eq!(kinds(&changes), ["tlsrpt-record-changed"]);
        assert_eq!(changes[0].before.as_deref(), Some("mailto:r@example.com"));
        assert_eq!(changes[0].after.as_deref(), Some("mailto:new@example.com"));
        now.tlsrpt.record = None;
        let gone = detect_changes(&base(), &now);
        assert_eq!(gone[0].severity, Severity::Warning);
        assert_eq!(gone[0].after, None);
    }

    #[test]
    fn kinds_serialize_as_their_stable_names() {
        for kind in [
            ChangeKind::StsIdRotated,
            ChangeKind::MxDrift,
            ChangeKind::CertExpiring,
        ] {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::String(kind.as_str().to_owned())
            );
        }
    }

    #[test]
    fn reports_round_trip_through_json() {
        let mut report = base();
        report.findings.push(crate::Finding::new(
            crate::Code::MxCertExpiring,
            Severity::Warning,
            "m",
            "a",
        ));
        report.policy.as_mut().unwrap().connected_to = Some("192.0.2.1:443".parse().unwrap());
        let json = serde_json::to_string(&report).unwrap();
        let back: DomainReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);
    }
}
