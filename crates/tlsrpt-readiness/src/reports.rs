//! Criteria judged on the reports of the window: coverage (days, organisations, sessions,
//! authentication), the TLS failures enforce would refuse, the policy reporters saw, and
//! the policy-fetch failures.

use std::collections::{BTreeMap, BTreeSet};

use tlsrpt_check::DomainReport;

use crate::assessment::{Criterion, PolicyComparison, Projection, Status};
use crate::counts::{add, sum};
use crate::criterion::CriterionId;
use crate::evidence::{Excluded, FailureRow};
use crate::live::time;
use crate::projection::{Coverage, Outcome, classify, percent};
use crate::thresholds::Thresholds;
use crate::window::Windowed;

/// At most this many evidence lines list failures; the rest are counted.
const MAX_LINES: usize = 10;

/// What the report criteria read.
#[derive(Debug)]
pub(crate) struct Inputs<'a> {
    pub windowed: &'a Windowed<'a>,
    pub coverage: &'a Coverage,
    pub projection: &'a Projection,
    pub comparison: &'a PolicyComparison,
    pub excluded: Excluded,
    pub live: Option<&'a DomainReport>,
    pub thresholds: &'a Thresholds,
}

/// Every report criterion, in listing order.
pub(crate) fn criteria(i: &Inputs<'_>) -> Vec<Criterion> {
    vec![
        report_days(i),
        report_organisations(i),
        report_sessions(i),
        report_trust(i),
        tls_failure_rate(i),
        tls_failures_recent(i),
        policy_match(i),
        policy_fetch_failures(i),
    ]
}

fn window_words(i: &Inputs<'_>) -> String {
    let w = &i.windowed.window;
    format!("the {} days from {} to {}", w.days, w.since, w.until)
}

fn report_days(i: &Inputs<'_>) -> Criterion {
    let days = i.windowed.report_days();
    let needed = i
        .thresholds
        .min_days_with_reports
        .min(i.windowed.window.days);
    let have = u32::try_from(days.len()).unwrap_or(u32::MAX);
    let mut evidence = Vec::new();
    if let Some(last) = days.last() {
        evidence.push(format!("The last day with a report is {last}."));
    }
    Criterion {
        id: CriterionId::ReportDays,
        status: if have >= needed && have > 0 {
            Status::Pass
        } else {
            Status::Fail
        },
        summary: format!(
            "Reports cover {have} of {}; at least {needed} are needed.",
            window_words(i)
        ),
        evidence,
    }
}

fn report_organisations(i: &Inputs<'_>) -> Criterion {
    let reporters = i.windowed.reporters();
    let have = reporters.len();
    let needed = usize::try_from(i.thresholds.min_organisations.max(1)).unwrap_or(usize::MAX);
    let widened = if i.windowed.window.widened {
        format!(
            " The window was widened from {} days to find them.",
            i.thresholds.window_days
        )
    } else {
        String::new()
    };
    let evidence = reporters
        .iter()
        .map(|(org, a)| {
            format!(
                "{org}: {} report(s) on {} day(s), {} session(s), {} failed, last on {}.",
                a.reports,
                a.days.len(),
                a.sessions,
                a.failed,
                a.days.last().map(ToString::to_string).unwrap_or_default()
            )
        })
        .collect();
    Criterion {
        id: CriterionId::ReportOrganisations,
        status: if have >= needed {
            Status::Pass
        } else {
            Status::Fail
        },
        summary: format!(
            "{have} distinct organisation(s) reported over {}; at least {needed} are needed.{widened}",
            window_words(i)
        ),
        evidence,
    }
}

fn report_sessions(i: &Inputs<'_>) -> Criterion {
    let have = i.projection.total_sessions;
    let needed = i.thresholds.min_sessions.max(1);
    Criterion {
        id: CriterionId::ReportSessions,
        status: if have >= needed {
            Status::Pass
        } else {
            Status::Fail
        },
        summary: format!(
            "Reports cover {have} session(s) over {}; at least {needed} are needed.",
            window_words(i)
        ),
        evidence: Vec::new(),
    }
}

fn report_trust(i: &Inputs<'_>) -> Criterion {
    let e = i.excluded;
    if e.untrusted_reports == 0 {
        return Criterion {
            id: CriterionId::ReportTrust,
            status: Status::Pass,
            summary: "Every report counted is authenticated (DKIM-verified mail, an \
                      authenticated upload, or an operator import)."
                .to_owned(),
            evidence: Vec::new(),
        };
    }
    Criterion {
        id: CriterionId::ReportTrust,
        status: Status::Warn,
        summary: format!(
            "{} unauthenticated report(s), claiming {} session(s), were left out of every \
             figure: anyone can send a report.",
            e.untrusted_reports, e.untrusted_sessions
        ),
        evidence: Vec::new(),
    }
}

