//! The window of report days: `window_days` ending today, widened until it holds reports
//! from `min_organisations` distinct organisations (READINESS.md "Inputs"), within a cap.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate};

use crate::assessment::Window;
use crate::counts::{add, sum};
use crate::evidence::{Evidence, FailureRow, PolicySeen, ReporterDay};
use crate::thresholds::Thresholds;

/// The rows of the evidence that fall inside the chosen window.
#[derive(Debug)]
pub(crate) struct Windowed<'a> {
    pub window: Window,
    pub reporter_days: Vec<&'a ReporterDay>,
    pub failures: Vec<&'a FailureRow>,
    pub policies_seen: Vec<&'a PolicySeen>,
}

/// Activity of one reporter in the window.
#[derive(Debug, Default)]
pub(crate) struct ReporterActivity {
    pub reports: u64,
    pub sessions: u64,
    pub failed: u64,
    pub days: BTreeSet<NaiveDate>,
}

impl<'a> Windowed<'a> {
    pub fn select(evidence: &'a Evidence, thresholds: &Thresholds) -> Self {
        let until = evidence.now.date_naive();
        let base = thresholds.window_days.max(1);
        let cap = thresholds.max_window_days.max(base);
        let mut days = base;
        while days < cap && organisations_since(evidence, start(until, days)) < min_orgs(thresholds)
        {
            days += 1;
        }
        let since = start(until, days);
        let inside = |day: NaiveDate| since <= day && day <= until;
        Self {
            window: Window {
                since,
                until,
                days,
                widened: days > base,
            },
            reporter_days: evidence
                .reporter_days
                .iter()
                .filter(|r| inside(r.day))
                .collect(),
            failures: evidence.failures.iter().filter(|f| inside(f.day)).collect(),
            policies_seen: evidence
                .policies_seen
                .iter()
                .filter(|p| inside(p.day))
                .collect(),
        }
    }

    /// Every day of the window, oldest first.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> {
        self.window
            .since
            .iter_days()
            .take_while(|d| *d <= self.window.until)
    }

    /// The first of the last `n` days of the window.
    pub fn recent_start(&self, n: u32) -> NaiveDate {
        start(self.window.until, n.max(1)).max(self.window.since)
    }

    /// Sessions (successful plus failed) reported in the window.
    pub fn total_sessions(&self) -> u64 {
        sum(self
            .reporter_days
            .iter()
            .map(|r| r.successful_sessions.saturating_add(r.failed_sessions)))
    }

    /// Distinct days with at least one report.
    pub fn report_days(&self) -> BTreeSet<NaiveDate> {
        self.reporter_days
            .iter()
            .filter(|r| r.reports > 0)
            .map(|r| r.day)
            .collect()
    }

    /// Activity per reporter, by organisation name.
    pub fn reporters(&self) -> BTreeMap<&'a str, ReporterActivity> {
        let mut by_org: BTreeMap<&str, ReporterActivity> = BTreeMap::new();
        for r in self.reporter_days.iter().filter(|r| r.reports > 0) {
            let a = by_org.entry(r.organization.as_str()).or_default();
            add(&mut a.reports, r.reports);
            add(
                &mut a.sessions,
                r.successful_sessions.saturating_add(r.failed_sessions),
            );
            add(&mut a.failed, r.failed_sessions);
            a.days.insert(r.day);
        }
        by_org
    }
}

fn min_orgs(thresholds: &Thresholds) -> usize {
    usize::try_from(thresholds.min_organisations).unwrap_or(usize::MAX)
}

/// The first day of `days` days ending on `until`.
pub(crate) fn start(until: NaiveDate, days: u32) -> NaiveDate {
    until
        .checked_sub_days(Days::new(u64::from(days.saturating_sub(1))))
        .unwrap_or(NaiveDate::MIN)
}

fn organisations_since(evidence: &Evidence, since: NaiveDate) -> usize {
    let until = evidence.now.date_naive();
    evidence
        .reporter_days
        .iter()
        .filter(|r| r.reports > 0 && since <= r.day && r.day <= until)
        .map(|r| r.organization.as_str())
        .collect::<BTreeSet<_>>()
        .len()
}
