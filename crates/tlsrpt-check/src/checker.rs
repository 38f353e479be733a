//! The checker: runs every step for a domain and turns what it sees into findings
//! (RFC 8461 §3 and §4, RFC 8460 §3, MTASTS-RULES.md).

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use futures_util::StreamExt;
use futures_util::future::join_all;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::address::non_public_reason;
use crate::config::CheckConfig;
use crate::dns::{Answer, Dns};
use crate::error::CheckError;
use crate::fetch;
use crate::finding::{Code, Finding, Section, Severity};
use crate::pattern::normalize_host;
use crate::policy::{Mode, Policy, PolicyParse, parse_policy};
use crate::report::{
    AddressProbe, DomainReport, MxHostReport, MxReport, PolicyFetchReport, StsRecordReport,
    TlsRptReport,
};
use crate::smtp::{self, Failure};
use crate::sts_record::{is_sts_candidate, parse_sts_record};
use crate::tls::{self, TlsTrust};
use crate::tlsrpt_record::{is_tlsrpt_candidate, parse_tlsrpt_record};

/// Below this `max_age` (one day) the policy is called short.
const SHORT_MAX_AGE: u64 = 86_400;
/// A certificate expiring within this many days is a warning.
pub(crate) const EXPIRY_WARNING_DAYS: i64 = 14;

/// What every step of a check shares.
#[derive(Debug)]
pub(crate) struct Context {
    pub config: CheckConfig,
    pub dns: Dns,
    pub trust: TlsTrust,
}

impl Context {
    /// Why the SSRF guard refuses `ip`, or `None` when it may be connected to.
    pub(crate) fn refuse(&self, ip: IpAddr) -> Option<&'static str> {
        if self.config.allow_private_addresses {
            None
        } else {
            non_public_reason(ip)
        }
    }
}

/// Checks domains against RFC 8461 and RFC 8460. Cheap to clone; clones share the
/// resolver and trust anchors.
#[derive(Clone, Debug)]
pub struct Checker {
    ctx: Arc<Context>,
}

impl Checker {
    /// Builds a checker: loads the extra trust anchors and sets up the resolver.
    pub fn new(config: CheckConfig) -> Result<Self, CheckError> {
        let (extra_roots, ca_path) = match &config.ca_file {
            Some(path) => (load_pem(path)?, path.clone()),
            None => (Vec::new(), std::path::PathBuf::new()),
        };
        let trust = TlsTrust::new(extra_roots, &ca_path)?;
        let dns = Dns::new(&config)?;
        Ok(Self {
            ctx: Arc::new(Context { config, dns, trust }),
        })
    }

    /// The configuration this checker was built with.
    pub fn config(&self) -> &CheckConfig {
        &self.ctx.config
    }

    /// Checks many domains, at most `concurrency` at a time, calling `on_done` as each one
    /// finishes. The reports come back in the order of `domains`.
    pub async fn check_many(
        &self,
        domains: &[String],
        concurrency: usize,
        mut on_done: impl FnMut(&DomainReport),
    ) -> Vec<DomainReport> {
        let mut slots: Vec<Option<DomainReport>> = vec![None; domains.len()];
        let mut running = futures_util::stream::iter(domains.iter().enumerate())
            .map(|(i, domain)| async move { (i, self.check(domain).await) })
            .buffer_unordered(concurrency.max(1));
        while let Some((i, report)) = running.next().await {
            on_done(&report);
            if let Some(slot) = slots.get_mut(i) {
                *slot = Some(report);
            }
        }
        slots.into_iter().flatten().collect()
    }

