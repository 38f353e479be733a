//! Fixtures: a clean domain in `mode: testing` with two reporters over two weeks and a fresh
//! live check, which each test then breaks in one way.

use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, Days, Duration, NaiveDate, TimeZone, Utc};
use tlsrpt_check::{
    AddressProbe, CertificateReport, Code, DomainReport, Finding, Mode, MxHostReport, MxReport,
    PolicyFetchReport, Section, Severity, StsRecordReport, TlsRptReport, TlsSession, Verdict,
    parse_policy, parse_sts_record, parse_tlsrpt_record,
};
use tlsrpt_readiness::{
    Assessment, Criterion, CriterionId, Evidence, Excluded, FailureRow, PolicySeen, ReporterDay,
    Status, Thresholds, assess,
};
use tlsrpt_report::ResultType;

pub const DOMAIN: &str = "example.com";
pub const GOOGLE: &str = "Google LLC";
pub const MICROSOFT: &str = "Microsoft Corporation";
/// Sessions each reporter reports each day.
pub const DAILY: u64 = 1000;

/// The fixed moment of every assessment.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()
}

/// The UTC day `n` days before [`now`].
pub fn ago(n: u64) -> NaiveDate {
    now().date_naive().checked_sub_days(Days::new(n)).unwrap()
}

/// The policy text for `mode`.
pub fn policy_body(mode: Mode) -> String {
    format!(
        "version: STSv1\nmode: {}\nmx: mx1.example.com\nmx: mx2.example.com\nmax_age: 86400\n",
        mode.as_str()
    )
}

/// A live check, one hour old, of a domain whose configuration is correct.
pub fn live(mode: Mode) -> DomainReport {
    let body = policy_body(mode);
    let policy = parse_policy(body.as_bytes()).policy().cloned().unwrap();
    let mut findings = Vec::new();
    if mode == Mode::Testing {
        findings.push(finding(
            Section::Policy,
            Code::PolicyModeTesting,
            Severity::Warning,
            "The policy is in mode: testing.",
        ));
    }
    DomainReport {
        domain: DOMAIN.to_owned(),
        checked_at: now() - Duration::hours(1),
        elapsed_ms: 900,
        verdict: Verdict::Warn,
        sts_record: StsRecordReport {
            name: format!("_mta-sts.{DOMAIN}"),
            txt: vec!["v=STSv1; id=20261001000000".to_owned()],
            record: Some(parse_sts_record("v=STSv1; id=20261001000000").unwrap()),
            dns_error: None,
        },
        policy: Some(PolicyFetchReport {
            url: format!("https://mta-sts.{DOMAIN}/.well-known/mta-sts.txt"),
            http_status: Some(200),
            content_type: Some("text/plain".to_owned()),
            body: Some(body),
            policy: Some(policy),
            ..PolicyFetchReport::default()
        }),
        mx: MxReport {
            hosts: vec![mx_host("mx1.example.com", 1), mx_host("mx2.example.com", 2)],
            ..MxReport::default()
        },
        tlsrpt: TlsRptReport {
            name: format!("_smtp._tls.{DOMAIN}"),
            txt: vec!["v=TLSRPTv1; rua=mailto:tlsrpt@example.com".to_owned()],
            record: Some(parse_tlsrpt_record("v=TLSRPTv1; rua=mailto:tlsrpt@example.com").unwrap()),
            dns_error: None,
        },
        findings,
    }
}

fn mx_host(name: &str, last_octet: u8) -> MxHostReport {
    MxHostReport {
        name: name.to_owned(),
        preference: Some(10),
        policy_match: Some(name.to_owned()),
        tlsa: Some(false),
        addresses: vec![AddressProbe {
            address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, last_octet)),
            skipped: None,
            connected: true,
            banner: Some(format!("220 {name} ESMTP")),
            starttls_offered: Some(true),
            tls: Some(TlsSession {
                version: "TLSv1.3".to_owned(),
                cipher_suite: "TLS13_AES_256_GCM_SHA384".to_owned(),
                certificate: Some(certificate(name, now() + Duration::days(60))),
            }),
            error: None,
        }],
    }
}

