//! The plan (READINESS.md "The plan"): the exact change to publish, in order, when the
//! domain is ready; otherwise the fixes, most harmful problem first.

use chrono::{DateTime, Utc};
use tlsrpt_check::{DomainReport, Mode};

use crate::assessment::{Criterion, Projection, Status, Step};
use crate::criterion::{CriterionId, Group};
use crate::live::publish_max_age;
use crate::projection::percent;
use crate::thresholds::Thresholds;

/// Which situation the plan is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Case {
    /// Judge the move from testing to enforce.
    Testing,
    /// Already enforcing: regression monitoring.
    Enforce,
    /// No MTA-STS record and no reporter saw a policy.
    NoMtaSts,
    /// `mode: none`.
    Withdrawn,
    /// A null MX: the domain accepts no mail.
    NoMail,
}

/// What the plan reads.
#[derive(Debug)]
pub(crate) struct Inputs<'a> {
    pub case: Case,
    pub ready: bool,
    pub domain: &'a str,
    pub now: DateTime<Utc>,
    pub live: Option<&'a DomainReport>,
    pub criteria: &'a [Criterion],
    pub projection: &'a Projection,
    pub thresholds: &'a Thresholds,
}

/// The steps, numbered from 1.
pub(crate) fn plan(i: &Inputs<'_>) -> Vec<Step> {
    let steps = match i.case {
        Case::NoMail => Vec::new(),
        Case::Enforce => {
            // Under enforce a broken configuration bounces mail today: fix it first.
            let mut steps = fixes(i, |id| {
                id.group() == Group::Configuration
                    || matches!(id, CriterionId::MxCertExpiry | CriterionId::TlsrptRecord)
            });
            steps.extend(monitoring(i));
            steps
        }
        Case::NoMtaSts | Case::Withdrawn => start_testing(i),
        Case::Testing if i.ready => go_enforce(i),
        Case::Testing => fixes(i, |_| true),
    };
    steps
        .into_iter()
        .zip(1..)
        .map(|((title, detail, text), order)| Step {
            order,
            title,
            detail,
            text,
        })
        .collect()
}

type Draft = (String, String, Option<String>);

fn draft(title: &str, detail: String, text: Option<String>) -> Draft {
    (title.to_owned(), detail, text)
}

fn go_enforce(i: &Inputs<'_>) -> Vec<Draft> {
    let max_age = publish_max_age(i.live, i.thresholds);
    let mut steps = vec![
        draft(
            "Publish the enforce policy",
            format!(
                "Replace the policy file at {} with exactly this text, served over HTTPS as \
                 text/plain. Senders keep their cached testing policy until the TXT id \
                 changes, so nothing changes for them yet.",
                policy_url(i.domain)
            ),
            Some(policy_text(i.live, Mode::Enforce, max_age)),
        ),
        draft(
            "Check that the new policy is served",
            format!(
                "Run `tlsrpt check {}`: it must report mode: enforce and no error. Behind a \
                 CDN or several web servers, make sure every one serves the new file.",
                i.domain
            ),
            None,
        ),
        draft(
            "Rotate the id in the _mta-sts TXT record",
            "Replace the TXT record with this one. Senders fetch the new policy when they \
             see the new id; only then does enforce take effect."
                .to_owned(),
            Some(sts_txt(i)),
        ),
        draft(
            "Watch the reports",
            format!(
                "For the next {} days (the max_age), read the daily reports: every \
                 TLS-negotiation failure is now a refused delivery. Before adding or renaming \
                 an MX host, add it to the policy and rotate the id first; renew MX \
                 certificates well ahead of expiry.",
                max_age / 86_400
            ),
            None,
        ),
    ];
    if max_age < i.thresholds.stable_max_age {
        steps.push(draft(
            "Raise max_age once stable",
            format!(
                "After two clean weeks in enforce, publish this policy (max_age {} or more, up \
                 to 31557600) and rotate the TXT id again.",
                i.thresholds.stable_max_age
            ),
            Some(policy_text(
                i.live,
                Mode::Enforce,
                i.thresholds.stable_max_age,
            )),
        ));
    }
    steps
}

fn monitoring(i: &Inputs<'_>) -> Vec<Draft> {
    let p = i.projection;
    let mut steps = vec![draft(
        "Monitor for regressions",
        format!(
            "The domain already enforces MTA-STS, so TLS-negotiation failures are refused \
             deliveries: {} of {} session(s) ({}) over the window. Review them daily; before \
             changing MX hosts, add them to the policy and rotate the TXT id first; renew MX \
             certificates well ahead of expiry.",
            p.would_refuse_sessions,
            p.total_sessions,
            percent(p.would_refuse_share)
        ),
        None,
    )];
    let current = i
        .live
        .and_then(|r| r.policy.as_ref())
        .and_then(|f| f.policy.as_ref())
        .map(|p| p.max_age);
    if let Some(current) = current.filter(|m| *m < i.thresholds.stable_max_age) {
        steps.push(draft(
            "Raise max_age",
            format!(
                "The policy's max_age is {current}; once enforce has run cleanly for two \
                 weeks, publish {} or more and rotate the TXT id.",
                i.thresholds.stable_max_age
            ),
            Some(policy_text(
                i.live,
                Mode::Enforce,
                i.thresholds.stable_max_age,
            )),
        ));
    }
    steps
}

