//! The recorded live checks of the demo domains: what the checker would have found for
//! each rollout stage, with one earlier check per domain so the change history has
//! entries. They are built as the checker's own report type, so every page reads them
//! exactly as it reads a real check.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use tlsrpt_check::{
    AddressProbe, CertificateReport, Code, DomainReport, Finding, Mode, MxHostReport, MxPattern,
    MxReport, Policy, PolicyFetchReport, Section, Severity, StsRecord, StsRecordReport,
    TlsRptRecord, TlsRptReport, TlsSession, Verdict,
};

/// One demo MX host: its name, address, whether it offers STARTTLS, and the days left on
/// its certificate.
struct Host {
    name: &'static str,
    address: &'static str,
    starttls: bool,
    days_left: i64,
}

struct Scenario {
    domain: &'static str,
    sts_id: &'static str,
    mode: Mode,
    max_age: u64,
    patterns: &'static [&'static str],
    hosts: &'static [Host],
}

const fn host(name: &'static str, address: &'static str, days_left: i64) -> Host {
    Host {
        name,
        address,
        starttls: true,
        days_left,
    }
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        domain: "enforced.example",
        sts_id: "20260301T000000",
        mode: Mode::Enforce,
        max_age: 1_209_600,
        patterns: &["mx1.enforced.example", "mx2.enforced.example"],
        hosts: &[
            host("mx1.enforced.example", "192.0.2.11", 80),
            host("mx2.enforced.example", "192.0.2.12", 80),
        ],
    },
    Scenario {
        domain: "ready.example",
        sts_id: "20261001T120000",
        mode: Mode::Testing,
        max_age: 86_400,
        patterns: &["mx1.ready.example", "mx2.ready.example"],
        hosts: &[
            host("mx1.ready.example", "192.0.2.21", 75),
            host("mx2.ready.example", "192.0.2.22", 75),
        ],
    },
    Scenario {
        domain: "expiring.example",
        sts_id: "20261015T080000",
        mode: Mode::Testing,
        max_age: 604_800,
        patterns: &["mx1.expiring.example", "mx2.expiring.example"],
        hosts: &[
            host("mx1.expiring.example", "192.0.2.31", 60),
            host("mx2.expiring.example", "192.0.2.32", 5),
        ],
    },
    Scenario {
        domain: "failing.example",
        sts_id: "20261020T090000",
        mode: Mode::Testing,
        max_age: 86_400,
        patterns: &["mx1.failing.example", "mx2.failing.example"],
        hosts: &[
            host("mx1.failing.example", "192.0.2.41", 70),
            Host {
                name: "mx2.failing.example",
                address: "192.0.2.42",
                starttls: false,
                days_left: 0,
            },
        ],
    },
    Scenario {
        domain: "stale-mx.example",
        sts_id: "20250601T000000",
        mode: Mode::Testing,
        max_age: 86_400,
        patterns: &["mx.old-provider.example"],
        hosts: &[host("inbound.new-provider.example", "198.51.100.25", 85)],
    },
    Scenario {
        domain: "new.example",
        sts_id: "20261119T100000",
        mode: Mode::Testing,
        max_age: 86_400,
        patterns: &["mail.new.example"],
        hosts: &[host("mail.new.example", "192.0.2.61", 88)],
    },
];

/// Every demo check, oldest first: an earlier one a week ago and the current one an hour
/// ago, per domain.
pub fn checks(now: DateTime<Utc>) -> Vec<DomainReport> {
    let earlier = now - Duration::days(7);
    let latest = now - Duration::hours(1);
    let mut all: Vec<DomainReport> = SCENARIOS
        .iter()
        .map(|s| earlier_state(s, earlier))
        .collect();
    all.extend(
        SCENARIOS
            .iter()
            .map(|s| report(s, s.sts_id, s.hosts, latest)),
    );
    all
}

/// A week ago: the stale-MX domain still had its old MX, the ready domain an older id.
fn earlier_state(scenario: &Scenario, at: DateTime<Utc>) -> DomainReport {
    const OLD_MX: &[Host] = &[host("mx.old-provider.example", "203.0.113.9", 30)];
    match scenario.domain {
        "stale-mx.example" => report(scenario, scenario.sts_id, OLD_MX, at),
        "ready.example" => report(scenario, "20260901T000000", scenario.hosts, at),
        _ => report(scenario, scenario.sts_id, scenario.hosts, at),
    }
}