fn tls_failure_rate(i: &Inputs<'_>) -> Criterion {
    let id = CriterionId::TlsFailureRate;
    let p = i.projection;
    if p.total_sessions == 0 {
        return Criterion {
            id,
            status: Status::Fail,
            summary: format!(
                "No session was reported over {}: no reports is never clean.",
                window_words(i)
            ),
            evidence: Vec::new(),
        };
    }
    let rows: Vec<&FailureRow> = would_refuse(i, &i.windowed.failures);
    let max = percent(i.thresholds.max_failure_rate);
    let rate = percent(p.would_refuse_share);
    let (status, summary) = if p.would_refuse_sessions == 0 {
        (
            Status::Pass,
            format!(
                "None of the {} session(s) over {} had a TLS-negotiation failure against an \
                 MX host the policy covers.",
                p.total_sessions,
                window_words(i)
            ),
        )
    } else if p.would_refuse_share <= i.thresholds.max_failure_rate {
        (
            Status::Warn,
            format!(
                "{} of {} session(s) ({rate}) had TLS-negotiation failures enforce would \
                 refuse: within the {max} threshold, but each one would have been a refused \
                 delivery.",
                p.would_refuse_sessions, p.total_sessions
            ),
        )
    } else {
        (
            Status::Fail,
            format!(
                "{} of {} session(s) ({rate}) had TLS-negotiation failures enforce would \
                 refuse, above the {max} threshold.",
                p.would_refuse_sessions, p.total_sessions
            ),
        )
    };
    Criterion {
        id,
        status,
        summary,
        evidence: failure_lines(&rows),
    }
}

fn tls_failures_recent(i: &Inputs<'_>) -> Criterion {
    let id = CriterionId::TlsFailuresRecent;
    let n = i.thresholds.clean_recent_days.max(1);
    let from = i.windowed.recent_start(n);
    let recent: Vec<&FailureRow> = i
        .windowed
        .failures
        .iter()
        .copied()
        .filter(|f| f.day >= from)
        .collect();
    let failing = would_refuse(i, &recent);
    let report_days = i.windowed.report_days();
    let reported = report_days.range(from..).count();
    let span = format!("the last {n} day(s), {from} to {}", i.windowed.window.until);
    if !failing.is_empty() {
        let sessions = sum(failing.iter().map(|f| f.sessions));
        return Criterion {
            id,
            status: Status::Fail,
            summary: format!(
                "{sessions} session(s) had TLS-negotiation failures enforce would refuse in \
                 {span}."
            ),
            evidence: failure_lines(&failing),
        };
    }
    if reported == 0 {
        return Criterion {
            id,
            status: Status::Fail,
            summary: format!("No report covers {span}, so they cannot be called clean."),
            evidence: Vec::new(),
        };
    }
    Criterion {
        id,
        status: Status::Pass,
        summary: format!(
            "No TLS-negotiation failure enforce would refuse in {span} ({reported} day(s) \
             with reports)."
        ),
        evidence: Vec::new(),
    }
}

fn policy_match(i: &Inputs<'_>) -> Criterion {
    let id = CriterionId::PolicyMatch;
    let c = i.comparison;
    if c.seen.is_empty() {
        return Criterion {
            id,
            status: Status::Fail,
            summary: format!(
                "No reporter saw an MTA-STS policy over {}: the policy has not been tested \
                 by senders.",
                window_words(i)
            ),
            evidence: Vec::new(),
        };
    }
    if c.live.is_none() {
        return Criterion {
            id,
            status: Status::Warn,
            summary: "Not verified: there is no live policy to compare the reporters' \
                      policies with."
                .to_owned(),
            evidence: Vec::new(),
        };
    }
    let differing: Vec<_> = c
        .seen
        .iter()
        .filter(|s| s.matches_live == Some(false))
        .collect();
    let evidence = differing
        .iter()
        .map(|s| {
            let mut parts = Vec::new();
            if !s.only_seen.is_empty() {
                parts.push(format!("saw `{}`", s.only_seen.join("`, `")));
            }
            if !s.only_live.is_empty() {
                parts.push(format!("lacked `{}`", s.only_live.join("`, `")));
            }
            format!(
                "{} ({} to {}, {} session(s){}): {}.",
                s.organization,
                s.first_seen,
                s.last_seen,
                s.sessions,
                if s.latest { ", its latest" } else { "" },
                parts.join("; ")
            )
        })
        .collect();
    let stale_latest: BTreeSet<&str> = differing
        .iter()
        .filter(|s| s.latest)
        .map(|s| s.organization.as_str())
        .collect();
    let (status, summary) = if differing.is_empty() {
        (
            Status::Pass,
            "Every reporter saw the policy that is published now.".to_owned(),
        )
    } else if stale_latest.is_empty() {
        (
            Status::Warn,
            "Every reporter now sees the live policy, but some reports in the window were \
             made under an older one."
                .to_owned(),
        )
    } else {
        (
            Status::Fail,
            format!(
                "{} reporter(s) most recently saw a policy that differs from the live one, \
                 so their results do not test the policy about to be enforced.",
                stale_latest.len()
            ),
        )
    };
    Criterion {
        id,
        status,
        summary,
        evidence,
    }
}