fn start_testing(i: &Inputs<'_>) -> Vec<Draft> {
    let mut steps = Vec::new();
    if failing(i, CriterionId::TlsrptRecord) {
        steps.push(tlsrpt_step(i));
    }
    steps.push(draft(
        "Publish a testing policy",
        format!(
            "Serve this text at {} over HTTPS as text/plain, with a certificate valid for \
             mta-sts.{}. In mode: testing senders report failures but still deliver.",
            policy_url(i.domain),
            i.domain
        ),
        Some(policy_text(i.live, Mode::Testing, TESTING_MAX_AGE)),
    ));
    steps.push(draft(
        "Publish the _mta-sts TXT record",
        "Publish it after the policy is served; senders fetch the policy when they see the \
         record."
            .to_owned(),
        Some(sts_txt(i)),
    ));
    steps.push(draft(
        "Collect reports",
        format!(
            "Wait for at least {} days of reports from {} or more organisations, then assess \
             the domain again.",
            i.thresholds.window_days, i.thresholds.min_organisations
        ),
        None,
    ));
    steps
}

/// The fixes for the failing criteria that `wanted` selects, by [`CriterionId::fix_rank`];
/// the TLS-failure and report-coverage criteria each collapse into one step.
fn fixes(i: &Inputs<'_>, wanted: impl Fn(CriterionId) -> bool) -> Vec<Draft> {
    let mut failing: Vec<&Criterion> = i
        .criteria
        .iter()
        .filter(|c| c.status == Status::Fail && wanted(c.id))
        .collect();
    failing.sort_by_key(|c| c.id.fix_rank());
    let mut steps: Vec<Draft> = Vec::new();
    let mut done_tls = false;
    let mut done_reports = false;
    for c in failing {
        let step = match c.id {
            CriterionId::TlsFailureRate | CriterionId::TlsFailuresRecent => {
                if std::mem::replace(&mut done_tls, true) {
                    continue;
                }
                tls_step(i)
            }
            CriterionId::ReportDays
            | CriterionId::ReportOrganisations
            | CriterionId::ReportSessions => {
                if std::mem::replace(&mut done_reports, true) {
                    continue;
                }
                reports_step(i)
            }
            CriterionId::StsRecord => draft(
                "Publish one valid _mta-sts TXT record",
                with_evidence(
                    c,
                    "Exactly one TXT record starting with v=STSv1 must exist.",
                ),
                Some(sts_txt(i)),
            ),
            CriterionId::PolicyFetch => draft(
                "Serve the policy file correctly",
                with_evidence(
                    c,
                    &format!(
                        "{} must answer 200 with Content-Type text/plain, without a redirect, \
                         over HTTPS with a certificate valid for mta-sts.{}.",
                        policy_url(i.domain),
                        i.domain
                    ),
                ),
                None,
            ),
            CriterionId::PolicyValid => draft(
                "Fix the policy file",
                with_evidence(c, "A corrected testing policy for the current MX hosts:"),
                Some(policy_text(i.live, Mode::Testing, TESTING_MAX_AGE)),
            ),
            CriterionId::MxCoverage => draft(
                "Add every MX host to the policy",
                with_evidence(
                    c,
                    "Publish this policy, then rotate the id in the _mta-sts TXT record.",
                ),
                Some(policy_text(i.live, Mode::Testing, TESTING_MAX_AGE)),
            ),
            CriterionId::MxTls => draft(
                "Fix STARTTLS and certificates on the MX hosts",
                with_evidence(c, ""),
                None,
            ),
            CriterionId::MxCertExpiry => draft(
                "Renew the MX certificates",
                with_evidence(c, "Renew them, and check that renewal is automatic."),
                None,
            ),
            CriterionId::PolicyMatch => draft(
                "Make every reporter see the live policy",
                with_evidence(
                    c,
                    &format!(
                        "Senders keep a policy until its max_age runs out or the TXT id \
                         changes. If the policy changed, rotate the id in the _mta-sts TXT \
                         record and wait for new reports; if it did not, check that every \
                         server behind mta-sts.{} serves the same file.",
                        i.domain
                    ),
                ),
                None,
            ),
            CriterionId::TlsrptRecord => tlsrpt_step(i),
            CriterionId::LiveCheck => draft(
                "Run a live check",
                format!(
                    "{} Run `tlsrpt check {}`, then assess again.",
                    c.summary, i.domain
                ),
                None,
            ),
            CriterionId::PolicyMode
            | CriterionId::ReportTrust
            | CriterionId::PolicyFetchFailures => draft(c.id.title(), c.summary.clone(), None),
        };
        steps.push(step);
    }
    steps
}

