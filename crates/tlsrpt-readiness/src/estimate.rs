//! When could the domain be ready? The window is slid forward one day at a time, each new
//! day assumed to bring clean reports at the window's average volume, until the report
//! thresholds (days, sessions, failure rate, clean recent days) would all be met.

use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};

use crate::assessment::{Criterion, Status, Verdict};
use crate::counts::sum;
use crate::criterion::CriterionId;
use crate::projection::{Coverage, Outcome, classify};
use crate::thresholds::Thresholds;
use crate::window::{Windowed, start};

/// Criteria that more clean days of reports can fix on their own.
const TIME_FIXES: [CriterionId; 4] = [
    CriterionId::ReportDays,
    CriterionId::ReportSessions,
    CriterionId::TlsFailureRate,
    CriterionId::TlsFailuresRecent,
];

/// The estimate for a verdict other than `ready` and `not-applicable`.
pub(crate) fn estimate(
    verdict: Verdict,
    criteria: &[Criterion],
    windowed: &Windowed<'_>,
    coverage: &Coverage,
    thresholds: &Thresholds,
) -> Option<String> {
    if matches!(verdict, Verdict::Ready | Verdict::NotApplicable) {
        return None;
    }
    if windowed.total_sessions() == 0 {
        return Some(format!(
            "Could be ready once reports arrive: at least {} days with reports, from at least \
             {} distinct organisations, are needed.",
            thresholds.min_days_with_reports, thresholds.min_organisations
        ));
    }
    let failing = |id: CriterionId| {
        criteria
            .iter()
            .any(|c| c.id == id && c.status == Status::Fail)
    };
    let needs_fixes = criteria.iter().any(|c| {
        c.status == Status::Fail
            && !TIME_FIXES.contains(&c.id)
            && c.id != CriterionId::ReportOrganisations
    });
    let mut conditions = Vec::new();
    if needs_fixes {
        conditions.push("once the failing checks above are fixed".to_owned());
    }
    if failing(CriterionId::ReportOrganisations) {
        conditions.push(format!(
            "once reports arrive from at least {} distinct organisations (there are {} so far)",
            thresholds.min_organisations,
            windowed.reporters().len()
        ));
    }
    let days = if TIME_FIXES.iter().any(|&id| failing(id)) {
        clean_days_needed(windowed, coverage, thresholds)
    } else {
        0
    };
    let cap = thresholds.max_window_days;
    let text = if days > cap {
        format!(
            "Not within {cap} days at the current volume of reports: the failures must stop, \
             or more reports must arrive"
        )
    } else if days > 0 {
        conditions.insert(
            0,
            format!("after {days} more clean day(s) of reports at the current volume"),
        );
        format!("Could be ready {}", conditions.join(", and "))
    } else if conditions.is_empty() {
        return None;
    } else {
        format!("Could be ready {}", conditions.join(", and "))
    };
    Some(format!("{text}."))
}

/// The fewest extra clean days after which the report thresholds hold, or one more than
/// `max_window_days` when that is not enough.
fn clean_days_needed(windowed: &Windowed<'_>, coverage: &Coverage, thresholds: &Thresholds) -> u32 {
    let report_days = windowed.report_days();
    let daily = windowed.total_sessions() / u64::try_from(report_days.len().max(1)).unwrap_or(1);
    let sessions_by_day: Vec<(NaiveDate, u64)> = windowed
        .reporter_days
        .iter()
        .map(|r| {
            (
                r.day,
                r.successful_sessions.saturating_add(r.failed_sessions),
            )
        })
        .collect();
    let refusals: Vec<(NaiveDate, u64)> = windowed
        .failures
        .iter()
        .filter(|f| classify(f, coverage) == Outcome::WouldRefuse)
        .map(|f| (f.day, f.sessions))
        .collect();
    let w = windowed.window;
    let needed_days = thresholds.min_days_with_reports.min(w.days).max(1);
    let recent = thresholds.clean_recent_days.max(1);
    (0..=thresholds.max_window_days)
        .find(|&k| {
            let since = shift(w.since, k);
            let until = shift(w.until, k);
            let future_days = k.min(w.days);
            let past_days = u32::try_from(report_days.range(since..).count()).unwrap_or(u32::MAX);
            let sessions = sum_from(&sessions_by_day, since)
                .saturating_add(u64::from(future_days).saturating_mul(daily));
            let refused = sum_from(&refusals, since);
            let recent_from = start(until, recent);
            let recent_reports =
                future_days > 0 || !past_reported(&report_days, recent_from, w.until).is_empty();
            past_days.saturating_add(future_days) >= needed_days
                && sessions >= thresholds.min_sessions.max(1)
                && within_rate(refused, sessions, thresholds.max_failure_rate)
                && sum_from(&refusals, recent_from) == 0
                && recent_reports
        })
        .unwrap_or(thresholds.max_window_days + 1)
}

fn shift(day: NaiveDate, k: u32) -> NaiveDate {
    day.checked_add_days(Days::new(u64::from(k)))
        .unwrap_or(NaiveDate::MAX)
}

fn sum_from(rows: &[(NaiveDate, u64)], since: NaiveDate) -> u64 {
    sum(rows.iter().filter(|(d, _)| *d >= since).map(|(_, s)| *s))
}

fn past_reported(days: &BTreeSet<NaiveDate>, from: NaiveDate, until: NaiveDate) -> Vec<NaiveDate> {
    if from > until {
        return Vec::new();
    }
    days.range(from..=until).copied().collect()
}

fn within_rate(refused: u64, sessions: u64, max_rate: f64) -> bool {
    crate::projection::share(refused, sessions) <= max_rate
}