fn policy_fetch_failures(i: &Inputs<'_>) -> Criterion {
    let id = CriterionId::PolicyFetchFailures;
    let p = i.projection;
    if p.unprotected_sessions == 0 {
        return Criterion {
            id,
            status: Status::Pass,
            summary: format!(
                "No sender reported trouble fetching the policy over {}.",
                window_words(i)
            ),
            evidence: Vec::new(),
        };
    }
    let rows: Vec<&FailureRow> = i
        .windowed
        .failures
        .iter()
        .copied()
        .filter(|f| classify(f, i.coverage) == Outcome::Unprotected)
        .collect();
    let live = i.live.and_then(|r| r.policy.as_ref().map(|f| (r, f)));
    let explanation = match live {
        Some((r, f)) if f.policy.is_some() => format!(
            "The live check fetched a valid policy at {}, so these were transient or came \
             before a fix.",
            time(r.checked_at)
        ),
        Some(_) => "The live check could not fetch a valid policy either.".to_owned(),
        None => "Without a live check of the policy, the cause is unknown.".to_owned(),
    };
    let mut evidence = failure_lines(&rows);
    evidence.push(explanation);
    Criterion {
        id,
        status: Status::Warn,
        summary: format!(
            "{} session(s) ({}) went unprotected because the sender could not fetch or use \
             the policy; this does not bounce mail under enforce, but those senders did not \
             see the policy.",
            p.unprotected_sessions,
            percent(p.unprotected_share)
        ),
        evidence,
    }
}

fn would_refuse<'a>(i: &Inputs<'_>, rows: &[&'a FailureRow]) -> Vec<&'a FailureRow> {
    rows.iter()
        .copied()
        .filter(|f| classify(f, i.coverage) == Outcome::WouldRefuse)
        .collect()
}

/// One line per result type and receiving MX, most sessions first, naming the reporters,
/// days and failure reason codes.
pub(crate) fn failure_lines(rows: &[&FailureRow]) -> Vec<String> {
    #[derive(Default)]
    struct Group<'a> {
        sessions: u64,
        reporters: BTreeSet<&'a str>,
        reasons: BTreeSet<&'a str>,
        days: BTreeSet<chrono::NaiveDate>,
    }
    let mut groups: BTreeMap<(&str, &str), Group<'_>> = BTreeMap::new();
    for f in rows {
        let mx = f.receiving_mx.as_deref().unwrap_or_default();
        let g = groups.entry((f.result_type.as_str(), mx)).or_default();
        add(&mut g.sessions, f.sessions);
        g.reporters.insert(&f.organization);
        g.days.insert(f.day);
        if let Some(reason) = &f.failure_reason_code {
            g.reasons.insert(reason);
        }
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.sessions.cmp(&a.1.sessions).then(a.0.cmp(&b.0)));
    let more = groups.len().saturating_sub(MAX_LINES);
    let mut lines: Vec<String> = groups
        .into_iter()
        .take(MAX_LINES)
        .map(|((result, mx), g)| {
            let days = match (g.days.first(), g.days.last()) {
                (Some(a), Some(b)) if a != b => format!("{a} to {b}"),
                (Some(a), _) => a.to_string(),
                _ => String::new(),
            };
            let reasons = if g.reasons.is_empty() {
                String::new()
            } else {
                format!(
                    "; reason: {}",
                    g.reasons.iter().copied().collect::<Vec<_>>().join(", ")
                )
            };
            let at = if mx.is_empty() {
                String::new()
            } else {
                format!(" at {mx}")
            };
            format!(
                "{} session(s) {result}{at} on {days}, reported by {}{reasons}.",
                g.sessions,
                g.reporters.iter().copied().collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    if more > 0 {
        lines.push(format!("... and {more} more group(s) of failures."));
    }
    lines
}
