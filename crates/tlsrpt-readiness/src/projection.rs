//! "What would enforce have done?" (READINESS.md "The projection"): each failure detail of
//! the window is classed as would-be-refused, unprotected, or neither, then summed by
//! reporter, receiving MX, sending IP and day.

use std::collections::BTreeMap;

use tlsrpt_check::{DomainReport, MxPattern, normalize_host};
use tlsrpt_report::ResultClass;

use crate::assessment::{Breakdown, DayProjection, Projection};
use crate::counts::{add, sum};
use crate::evidence::FailureRow;
use crate::window::Windowed;

/// The key used when a failure detail omits the field.
pub(crate) const NOT_REPORTED: &str = "(not reported)";

/// What one failure detail would have meant under `mode: enforce`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A TLS-negotiation failure against an MX host the policy covers: refused.
    WouldRefuse,
    /// A policy-fetch failure: the sender could not see the policy.
    Unprotected,
    /// DANE, unknown result types, and hosts outside the policy: not MTA-STS's doing.
    Other,
}

/// The mx patterns failures are matched against: the live policy's, else those reporters
/// saw, else none known (every host counts as covered, to stay on the safe side).
#[derive(Clone, Debug)]
pub(crate) struct Coverage {
    patterns: Option<Vec<MxPattern>>,
}

impl Coverage {
    pub fn new(live: Option<&DomainReport>, windowed: &Windowed<'_>) -> Self {
        let live_patterns = live
            .and_then(|r| r.policy.as_ref())
            .and_then(|p| p.policy.as_ref())
            .map(|p| p.mx.clone());
        let patterns = live_patterns.or_else(|| {
            let seen: Vec<MxPattern> = windowed
                .policies_seen
                .iter()
                .filter(|p| p.policy_type == "sts")
                .flat_map(|p| p.mx_host.iter())
                .filter_map(|h| MxPattern::parse(h.trim().trim_end_matches('.')).ok())
                .collect();
            (!seen.is_empty()).then_some(seen)
        });
        Self { patterns }
    }

    /// Whether the policy covers the host; an unreported or unreadable host counts as
    /// covered, so that no failure is waved away for lack of detail.
    pub fn covers(&self, mx: Option<&str>) -> bool {
        let (Some(patterns), Some(host)) = (&self.patterns, mx.and_then(normalize_host)) else {
            return true;
        };
        patterns.iter().any(|p| p.matches(&host))
    }
}

/// The outcome of one failure detail.
pub(crate) fn classify(row: &FailureRow, coverage: &Coverage) -> Outcome {
    match row.result_type.class() {
        // DANE senders validate with TLSA records, which take precedence over MTA-STS
        // (RFC 8461 §2); their negotiation failures are not MTA-STS's doing.
        ResultClass::Negotiation
            if row.policy_type != "tlsa" && coverage.covers(row.receiving_mx.as_deref()) =>
        {
            Outcome::WouldRefuse
        }
        ResultClass::PolicyFetch => Outcome::Unprotected,
        _ => Outcome::Other,
    }
}

/// The projection over the window.
pub(crate) fn project(windowed: &Windowed<'_>, coverage: &Coverage) -> Projection {
    let total_sessions = windowed.total_sessions();
    let mut would_refuse = 0u64;
    let mut unprotected = 0u64;
    let mut other = 0u64;
    let mut by_reporter = Tally::default();
    let mut by_mx = Tally::default();
    let mut by_ip = Tally::default();
    let mut by_day: BTreeMap<_, DayProjection> = windowed
        .days()
        .map(|day| {
            let empty = DayProjection {
                day,
                reports: 0,
                successful_sessions: 0,
                failed_sessions: 0,
                failed_by_result_type: BTreeMap::new(),
                would_refuse_sessions: 0,
                unprotected_sessions: 0,
            };
            (day, empty)
        })
        .collect();
    for r in &windowed.reporter_days {
        if let Some(d) = by_day.get_mut(&r.day) {
            add(&mut d.reports, r.reports);
            add(&mut d.successful_sessions, r.successful_sessions);
            add(&mut d.failed_sessions, r.failed_sessions);
        }
    }
    for row in &windowed.failures {
        let outcome = classify(row, coverage);
        if let Some(d) = by_day.get_mut(&row.day) {
            add(
                d.failed_by_result_type
                    .entry(row.result_type.as_str().to_owned())
                    .or_default(),
                row.sessions,
            );
            match outcome {
                Outcome::WouldRefuse => add(&mut d.would_refuse_sessions, row.sessions),
                Outcome::Unprotected => add(&mut d.unprotected_sessions, row.sessions),
                Outcome::Other => {}
            }
        }
        match outcome {
            Outcome::WouldRefuse => add(&mut would_refuse, row.sessions),
            Outcome::Unprotected => add(&mut unprotected, row.sessions),
            Outcome::Other => {
                add(&mut other, row.sessions);
                continue;
            }
        }
        by_reporter.add(Some(&row.organization), outcome, row.sessions);
        by_mx.add(row.receiving_mx.as_deref(), outcome, row.sessions);
        by_ip.add(row.sending_ip.as_deref(), outcome, row.sessions);
    }
    Projection {
        total_sessions,
        failed_sessions: sum(windowed.reporter_days.iter().map(|r| r.failed_sessions)),
        would_refuse_sessions: would_refuse,
        would_refuse_share: share(would_refuse, total_sessions),
        unprotected_sessions: unprotected,
        unprotected_share: share(unprotected, total_sessions),
        other_failed_sessions: other,
        by_reporter: by_reporter.rows(total_sessions),
        by_mx: by_mx.rows(total_sessions),
        by_sending_ip: by_ip.rows(total_sessions),
        by_day: by_day.into_values().collect(),
    }
}

/// `part / whole` from 0 to 1: 0 when there is no whole, and at most 1 because failure
/// details may claim more sessions than a report's summary (TLSRPT-NOTES §4.5).
pub(crate) fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64).min(1.0)
    }
}

#[derive(Default)]
struct Tally(BTreeMap<String, (u64, u64)>);

impl Tally {
    fn add(&mut self, key: Option<&str>, outcome: Outcome, sessions: u64) {
        let key = key.map_or(NOT_REPORTED, str::trim);
        let entry = self.0.entry(key.to_owned()).or_default();
        match outcome {
            Outcome::WouldRefuse => add(&mut entry.0, sessions),
            Outcome::Unprotected => add(&mut entry.1, sessions),
            Outcome::Other => {}
        }
    }

    /// Rows with sessions, largest first, then by key.
    fn rows(self, total: u64) -> Vec<Breakdown> {
        let mut rows: Vec<Breakdown> = self
            .0
            .into_iter()
            .map(|(key, (would_refuse, unprotected))| Breakdown {
                key,
                sessions: would_refuse.saturating_add(unprotected),
                share: share(would_refuse.saturating_add(unprotected), total),
                would_refuse_sessions: would_refuse,
                unprotected_sessions: unprotected,
            })
            .filter(|b| b.sessions > 0)
            .collect();
        rows.sort_by(|a, b| b.sessions.cmp(&a.sessions).then_with(|| a.key.cmp(&b.key)));
        rows
    }
}

/// A share as a percentage for people: two decimals, and never "0.00 %" for a non-zero share.
pub(crate) fn percent(share: f64) -> String {
    if share <= 0.0 {
        "0 %".to_owned()
    } else if share < 0.000_1 {
        "< 0.01 %".to_owned()
    } else {
        format!("{:.2} %", share * 100.0)
    }
}
