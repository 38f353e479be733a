//! The report rules: pure functions from a domain's daily rollups (trusted reports only)
//! to the conditions that hold. "The last day" is yesterday and today (UTC): reports cover
//! whole days and arrive the day after. The baseline is the `baseline_days` days before.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate};
use serde_json::json;
use tlsrpt_store::{DailyRollup, NewAlert};

use crate::config::RulesConfig;
use crate::rule::Rule;

/// A domain's daily rollups of trusted reports, as of `today`.
#[derive(Debug, Clone)]
pub struct ReportEvidence {
    pub domain: String,
    /// The evaluation's UTC day.
    pub today: NaiveDate,
    /// The rollups from [`ReportEvidence::first_day`] to `today`.
    pub rollups: Vec<DailyRollup>,
}

/// The days the report rules look at, as of a day.
#[derive(Debug, Clone, Copy)]
struct Windows {
    /// The first day of "the last day" (yesterday).
    recent: NaiveDate,
    /// The baseline: [baseline_from, baseline_to].
    baseline_from: NaiveDate,
    baseline_to: NaiveDate,
}

fn minus(day: NaiveDate, days: u32) -> NaiveDate {
    day.checked_sub_days(Days::new(u64::from(days)))
        .unwrap_or(day)
}

impl Windows {
    fn of(today: NaiveDate, settings: &RulesConfig) -> Self {
        let recent = minus(today, 1);
        Self {
            recent,
            baseline_from: minus(recent, settings.baseline_days),
            baseline_to: minus(recent, 1),
        }
    }

    fn is_recent(&self, day: NaiveDate) -> bool {
        day >= self.recent
    }

    fn is_baseline(&self, day: NaiveDate) -> bool {
        (self.baseline_from..=self.baseline_to).contains(&day)
    }
}

impl ReportEvidence {
    /// The earliest day any report rule reads, as of `today`.
    pub fn first_day(today: NaiveDate, settings: &RulesConfig) -> NaiveDate {
        minus(
            today,
            1 + settings.baseline_days + crate::config::MAX_SILENT_DAYS,
        )
    }

    fn totals(&self) -> impl Iterator<Item = &DailyRollup> {
        self.rollups.iter().filter(|r| r.result_type.is_none())
    }

    fn failures(&self) -> impl Iterator<Item = &DailyRollup> {
        self.rollups.iter().filter(|r| r.result_type.is_some())
    }

    /// (successful, failed) sessions over the days `within` accepts.
    fn sessions(&self, within: impl Fn(NaiveDate) -> bool) -> (i64, i64) {
        self.totals()
            .filter(|r| within(r.day))
            .fold((0, 0), |(s, f), r| {
                (
                    s.saturating_add(r.successful_sessions),
                    f.saturating_add(r.failed_sessions),
                )
            })
    }
}

pub(crate) fn new_alert(
    domain: &str,
    rule: Rule,
    subject: &str,
    severity: &str,
    title: String,
    evidence: serde_json::Value,
) -> NewAlert {
    NewAlert {
        domain: domain.to_owned(),
        rule: rule.as_str().to_owned(),
        subject: subject.to_owned(),
        severity: severity.to_owned(),
        title,
        evidence,
    }
}

fn rate(failed: i64, successful: i64) -> f64 {
    let total = failed.saturating_add(successful);
    if total <= 0 {
        0.0
    } else {
        failed as f64 / total as f64
    }
}

fn percent(rate: f64) -> String {
    let p = rate * 100.0;
    if p >= 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.2}%")
    }
}