    /// Checks one domain. Never fails: every problem is a finding in the report.
    pub async fn check(&self, domain: &str) -> DomainReport {
        let started = Instant::now();
        let checked_at = Utc::now();
        let Some(domain) = normalize_host(domain.trim()) else {
            let findings = vec![Finding::new(
                Code::DomainInvalid,
                Severity::Error,
                format!("`{domain}` is not a valid domain name."),
                "Give the mail domain as it appears after the @ in addresses, for example \
                 example.com.",
            )];
            return DomainReport {
                domain: domain.to_owned(),
                checked_at,
                elapsed_ms: elapsed_ms(started),
                verdict: DomainReport::verdict_of(&findings),
                sts_record: StsRecordReport::default(),
                policy: None,
                mx: MxReport::default(),
                tlsrpt: TlsRptReport::default(),
                findings,
            };
        };
        let ctx = &*self.ctx;
        let sts_name = format!("_mta-sts.{domain}");
        let tlsrpt_name = format!("_smtp._tls.{domain}");
        let (sts_answer, mx_answer, tlsrpt_answer) = tokio::join!(
            ctx.dns.txt(&sts_name),
            ctx.dns.mx(&domain),
            ctx.dns.txt(&tlsrpt_name)
        );

        let mut sts = StsStep::evaluate(&sts_name, sts_answer);
        let mut tlsrpt = TlsRptStep::evaluate(&tlsrpt_name, tlsrpt_answer);
        if sts.missing || tlsrpt.missing {
            misplaced_records(ctx, &domain, &mut sts, &mut tlsrpt).await;
        }

        let policy_step = async {
            if sts.candidates == 0 {
                return (None, None, Vec::new());
            }
            let mut report = PolicyFetchReport::default();
            let mut findings = Vec::new();
            let parse = fetch::fetch_policy(ctx, &domain, &mut report, &mut findings)
                .await
                .map(|body| parse_policy(&body));
            if let Some(parse) = &parse {
                findings.extend(policy_findings(parse, &report.url));
                report.policy = parse.policy().cloned();
            }
            (Some(report), parse, findings)
        };
        let ((policy_report, policy_parse, policy_findings), (mut mx, mut mx_findings)) =
            tokio::join!(policy_step, check_mx(ctx, &domain, mx_answer));

        let policy = policy_parse.as_ref().and_then(PolicyParse::policy);
        let alignment = policy.map(|p| align(p, &mut mx)).unwrap_or_default();
        mx_findings.splice(0..0, alignment);

        let mut findings = Vec::new();
        findings.extend(stamp(sts.findings, Section::StsRecord));
        findings.extend(stamp(policy_findings, Section::Policy));
        findings.extend(stamp(mx_findings, Section::Mx));
        findings.extend(stamp(tlsrpt.findings, Section::Tlsrpt));
        DomainReport {
            domain,
            checked_at,
            elapsed_ms: elapsed_ms(started),
            verdict: DomainReport::verdict_of(&findings),
            sts_record: sts.report,
            policy: policy_report,
            mx,
            tlsrpt: tlsrpt.report,
            findings,
        }
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn stamp(findings: Vec<Finding>, section: Section) -> impl Iterator<Item = Finding> {
    findings.into_iter().map(move |mut f| {
        f.section = section;
        f
    })
}

fn load_pem(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, CheckError> {
    let error = |reason: String| CheckError::CaFile {
        path: path.to_owned(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(e.to_string()))?;
    if certs.is_empty() {
        return Err(error("the file holds no PEM certificate".to_owned()));
    }
    Ok(certs)
}

fn dns_failure(query: &str, reason: &str, severity: Severity) -> Finding {
    Finding::new(
        Code::DnsTemporaryFailure,
        severity,
        format!(
            "The DNS query {query} failed temporarily: {reason}. This is not the same as the record being absent."
        ),
        "Nothing can be concluded about this record until DNS answers. Check that every \
         authoritative name server of the domain answers this query (no SERVFAIL, no timeout), \
         then run the check again.",
    )
}

fn quoted(records: &[String]) -> String {
    records
        .iter()
        .map(|r| format!("\"{r}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The TXT strings at `name`: none when the name has none (NXDOMAIN or NODATA); an error,
/// reported as a temporary DNS failure and never as "missing", when the lookup failed.
fn txt_records(
    name: &str,
    answer: Answer<Vec<String>>,
    findings: &mut Vec<Finding>,
) -> Result<Vec<String>, String> {
    match answer {
        Answer::Found(txt) => Ok(txt),
        Answer::Missing { .. } => Ok(Vec::new()),
        Answer::Failed(reason) => {
            findings.push(dns_failure(
                &format!("TXT {name}"),
                &reason,
                Severity::Error,
            ));
            Err(reason)
        }
    }
}

/// The `_mta-sts` TXT record (RFC 8461 §3.1).
struct StsStep {
    report: StsRecordReport,
    findings: Vec<Finding>,
    /// Number of records starting with `v=STSv1`.
    candidates: usize,
    /// The lookup answered and no candidate exists.
    missing: bool,
}

impl StsStep {
    fn evaluate(name: &str, answer: Answer<Vec<String>>) -> Self {
        let mut step = Self {
            report: StsRecordReport {
                name: name.to_owned(),
                ..StsRecordReport::default()
            },
            findings: Vec::new(),
            candidates: 0,
            missing: false,
        };
        let txt = match txt_records(name, answer, &mut step.findings) {
            Ok(txt) => txt,
            Err(reason) => {
                step.report.dns_error = Some(reason);
                return step;
            }
        };
        step.report.txt = txt.clone();
        let (candidates, others): (Vec<&String>, Vec<&String>) =
            txt.iter().partition(|t| is_sts_candidate(t));
        step.candidates = candidates.len();
        if !others.is_empty() {
            let list: Vec<String> = others.iter().map(|s| (*s).clone()).collect();
            step.findings.push(Finding::new(
                Code::StsRecordUnrelated,
                Severity::Info,
                format!(
                    "{name} also holds TXT records that are not MTA-STS records: {}. Senders ignore them.",
                    quoted(&list)
                ),
                "Nothing to fix for MTA-STS. Remove them if they were published here by mistake.",
            ));
        }
        match candidates.as_slice() {
            [] => {
                step.missing = true;
                let near_miss = others
                    .iter()
                    .find(|t| t.to_ascii_lowercase().starts_with("v=stsv1"))
                    .map(|t| {
                        format!(
                            " The record \"{t}\" looks like one, but `v=STSv1` is case-sensitive \
                             and must be followed by `;`."
                        )
                    })
                    .unwrap_or_default();
                step.findings.push(Finding::new(
                    Code::StsRecordMissing,
                    Severity::Error,
                    format!("There is no TXT record starting with v=STSv1 at {name}.{near_miss}"),
                    format!(
                        "Publish one TXT record at {name}, for example \"v=STSv1; id=20250101T000000\", \
                         once the policy is served at https://mta-sts.{}/.well-known/mta-sts.txt. \
                         Senders do not look at the parent domain.",
                        name.trim_start_matches("_mta-sts.")
                    ),
                ));
            }
            [one] => match parse_sts_record(one) {
                Ok(record) => step.report.record = Some(record),
                Err(e) => step.findings.push(Finding::new(
                    Code::StsRecordInvalid,
                    Severity::Error,
                    format!("The TXT record \"{one}\" at {name} is invalid: {e}."),
                    "Senders ignore an invalid record, so the domain has no MTA-STS policy. \
                     Publish exactly \"v=STSv1; id=<1 to 32 letters and digits>\", with fields \
                     separated by semicolons.",
                )),
            },
            many => step.findings.push(Finding::new(
                Code::StsRecordMultiple,
                Severity::Error,
                format!(
                    "{name} has {} TXT records starting with v=STSv1: {}. Senders treat this as \
                     no policy at all.",
                    many.len(),
                    quoted(&many.iter().map(|s| (*s).clone()).collect::<Vec<_>>())
                ),
                "Delete all but one v=STSv1 record. When rotating the id, replace the record \
                 instead of adding a second one.",
            )),
        }
        step
    }
}

/// The `_smtp._tls` TXT record (RFC 8460 §3).
struct TlsRptStep {
    report: TlsRptReport,
    findings: Vec<Finding>,
    missing: bool,
}

impl TlsRptStep {
    fn evaluate(name: &str, answer: Answer<Vec<String>>) -> Self {
        let mut step = Self {
            report: TlsRptReport {
                name: name.to_owned(),
                ..TlsRptReport::default()
            },
            findings: Vec::new(),
            missing: false,
        };
        let txt = match txt_records(name, answer, &mut step.findings) {
            Ok(txt) => txt,
            Err(reason) => {
                step.report.dns_error = Some(reason);
                return step;
            }
        };
        step.report.txt = txt.clone();
        let candidates: Vec<&String> = txt.iter().filter(|t| is_tlsrpt_candidate(t)).collect();
        match candidates.as_slice() {
            [] => {
                step.missing = true;
                step.findings.push(Finding::new(
                    Code::TlsrptRecordMissing,
                    Severity::Warning,
                    format!("There is no TXT record starting with v=TLSRPTv1 at {name}."),
                    format!(
                        "Without TLS-RPT, senders cannot report TLS failures, so moving to \
                         mode: enforce is blind. Publish \"v=TLSRPTv1; rua=mailto:tlsrpt@{}\" \
                         at {name}.",
                        name.trim_start_matches("_smtp._tls.")
                    ),
                ));
            }
            [one] => match parse_tlsrpt_record(one) {
                Ok(record) => step.report.record = Some(record),
                Err(e) => step.findings.push(Finding::new(
                    Code::TlsrptRecordInvalid,
                    Severity::Error,
                    format!("The TXT record \"{one}\" at {name} is invalid: {e}."),
                    "Senders ignore an invalid record and send no reports. Publish \
                     \"v=TLSRPTv1; rua=mailto:you@example.com\" (several URIs separated by \
                     commas; only mailto: and https:; `,` `!` `;` inside a URI written as %2C \
                     %21 %3B).",
                )),
            },
            many => step.findings.push(Finding::new(
                Code::TlsrptRecordMultiple,
                Severity::Error,
                format!(
                    "{name} has {} TXT records starting with v=TLSRPTv1: {}. Senders treat this \
                     as no TLS-RPT at all.",
                    many.len(),
                    quoted(&many.iter().map(|s| (*s).clone()).collect::<Vec<_>>())
                ),
                "Merge them into one record; several rua URIs go in one comma-separated rua \
                 field.",
            )),
        }
        step
    }
}

/// Looks for STS and TLS-RPT records published at the wrong name, when one is missing.
async fn misplaced_records(
    ctx: &Context,
    domain: &str,
    sts: &mut StsStep,
    tlsrpt: &mut TlsRptStep,
) {
    let legacy_name = format!("_smtp-tlsrpt.{domain}");
    let (apex, legacy) = tokio::join!(ctx.dns.txt(domain), async {
        if tlsrpt.missing {
            ctx.dns.txt(&legacy_name).await
        } else {
            Answer::Missing { nxdomain: false }
        }
    });
    let apex = match apex {
        Answer::Found(txt) => txt,
        _ => Vec::new(),
    };
    if sts.missing {
        let mut places: Vec<(String, &String)> = apex
            .iter()
            .filter(|t| is_sts_candidate(t))
            .map(|t| (domain.to_owned(), t))
            .collect();
        places.extend(
            tlsrpt
                .report
                .txt
                .iter()
                .filter(|t| is_sts_candidate(t))
                .map(|t| (tlsrpt.report.name.clone(), t)),
        );
        for (name, txt) in places {
            sts.findings.push(Finding::new(
                Code::StsRecordMisplaced,
                Severity::Warning,
                format!("The MTA-STS record \"{txt}\" is published at {name} instead of _mta-sts.{domain}."),
                format!("Move it to _mta-sts.{domain}; senders only look there."),
            ));
        }
    }
    if tlsrpt.missing {
        let legacy = match legacy {
            Answer::Found(txt) => txt,
            _ => Vec::new(),
        };
        let mut places: Vec<(String, &String)> = Vec::new();
        places.extend(
            legacy
                .iter()
                .filter(|t| is_tlsrpt_candidate(t))
                .map(|t| (legacy_name.clone(), t)),
        );
        places.extend(
            apex.iter()
                .filter(|t| is_tlsrpt_candidate(t))
                .map(|t| (domain.to_owned(), t)),
        );
        places.extend(
            sts.report
                .txt
                .iter()
                .filter(|t| is_tlsrpt_candidate(t))
                .map(|t| (sts.report.name.clone(), t)),
        );
        for (name, txt) in places {
            let why = if name == legacy_name {
                " (_smtp-tlsrpt is the name used by drafts of RFC 8460, not by the RFC)"
            } else {
                ""
            };
            tlsrpt.findings.push(Finding::new(
                Code::TlsrptRecordMisplaced,
                Severity::Warning,
                format!("The TLS-RPT record \"{txt}\" is published at {name}{why} instead of _smtp._tls.{domain}."),
                format!("Publish it at _smtp._tls.{domain}; senders only look there."),
            ));
        }
    }
}

/// Findings about the content of a fetched policy (RFC 8461 §3.2).
fn policy_findings(parse: &PolicyParse, url: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    if parse.mixed_line_endings {
        findings.push(Finding::new(
            Code::PolicyMixedLineEndings,
            Severity::Info,
            format!("The policy at {url} mixes LF and CRLF line endings."),
            "Both are allowed (RFC 8461 erratum 6253), so senders accept it; using one style \
             throughout avoids surprises with older parsers.",
        ));
    }
    for (field, first, again, first_value, value) in &parse.duplicates {
        findings.push(Finding::new(
            Code::PolicyDuplicateField,
            Severity::Warning,
            format!(
                "The policy at {url} sets {field} twice: line {first} `{first_value}` and line \
                 {again} `{value}`. The first one applies."
            ),
            format!("Delete line {again} so the policy says what it means, then rotate the id in the _mta-sts TXT record."),
        ));
    }
    for (line, key) in &parse.unknown {
        let hint = ["version", "mode", "max_age", "mx"]
            .iter()
            .find(|k| {
                k.eq_ignore_ascii_case(key) || k.replace('_', "-") == key.to_ascii_lowercase()
            })
            .map(|k| format!(" Field names are case-sensitive and exact: did you mean `{k}`?"))
            .unwrap_or_default();
        findings.push(Finding::new(
            Code::PolicyUnknownField,
            Severity::Info,
            format!("Line {line} of the policy at {url} has the unknown field `{key}`, which senders ignore.{hint}"),
            "Nothing to fix unless the field was meant to be one of version, mode, max_age or mx.",
        ));
    }
    if parse.trailing_blank_lines > 0 {
        findings.push(Finding::new(
            Code::PolicyTrailingBlankLine,
            Severity::Warning,
            format!(
                "The policy at {url} ends with {} blank line(s) after the last field; the \
                 grammar allows only one line terminator there.",
                parse.trailing_blank_lines
            ),
            "Remove the blank lines at the end of the file. Most senders accept it, a strict one may not.",
        ));
    }
    let policy = match &parse.result {
        Some(Ok(policy)) => policy,
        Some(Err(e)) => {
            findings.push(Finding::new(
                Code::PolicyInvalid,
                Severity::Error,
                format!("The policy at {url} is invalid: {e}."),
                "Senders discard an invalid policy, so the domain has no MTA-STS protection. A \
                 policy is lines of `key: value`: version: STSv1, mode: enforce|testing|none, \
                 max_age: <seconds>, and one mx: line per MX host or *.wildcard.",
            ));
            return findings;
        }
        None => return findings,
    };
    match policy.mode {
        Mode::Testing => findings.push(Finding::new(
            Code::PolicyModeTesting,
            Severity::Warning,
            format!("The policy at {url} is in mode: testing; senders report failures but still deliver over unauthenticated connections."),
            "Once TLS-RPT reports show no failures for a few weeks, change the policy to mode: enforce and rotate the id in the _mta-sts TXT record.",
        )),
        Mode::None => findings.push(Finding::new(
            Code::PolicyModeNone,
            Severity::Warning,
            format!("The policy at {url} is in mode: none; the domain is withdrawing MTA-STS."),
            "Keep it only while removing MTA-STS. Otherwise publish mode: testing or enforce with the MX hosts, and rotate the id.",
        )),
        Mode::Enforce => {}
    }
    if policy.max_age < SHORT_MAX_AGE {
        findings.push(Finding::new(
            Code::PolicyMaxAgeShort,
            Severity::Warning,
            format!(
                "The policy at {url} has max_age: {}, less than one day; senders drop it \
                 quickly, which weakens protection against downgrade attacks.",
                policy.max_age
            ),
            "Use at least 86400 (a day) while testing and 604800 (a week) or more, up to 31557600, in enforce mode.",
        ));
    }
    for pattern in policy.mx.iter().filter(|p| p.has_u_labels()) {
        findings.push(Finding::new(
            Code::PolicyMxNotALabel,
            Severity::Warning,
            format!(
                "The policy at {url} writes the mx pattern `{}` with U-labels; the checker compares it as `{}{}`.",
                pattern.text,
                if pattern.wildcard { "*." } else { "" },
                pattern.domain
            ),
            "Write mx patterns in A-label (xn--) form so that every sender compares them the same way.",
        ));
    }
    findings
}

/// MX alignment in both directions (RFC 8461 §4.1).
fn align(policy: &Policy, mx: &mut MxReport) -> Vec<Finding> {
    let mut findings = Vec::new();
    if policy.mode == Mode::None || mx.dns_error.is_some() || mx.null_mx || mx.hosts.is_empty() {
        return findings;
    }
    let patterns: Vec<&str> = policy.mx.iter().map(|p| p.text.as_str()).collect();
    let mut used = BTreeSet::new();
    for host in &mut mx.hosts {
        let matched = policy.mx.iter().position(|p| p.matches(&host.name));
        if let Some(i) = matched {
            used.insert(i);
            host.policy_match = policy.mx.get(i).map(|p| p.text.clone());
            continue;
        }
        let (severity, consequence) = match policy.mode {
            Mode::Enforce => (
                Severity::Error,
                "senders that enforce the policy refuse to deliver to it",
            ),
            _ => (
                Severity::Warning,
                "in mode: enforce senders would refuse to deliver to it",
            ),
        };
        let what = if host.preference.is_none() {
            format!(
                "The implicit MX {} (the domain has no MX records)",
                host.name
            )
        } else {
            format!("The MX host {}", host.name)
        };
        findings.push(Finding::new(
            Code::MxNotInPolicy,
            severity,
            format!(
                "{what} matches no mx pattern of the policy ({}); {consequence}.",
                patterns.join(", ")
            ),
            format!(
                "Add `mx: {}` to the policy (a `*.` pattern covers exactly one extra label), \
                 publish it, then rotate the id in the _mta-sts TXT record.",
                host.name
            ),
        ));
    }
    for (i, pattern) in policy.mx.iter().enumerate() {
        if !used.contains(&i) {
            findings.push(Finding::new(
                Code::PolicyMxUnused,
                Severity::Warning,
                format!(
                    "The policy lists {}, which no MX record uses any more.",
                    pattern.text
                ),
                "Remove that line, publish the change, then rotate the id in the _mta-sts TXT \
                 record. Stale patterns usually remain after a provider migration.",
            ));
        }
    }
    findings
}

/// Resolves and probes every MX host (RFC 8461 §4).
async fn check_mx(
    ctx: &Context,
    domain: &str,
    answer: Answer<Vec<(u16, String)>>,
) -> (MxReport, Vec<Finding>) {
    let mut report = MxReport::default();
    let mut findings = Vec::new();
    let hosts: Vec<(Option<u16>, String)> = match answer {
        Answer::Failed(reason) => {
            findings.push(dns_failure(
                &format!("MX {domain}"),
                &reason,
                Severity::Error,
            ));
            report.dns_error = Some(reason);
            return (report, findings);
        }
        Answer::Missing { .. } => {
            report.implicit = true;
            findings.push(Finding::new(
                Code::MxImplicit,
                Severity::Info,
                format!(
                    "{domain} has no MX records, so mail goes to the domain's own A/AAAA \
                     address (implicit MX). {domain} is probed as the MX host and must match \
                     the policy."
                ),
                "Publish an explicit MX record if mail should go elsewhere; with an implicit \
                 MX the policy needs an `mx:` line for the domain itself.",
            ));
            vec![(None, domain.to_owned())]
        }
        Answer::Found(records) => {
            if records
                .iter()
                .any(|(_, host)| normalize_host(host).is_none())
            {
                report.null_mx = true;
                findings.push(Finding::new(
                    Code::MxNull,
                    Severity::Info,
                    format!(
                        "{domain} publishes a null MX (\"0 .\", RFC 7505): it accepts no mail."
                    ),
                    "MTA-STS and TLS-RPT are pointless for a domain that receives no mail; \
                     remove them or the null MX.",
                ));
                return (report, findings);
            }
            let mut seen = BTreeSet::new();
            records
                .into_iter()
                .filter_map(|(pref, host)| normalize_host(&host).map(|h| (Some(pref), h)))
                .filter(|(_, h)| seen.insert(h.clone()))
                .collect()
        }
    };
    let results = join_all(
        hosts
            .iter()
            .map(|(pref, name)| check_host(ctx, name, *pref)),
    )
    .await;
    for (host, host_findings) in results {
        report.hosts.push(host);
        findings.extend(host_findings);
    }
    (report, findings)
}

async fn check_host(
    ctx: &Context,
    name: &str,
    preference: Option<u16>,
) -> (MxHostReport, Vec<Finding>) {
    let mut report = MxHostReport {
        name: name.to_owned(),
        preference,
        ..MxHostReport::default()
    };
    let mut findings = Vec::new();
    let tlsa_name = format!("_25._tcp.{name}");
    let (addresses, tlsa) = tokio::join!(ctx.dns.addresses(name), ctx.dns.tlsa_count(&tlsa_name));
    match tlsa {
        Answer::Found(count) => {
            report.tlsa = Some(true);
            findings.push(Finding::new(
                Code::TlsaPresent,
                Severity::Info,
                format!("{tlsa_name} has {count} TLSA record(s): {name} also publishes DANE."),
                "Nothing to fix. Senders that support DANE use it instead of MTA-STS for this \
                 host; keep the TLSA records in step with certificate renewals.",
            ));
        }
        Answer::Missing { .. } => report.tlsa = Some(false),
        Answer::Failed(reason) => {
            findings.push(dns_failure(
                &format!("TLSA {tlsa_name}"),
                &reason,
                Severity::Warning,
            ));
        }
    }
    for (rtype, reason) in &addresses.failures {
        findings.push(dns_failure(
            &format!("{rtype} {name}"),
            reason,
            Severity::Error,
        ));
    }
    if addresses.ips.is_empty() {
        if addresses.failures.is_empty() {
            findings.push(if preference.is_none() {
                Finding::new(
                    Code::MxNone,
                    Severity::Error,
                    format!("{name} has neither MX records nor an A or AAAA record: no host receives its mail."),
                    format!("Publish MX records for {name} pointing at the hosts that receive its mail."),
                )
            } else {
                Finding::new(
                    Code::MxNoAddress,
                    Severity::Error,
                    format!("The MX host {name} has no A or AAAA record."),
                    format!("Publish an address for {name}, or remove the MX record that points at it."),
                )
            });
        }
        return (report, findings);
    }

    let mut probes = Vec::new();
    let mut slots: Vec<AddressProbe> = Vec::new();
    for ip in &addresses.ips {
        match ctx.refuse(*ip) {
            Some(reason) => {
                let mut skipped = AddressProbe::new(*ip);
                skipped.skipped = Some(format!("{reason} address, not public"));
                slots.push(skipped);
                findings.push(Finding::new(
                    Code::AddressNotPublic,
                    Severity::Error,
                    format!("The MX host {name} resolves to {ip}, a {reason} address; the checker did not connect to it."),
                    format!(
                        "Publish only public addresses for {name}: senders on the internet \
                         cannot reach {ip}. (When checking a lab network on purpose, run with \
                         --allow-private-addresses.)"
                    ),
                ));
            }
            None => probes.push(smtp::probe(ctx, name, *ip)),
        }
    }
    for (probe, failure) in join_all(probes).await {
        findings.extend(probe_findings(name, &probe, failure));
        slots.push(probe);
    }
    slots.sort_by_key(|p| addresses.ips.iter().position(|ip| *ip == p.address));
    report.addresses = slots;
    (report, findings)
}

fn probe_findings(host: &str, probe: &AddressProbe, failure: Option<Failure>) -> Vec<Finding> {
    let ip = probe.address;
    let detail = probe.error.clone().unwrap_or_default();
    let mut findings = Vec::new();
    match failure {
        Some(Failure::Unreachable) => findings.push(Finding::new(
            Code::MxUnreachable,
            Severity::Warning,
            format!("Could not connect to the MX host {host} at {ip}: {detail}. STARTTLS was not tested on this address."),
            format!(
                "Port 25 is often blocked from where a checker runs, so this may be local. If \
                 senders cannot reach {ip} either, fix the firewall or remove the address from \
                 {host}."
            ),
        )),
        Some(Failure::Smtp) => findings.push(Finding::new(
            Code::MxSmtpError,
            Severity::Warning,
            format!("The MX host {host} at {ip} did not complete the SMTP greeting and EHLO: {detail}."),
            format!("Check that {ip} runs a working SMTP server on port 25 that answers EHLO."),
        )),
        Some(Failure::NoStartTls) => findings.push(Finding::new(
            Code::MxStarttlsMissing,
            Severity::Error,
            format!("The MX host {host} at {ip} does not offer STARTTLS: {detail}."),
            format!(
                "Enable STARTTLS on {host} with a valid certificate for that name; under \
                 mode: enforce senders refuse to deliver to a host without it."
            ),
        )),
        Some(Failure::Tls) => findings.push(Finding::new(
            Code::MxTlsFailed,
            Severity::Error,
            format!("STARTTLS with the MX host {host} at {ip} failed: {detail}."),
            format!("Fix the TLS configuration of {host}: it must complete a TLS 1.2 or 1.3 handshake after STARTTLS."),
        )),
        None => {}
    }
    let Some(cert) = probe.tls.as_ref().and_then(|t| t.certificate.as_ref()) else {
        return findings;
    };
    let at = format!("{host} at {ip}");
    if !cert.chain_trusted {
        findings.push(Finding::new(
            Code::MxCertUntrusted,
            Severity::Error,
            format!(
                "The certificate of {at} (issuer {}) is not trusted: {}.",
                cert.issuer,
                cert.chain_error.as_deref().unwrap_or("unknown reason")
            ),
            format!(
                "Install a certificate for {host} from a CA that senders trust, and serve the \
                 intermediate certificates with it. MTA-STS senders do not accept self-signed \
                 or private-CA certificates."
            ),
        ));
    }
    if !cert.name_matches {
        findings.push(Finding::new(
            Code::MxCertNameMismatch,
            Severity::Error,
            format!("At {ip}, {}.", tls::name_mismatch(cert, host)),
            format!(
                "Use a certificate whose subjectAltName lists {host} (or a wildcard for its \
                 parent); MTA-STS senders check the MX name, not the CN."
            ),
        ));
    }
    let now = Utc::now();
    if cert.not_after < now {
        findings.push(Finding::new(
            Code::MxCertExpired,
            Severity::Error,
            format!(
                "The certificate of {at} expired on {}.",
                cert.not_after.format("%Y-%m-%d %H:%M UTC")
            ),
            format!("Renew the certificate of {host} now and automate renewal."),
        ));
    } else if cert.not_before > now {
        findings.push(Finding::new(
            Code::MxCertNotYetValid,
            Severity::Error,
            format!(
                "The certificate of {at} is not valid before {}.",
                cert.not_before.format("%Y-%m-%d %H:%M UTC")
            ),
            format!("Check the clock of the CA tooling and of {host}, and install a certificate that is valid now."),
        ));
    } else if cert.days_remaining < EXPIRY_WARNING_DAYS {
        findings.push(Finding::new(
            Code::MxCertExpiring,
            Severity::Warning,
            format!(
                "The certificate of {at} expires on {}, in {} day(s).",
                cert.not_after.format("%Y-%m-%d %H:%M UTC"),
                cert.days_remaining
            ),
            format!("Renew the certificate of {host} before it expires; check that automatic renewal works."),
        ));
    }
    findings
}