fn tls_step(i: &Inputs<'_>) -> Draft {
    let p = i.projection;
    let worst: Vec<String> = p
        .by_mx
        .iter()
        .filter(|b| b.would_refuse_sessions > 0)
        .take(3)
        .map(|b| format!("{} ({} session(s))", b.key, b.would_refuse_sessions))
        .collect();
    let evidence = i
        .criteria
        .iter()
        .filter(|c| c.id == CriterionId::TlsFailureRate)
        .flat_map(|c| c.evidence.first())
        .next()
        .map(|e| format!(" The largest group: {e}"))
        .unwrap_or_default();
    draft(
        "Fix the TLS failures enforce would refuse",
        format!(
            "{} session(s) ({}) over the window failed TLS negotiation with an MX host the \
             policy covers; under enforce each would have been refused. Most affected MX \
             hosts: {}.{evidence} Then wait for {} clean day(s) of reports.",
            p.would_refuse_sessions,
            percent(p.would_refuse_share),
            if worst.is_empty() {
                "none in the window".to_owned()
            } else {
                worst.join(", ")
            },
            i.thresholds.clean_recent_days
        ),
        None,
    )
}

fn reports_step(i: &Inputs<'_>) -> Draft {
    let summaries: Vec<&str> = i
        .criteria
        .iter()
        .filter(|c| {
            c.status == Status::Fail
                && matches!(
                    c.id,
                    CriterionId::ReportDays
                        | CriterionId::ReportOrganisations
                        | CriterionId::ReportSessions
                )
        })
        .map(|c| c.summary.as_str())
        .collect();
    draft(
        "Wait for more reports",
        format!(
            "{} Keep the TLS-RPT record published; large senders report daily.",
            summaries.join(" ")
        ),
        None,
    )
}

fn tlsrpt_step(i: &Inputs<'_>) -> Draft {
    draft(
        "Publish the TLS-RPT record",
        "Publish this record, with the address of the mailbox tlsrpt reads (or your HTTPS \
         endpoint) in place of the example one."
            .to_owned(),
        Some(format!(
            "_smtp._tls.{}. IN TXT \"v=TLSRPTv1; rua=mailto:tls-reports@{}\"",
            i.domain, i.domain
        )),
    )
}

fn failing(i: &Inputs<'_>, id: CriterionId) -> bool {
    i.criteria
        .iter()
        .any(|c| c.id == id && c.status == Status::Fail)
}

fn with_evidence(c: &Criterion, advice: &str) -> String {
    let mut parts = vec![c.summary.clone()];
    parts.extend(c.evidence.iter().cloned());
    if !advice.is_empty() {
        parts.push(advice.to_owned());
    }
    parts.join(" ")
}

/// The `max_age` of a testing policy the plan proposes: one day.
const TESTING_MAX_AGE: u64 = 86_400;

fn policy_url(domain: &str) -> String {
    format!("https://mta-sts.{domain}/.well-known/mta-sts.txt")
}

/// A policy file for `mode`: the live policy's mx lines that still match an MX host, then
/// every MX host no line covers. Without a live check, the live policy's lines alone.
pub(crate) fn policy_text(live: Option<&DomainReport>, mode: Mode, max_age: u64) -> String {
    let patterns = live
        .and_then(|r| r.policy.as_ref())
        .and_then(|f| f.policy.as_ref())
        .map(|p| p.mx.as_slice())
        .unwrap_or_default();
    let hosts: Vec<&str> = live
        .map(|r| r.mx.hosts.iter().map(|h| h.name.as_str()).collect())
        .unwrap_or_default();
    let mut mx: Vec<String> = patterns
        .iter()
        .filter(|p| hosts.is_empty() || hosts.iter().any(|h| p.matches(h)))
        .map(|p| p.text.clone())
        .collect();
    for host in hosts {
        if !patterns.iter().any(|p| p.matches(host)) && !mx.iter().any(|m| m == host) {
            mx.push(host.to_owned());
        }
    }
    let mut text = format!("version: STSv1\nmode: {}\n", mode.as_str());
    for m in mx {
        text.push_str(&format!("mx: {m}\n"));
    }
    text.push_str(&format!("max_age: {max_age}\n"));
    text
}

/// The `_mta-sts` TXT record with a fresh id: the assessment time as `YYYYMMDDHHMMSS`,
/// with a letter added if the current id happens to be the same.
fn sts_txt(i: &Inputs<'_>) -> String {
    let mut id = i.now.format("%Y%m%d%H%M%S").to_string();
    let current = i
        .live
        .and_then(|r| r.sts_record.record.as_ref())
        .map(|r| r.id.as_str());
    if current == Some(id.as_str()) {
        id.push('a');
    }
    format!("_mta-sts.{}. IN TXT \"v=STSv1; id={id}\"", i.domain)
}