/// A trusted certificate for `name`, valid until `not_after`.
pub fn certificate(name: &str, not_after: DateTime<Utc>) -> CertificateReport {
    CertificateReport {
        subject: format!("CN={name}"),
        issuer: "CN=Test CA".to_owned(),
        serial: "01".to_owned(),
        san_dns: vec![name.to_owned()],
        not_before: now() - Duration::days(30),
        not_after,
        days_remaining: (not_after - now()).num_days(),
        chain_length: 2,
        chain_trusted: true,
        chain_error: None,
        name_matches: true,
    }
}

/// A finding as the checker stamps it.
pub fn finding(section: Section, code: Code, severity: Severity, message: &str) -> Finding {
    let mut f = Finding::new(code, severity, message, "Fix it.");
    f.section = section;
    f
}

/// Two reporters, one report each per day over the last 14 days, every session
/// successful, each having seen the live testing policy; and a fresh clean live check.
pub fn clean() -> Evidence {
    let mut e = Evidence {
        domain: DOMAIN.to_owned(),
        now: now(),
        reporter_days: Vec::new(),
        failures: Vec::new(),
        policies_seen: Vec::new(),
        excluded: Excluded::default(),
        live_check: Some(live(Mode::Testing)),
    };
    for n in 0..14 {
        for org in [GOOGLE, MICROSOFT] {
            report(&mut e, ago(n), org, DAILY, &policy_body(Mode::Testing));
        }
    }
    e
}

/// Adds one report of `sessions` successful sessions seen under `policy`.
pub fn report(e: &mut Evidence, day: NaiveDate, org: &str, sessions: u64, policy: &str) {
    e.reporter_days.push(ReporterDay {
        day,
        organization: org.to_owned(),
        reports: 1,
        successful_sessions: sessions,
        failed_sessions: 0,
    });
    e.policies_seen.push(PolicySeen {
        day,
        organization: org.to_owned(),
        policy_type: "sts".to_owned(),
        policy_string: policy.lines().map(str::to_owned).collect(),
        mx_host: vec!["mx1.example.com".to_owned(), "mx2.example.com".to_owned()],
        sessions,
    });
}

/// Adds a failure detail, moving its sessions from successful to failed in the reporter's
/// totals for that day.
pub fn fail<'a>(
    e: &'a mut Evidence,
    day: NaiveDate,
    org: &str,
    result_type: &str,
    mx: Option<&str>,
    sessions: u64,
) -> &'a mut FailureRow {
    if let Some(r) = e
        .reporter_days
        .iter_mut()
        .find(|r| r.day == day && r.organization == org)
    {
        r.successful_sessions -= sessions;
        r.failed_sessions += sessions;
    }
    e.failures.push(FailureRow {
        day,
        organization: org.to_owned(),
        policy_type: "sts".to_owned(),
        result_type: ResultType::from_wire(result_type),
        receiving_mx: mx.map(str::to_owned),
        sending_ip: Some("198.51.100.7".to_owned()),
        failure_reason_code: None,
        sessions,
    });
    e.failures.last_mut().unwrap()
}

/// Assesses with the default thresholds.
pub fn run(e: &Evidence) -> Assessment {
    assess(e, &Thresholds::default())
}

/// The criterion `id` of `a`.
pub fn criterion(a: &Assessment, id: CriterionId) -> &Criterion {
    a.criterion(id).unwrap()
}

/// Asserts the status of one criterion, showing the criterion when it differs.
#[track_caller]
pub fn assert_status(a: &Assessment, id: CriterionId, status: Status) {
    let c = criterion(a, id);
    assert_eq!(c.status, status, "{c:#?}");
}

/// The live check of `e`, to edit in place.
pub fn live_mut(e: &mut Evidence) -> &mut DomainReport {
    e.live_check.as_mut().unwrap()
}

/// A strict RFC 4180 reader: fields, quotes doubled, CRLF record ends.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF outside quotes");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => {
                assert!(c != '\n' && c != '"', "bare {c:?} outside quotes");
                field.push(c);
            }
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "the last record ends with CRLF"
    );
    rows
}