/// failure-rate-rise: the last day's failure rate above `failure_rate_factor` times the
/// baseline's, with at least `min_failed_sessions` failed sessions; without a baseline
/// (fewer than `min_baseline_sessions`), above `absolute_failure_rate`.
pub fn failure_rate_rise(e: &ReportEvidence, s: &RulesConfig) -> Vec<NewAlert> {
    let w = Windows::of(e.today, s);
    let (ok, failed) = e.sessions(|d| w.is_recent(d));
    let (base_ok, base_failed) = e.sessions(|d| w.is_baseline(d));
    let min_failed = i64::try_from(s.min_failed_sessions).unwrap_or(i64::MAX);
    if failed < min_failed || failed == 0 {
        return Vec::new();
    }
    let recent = rate(failed, ok);
    let has_baseline = u64::try_from(base_ok.saturating_add(base_failed))
        .is_ok_and(|n| n >= s.min_baseline_sessions);
    let baseline = rate(base_failed, base_ok);
    let days = s.baseline_days;
    let total = failed.saturating_add(ok);
    let title = if has_baseline {
        if recent <= s.failure_rate_factor * baseline {
            return Vec::new();
        }
        if base_failed == 0 {
            format!(
                "{}: {} of sessions failed in the last day ({failed} of {total}), none in the previous {days} days",
                e.domain,
                percent(recent)
            )
        } else {
            format!(
                "{}: {} of sessions failed in the last day ({failed} of {total}), {:.1}× the {days}-day baseline of {}",
                e.domain,
                percent(recent),
                recent / baseline,
                percent(baseline)
            )
        }
    } else {
        if recent <= s.absolute_failure_rate {
            return Vec::new();
        }
        format!(
            "{}: {} of sessions failed in the last day ({failed} of {total}), above {} (no {days}-day baseline yet)",
            e.domain,
            percent(recent),
            percent(s.absolute_failure_rate)
        )
    };
    vec![new_alert(
        &e.domain,
        Rule::FailureRateRise,
        "",
        "warning",
        title,
        json!({
            "last_day": { "from": w.recent, "until": e.today, "failed_sessions": failed,
                          "successful_sessions": ok, "failure_rate": recent },
            "baseline": { "from": w.baseline_from, "until": w.baseline_to,
                          "failed_sessions": base_failed, "successful_sessions": base_ok,
                          "failure_rate": baseline, "established": has_baseline },
            "factor": s.failure_rate_factor,
            "min_failed_sessions": s.min_failed_sessions,
            "absolute_failure_rate": s.absolute_failure_rate,
        }),
    )]
}

/// Failed sessions in the last day, by the key `key` gives a failure row, with the
/// reporters and the other dimension seen; and the keys seen failing in the baseline.
struct FailureSplit {
    recent: BTreeMap<String, (i64, BTreeSet<String>, BTreeSet<String>)>,
    baseline: BTreeSet<String>,
    established: bool,
}

fn split_failures(
    e: &ReportEvidence,
    s: &RulesConfig,
    key: impl Fn(&DailyRollup) -> Option<String>,
    other: impl Fn(&DailyRollup) -> Option<String>,
) -> FailureSplit {
    let w = Windows::of(e.today, s);
    let (base_ok, base_failed) = e.sessions(|d| w.is_baseline(d));
    let mut split = FailureSplit {
        recent: BTreeMap::new(),
        baseline: BTreeSet::new(),
        established: u64::try_from(base_ok.saturating_add(base_failed))
            .is_ok_and(|n| n >= s.min_baseline_sessions),
    };
    for row in e.failures().filter(|r| r.failed_sessions > 0) {
        let Some(k) = key(row) else { continue };
        if w.is_recent(row.day) {
            let entry = split.recent.entry(k).or_default();
            entry.0 = entry.0.saturating_add(row.failed_sessions);
            entry.1.insert(row.reporter.clone());
            entry.2.extend(other(row));
        } else if w.is_baseline(row.day) {
            split.baseline.insert(k);
        }
    }
    split
}

/// new-result-type: a failure result type in the last day (at least `min_new_failures`
/// sessions) that no failure of the baseline had. Quiet without an established baseline.
pub fn new_result_type(e: &ReportEvidence, s: &RulesConfig) -> Vec<NewAlert> {
    let split = split_failures(e, s, |r| r.result_type.clone(), |r| r.receiving_mx.clone());
    new_keys(e, s, split, |key, failed, mx, days| {
        (
            Rule::NewResultType,
            format!(
                "{}: new failure type {key}: {failed} failed sessions in the last day, none in the previous {days} days",
                e.domain
            ),
            json!({ "result_type": key, "receiving_mx": mx }),
        )
    })
}