fn report(scenario: &Scenario, sts_id: &str, hosts: &[Host], at: DateTime<Utc>) -> DomainReport {
    let domain = scenario.domain;
    let patterns: Vec<MxPattern> = scenario
        .patterns
        .iter()
        .filter_map(|p| MxPattern::parse(p).ok())
        .collect();
    let policy = Policy {
        version: "STSv1".into(),
        mode: scenario.mode,
        max_age: scenario.max_age,
        mx: patterns.clone(),
    };
    let body = std::iter::once("version: STSv1".to_owned())
        .chain(std::iter::once(format!("mode: {}", scenario.mode.as_str())))
        .chain(scenario.patterns.iter().map(|p| format!("mx: {p}")))
        .chain(std::iter::once(format!("max_age: {}", scenario.max_age)))
        .collect::<Vec<_>>()
        .join("\r\n")
        + "\r\n";

    let mut findings = Vec::new();
    if scenario.mode == Mode::Testing {
        findings.push(finding(
            Section::Policy,
            Code::PolicyModeTesting,
            Severity::Info,
            "The policy is in mode testing: senders report failures but still deliver.",
            "Move to mode enforce once the reports are clean.",
        ));
    }
    let mx_hosts: Vec<MxHostReport> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let matched = patterns.iter().find(|p| p.matches(h.name)).map(|p| p.text.clone());
            if matched.is_none() {
                findings.push(finding(
                    Section::Mx,
                    Code::MxNotInPolicy,
                    Severity::Error,
                    &format!("MX {} matches no mx pattern of the policy.", h.name),
                    &format!("Add \"mx: {}\" to the policy file and publish a new id.", h.name),
                ));
            }
            if !h.starttls {
                findings.push(finding(
                    Section::Mx,
                    Code::MxStarttlsMissing,
                    Severity::Error,
                    &format!("{} ({}) does not offer STARTTLS.", h.name, h.address),
                    "Enable STARTTLS with a valid certificate on this MX.",
                ));
            } else if h.days_left <= 14 {
                findings.push(finding(
                    Section::Mx,
                    Code::MxCertExpiring,
                    Severity::Warning,
                    &format!("The certificate of {} expires in {} days.", h.name, h.days_left),
                    "Renew the certificate before it expires; under enforce an expired certificate refuses mail.",
                ));
            }
            MxHostReport {
                name: h.name.into(),
                preference: Some(10 * (i as u16 + 1)),
                policy_match: matched,
                tlsa: Some(false),
                addresses: vec![probe(h, at)],
            }
        })
        .collect();
    for pattern in &patterns {
        if !hosts.iter().any(|h| pattern.matches(h.name)) {
            findings.push(finding(
                Section::Mx,
                Code::PolicyMxUnused,
                Severity::Warning,
                &format!(
                    "The policy pattern \"{}\" matches no current MX.",
                    pattern.text
                ),
                "Remove the stale pattern once no MX uses it.",
            ));
        }
    }
    let verdict = match findings.iter().map(|f| f.severity).max() {
        Some(Severity::Error) => Verdict::Fail,
        Some(Severity::Warning) => Verdict::Warn,
        _ => Verdict::Pass,
    };
    DomainReport {
        domain: domain.into(),
        checked_at: at,
        elapsed_ms: 840,
        verdict,
        sts_record: StsRecordReport {
            name: format!("_mta-sts.{domain}"),
            txt: vec![format!("v=STSv1; id={sts_id}")],
            record: Some(StsRecord {
                id: sts_id.into(),
                extensions: Vec::new(),
            }),
            dns_error: None,
        },
        policy: Some(PolicyFetchReport {
            url: format!("https://mta-sts.{domain}/.well-known/mta-sts.txt"),
            http_status: Some(200),
            content_type: Some("text/plain".into()),
            body: Some(body),
            policy: Some(policy),
            ..PolicyFetchReport::default()
        }),
        mx: MxReport {
            hosts: mx_hosts,
            ..MxReport::default()
        },
        tlsrpt: TlsRptReport {
            name: format!("_smtp._tls.{domain}"),
            txt: vec![format!("v=TLSRPTv1; rua=mailto:tlsrpt@{domain}")],
            record: Some(TlsRptRecord {
                rua: vec![format!("mailto:tlsrpt@{domain}")],
                extensions: Vec::new(),
            }),
            dns_error: None,
        },
        findings,
    }
}

fn probe(h: &Host, at: DateTime<Utc>) -> AddressProbe {
    let tls = h.starttls.then(|| TlsSession {
        version: "TLSv1.3".into(),
        cipher_suite: "TLS13_AES_256_GCM_SHA384".into(),
        certificate: Some(CertificateReport {
            subject: format!("CN={}", h.name),
            issuer: "CN=Demo Issuing CA".into(),
            serial: format!("{:x}", h.name.len() * 7919),
            san_dns: vec![h.name.into()],
            not_before: at - Duration::days(90 - h.days_left),
            not_after: at + Duration::days(h.days_left),
            days_remaining: h.days_left,
            chain_length: 2,
            chain_trusted: true,
            chain_error: None,
            name_matches: true,
        }),
    });
    AddressProbe {
        address: h
            .address
            .parse::<IpAddr>()
            .unwrap_or(IpAddr::from([192, 0, 2, 1])),
        skipped: None,
        connected: true,
        banner: Some(format!("220 {} ESMTP", h.name)),
        starttls_offered: Some(h.starttls),
        tls,
        error: None,
    }
}

fn finding(
    section: Section,
    code: Code,
    severity: Severity,
    message: &str,
    advice: &str,
) -> Finding {
    Finding {
        section,
        code,
        severity,
        message: message.into(),
        advice: advice.into(),
    }
}