/// new-failing-mx: a receiving MX with failures in the last day (at least
/// `min_new_failures` sessions) and none in the baseline. Quiet without an established
/// baseline.
pub fn new_failing_mx(e: &ReportEvidence, s: &RulesConfig) -> Vec<NewAlert> {
    let split = split_failures(e, s, |r| r.receiving_mx.clone(), |r| r.result_type.clone());
    new_keys(e, s, split, |key, failed, types, days| {
        (
            Rule::NewFailingMx,
            format!(
                "{}: {key} has {failed} failed sessions in the last day ({}), none in the previous {days} days",
                e.domain,
                types.join(", ")
            ),
            json!({ "receiving_mx": key, "result_types": types }),
        )
    })
}

fn new_keys(
    e: &ReportEvidence,
    s: &RulesConfig,
    split: FailureSplit,
    describe: impl Fn(&str, i64, Vec<String>, u32) -> (Rule, String, serde_json::Value),
) -> Vec<NewAlert> {
    if !split.established {
        return Vec::new();
    }
    let w = Windows::of(e.today, s);
    let min = i64::try_from(s.min_new_failures).unwrap_or(i64::MAX);
    split
        .recent
        .into_iter()
        .filter(|(key, (failed, _, _))| *failed >= min.max(1) && !split.baseline.contains(key))
        .map(|(key, (failed, reporters, other))| {
            let (rule, title, mut evidence) =
                describe(&key, failed, other.into_iter().collect(), s.baseline_days);
            if let Some(map) = evidence.as_object_mut() {
                map.insert("failed_sessions".into(), json!(failed));
                map.insert("reporters".into(), json!(reporters));
                map.insert(
                    "last_day".into(),
                    json!({ "from": w.recent, "until": e.today }),
                );
                map.insert(
                    "baseline".into(),
                    json!({ "from": w.baseline_from, "until": w.baseline_to }),
                );
            }
            new_alert(&e.domain, rule, &key, "warning", title, evidence)
        })
        .collect()
}

/// reporter-silent: a reporter that sent reports on at least `reporter_daily_days` of
/// the `baseline_days` days up to its last report, and none for `reporter_silent_days`
/// days since (up to yesterday). A reporter silent for more than 30 days drops out.
pub fn reporter_silent(e: &ReportEvidence, s: &RulesConfig) -> Vec<NewAlert> {
    let yesterday = minus(e.today, 1);
    let mut days: BTreeMap<&str, BTreeSet<NaiveDate>> = BTreeMap::new();
    for row in e.totals().filter(|r| r.reports > 0) {
        days.entry(&row.reporter).or_default().insert(row.day);
    }
    let mut alerts = Vec::new();
    for (reporter, seen) in days {
        let Some(&last) = seen.last() else { continue };
        let silent = (yesterday - last).num_days();
        if silent < i64::from(s.reporter_silent_days) {
            continue;
        }
        let from = minus(last, s.baseline_days.saturating_sub(1));
        let daily = seen.range(from..=last).count();
        if daily < usize::try_from(s.reporter_daily_days).unwrap_or(usize::MAX) {
            continue;
        }
        alerts.push(new_alert(
            &e.domain,
            Rule::ReporterSilent,
            reporter,
            "warning",
            format!(
                "{}: {reporter} has sent no report for {silent} days (its last covers {last}; before that it reported on {daily} of {} days)",
                e.domain, s.baseline_days
            ),
            json!({
                "reporter": reporter,
                "last_report_day": last,
                "silent_days": silent,
                "days_with_reports": daily,
                "of_days": s.baseline_days,
                "since": from,
            }),
        ));
    }
    alerts
}
