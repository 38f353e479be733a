//! The advisor's answer for one domain. Its JSON form is a stable interface: keys are only
//! ever added, never renamed or removed, and enum values are kebab-case.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::criterion::CriterionId;
use crate::thresholds::Thresholds;

/// The readiness verdict for moving from `mode: testing` to `mode: enforce`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every criterion passes or only warns: the plan gives the exact change.
    Ready,
    /// Some criterion fails; the plan lists the fixes.
    NotReady,
    /// Too few reports, reporters, days or sessions to judge. No reports is never clean.
    InsufficientData,
    /// The live configuration itself is broken.
    Blocked,
    /// Already `mode: enforce`, or no MTA-STS at all.
    NotApplicable,
}

impl Verdict {
    /// The kebab-case name used in every export.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::NotReady => "not-ready",
            Self::InsufficientData => "insufficient-data",
            Self::Blocked => "blocked",
            Self::NotApplicable => "not-applicable",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of one criterion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Met.
    Pass,
    /// Worth a look, but does not stand in the way of enforce.
    Warn,
    /// Stands in the way of enforce.
    Fail,
}

impl Status {
    /// The lowercase name used in every export.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The age of the live check the assessment used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Freshness {
    /// Within [`Thresholds::live_check_max_age_hours`].
    Fresh,
    /// Older: its findings are shown, but the verdict cannot be `ready`.
    Stale,
    /// The domain was never checked.
    Missing,
}

impl Freshness {
    /// The lowercase name used in every export.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fresh => "fresh",
            Self::Stale => "stale",
            Self::Missing => "missing",
        }
    }
}

/// Everything the advisor concluded about one domain.
#[derive(Clone, Debug, Serialize)]
pub struct Assessment {
    /// The policy domain.
    pub domain: String,
    /// [`Evidence::now`](crate::Evidence::now).
    pub generated_at: DateTime<Utc>,
    /// The verdict.
    pub verdict: Verdict,
    /// One sentence saying the verdict and its main reason.
    pub headline: String,
    /// The days of reports weighed.
    pub window: Window,
    /// The live check used.
    pub live_check: LiveCheckSummary,
    /// Every criterion, in the order of [`CriterionId::ALL`].
    pub criteria: Vec<Criterion>,
    /// What `mode: enforce` would have done over the window.
    pub projection: Projection,
    /// The policy each reporter saw, next to the live policy.
    pub policy_comparison: PolicyComparison,
    /// What to do next, in order.
    pub plan: Vec<Step>,
    /// When the domain could be ready, if it is not and an estimate is possible.
    pub ready_estimate: Option<String>,
    /// The thresholds the criteria were judged against.
    pub thresholds: Thresholds,
}

impl Assessment {
    /// The criterion with this id.
    pub fn criterion(&self, id: CriterionId) -> Option<&Criterion> {
        self.criteria.iter().find(|c| c.id == id)
    }
}

/// The window of report days, both ends included (UTC days of `start-datetime`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Window {
    /// First day.
    pub since: NaiveDate,
    /// Last day: the day of [`Assessment::generated_at`].
    pub until: NaiveDate,
    /// Number of days.
    pub days: u32,
    /// Whether the window was widened beyond `window_days` to reach `min_organisations`.
    pub widened: bool,
}

/// The live check the assessment relied on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LiveCheckSummary {
    /// Fresh, stale or missing.
    pub status: Freshness,
    /// When the check ran.
    pub checked_at: Option<DateTime<Utc>>,
    /// The policy mode found (`enforce`, `testing`, `none`), when a valid policy was fetched.
    pub mode: Option<String>,
    /// The `id` of the `_mta-sts` TXT record, when valid.
    pub policy_id: Option<String>,
}

/// One criterion and its evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Criterion {
    /// The stable id, serialized in kebab-case.
    pub id: CriterionId,
    /// Pass, warn or fail.
    pub status: Status,
    /// One sentence.
    pub summary: String,
    /// The facts behind the status, one per line, each naming what it is about.
    pub evidence: Vec<String>,
}

/// "What would enforce have done?" over the window.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Projection {
    /// Sessions reported in the window.
    pub total_sessions: u64,
    /// Sessions reported as failed, of every result type.
    pub failed_sessions: u64,
    /// TLS-negotiation failures against MX hosts the policy covers: refused under enforce.
    pub would_refuse_sessions: u64,
    /// `would_refuse_sessions / total_sessions`, from 0 to 1.
    pub would_refuse_share: f64,
    /// Policy-fetch failures: the sender could not see the policy, so mail went unprotected.
    pub unprotected_sessions: u64,
    /// `unprotected_sessions / total_sessions`, from 0 to 1.
    pub unprotected_share: f64,
    /// Other failure details: DANE results, unknown result types, and TLS-negotiation
    /// failures against hosts the policy does not cover (former MX hosts). Not refused by
    /// an MTA-STS enforce policy.
    pub other_failed_sessions: u64,
    /// Would-refuse and unprotected sessions per reporter, largest first.
    pub by_reporter: Vec<Breakdown>,
    /// ... per receiving MX host.
    pub by_mx: Vec<Breakdown>,
    /// ... per sending MTA IP.
    pub by_sending_ip: Vec<Breakdown>,
    /// Every day of the window, oldest first.
    pub by_day: Vec<DayProjection>,
}

/// One row of a projection breakdown.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Breakdown {
    /// The reporter, MX host or IP, verbatim; `(not reported)` when the detail omitted it.
    pub key: String,
    /// `would_refuse_sessions + unprotected_sessions`.
    pub sessions: u64,
    /// `sessions / total_sessions` of the window, from 0 to 1.
    pub share: f64,
    /// Sessions that would have been refused.
    pub would_refuse_sessions: u64,
    /// Sessions that went unprotected.
    pub unprotected_sessions: u64,
}

/// One day of the window, for the daily chart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DayProjection {
    /// The UTC day.
    pub day: NaiveDate,
    /// Reports received for the day.
    pub reports: u64,
    /// Successful sessions.
    pub successful_sessions: u64,
    /// Failed sessions (summary totals).
    pub failed_sessions: u64,
    /// Failure details by result type.
    pub failed_by_result_type: BTreeMap<String, u64>,
    /// Sessions that would have been refused.
    pub would_refuse_sessions: u64,
    /// Sessions that went unprotected.
    pub unprotected_sessions: u64,
}

/// The live policy and what reporters saw, compared line by line after trimming.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyComparison {
    /// The live policy's lines, trimmed; `None` without a fetched policy.
    pub live: Option<Vec<String>>,
    /// Each distinct policy each reporter saw in the window (`sts` entries only).
    pub seen: Vec<SeenPolicy>,
}

/// One distinct policy text seen by one reporter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SeenPolicy {
    /// The reporter, verbatim.
    pub organization: String,
    /// The policy lines, trimmed.
    pub lines: Vec<String>,
    /// First day it was seen in the window.
    pub first_seen: NaiveDate,
    /// Last day it was seen in the window.
    pub last_seen: NaiveDate,
    /// Sessions under it.
    pub sessions: u64,
    /// Whether it is the reporter's most recent one.
    pub latest: bool,
    /// Whether its lines equal the live policy's; `None` without a live policy.
    pub matches_live: Option<bool>,
    /// Lines the reporter saw that the live policy lacks.
    pub only_seen: Vec<String>,
    /// Lines of the live policy the reporter did not see.
    pub only_live: Vec<String>,
}

/// One step of the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// 1, 2, 3...
    pub order: u32,
    /// What to do, in a few words.
    pub title: String,
    /// How, and why.
    pub detail: String,
    /// Text to publish exactly as given (a policy file, a DNS record), when there is one.
    pub text: Option<String>,
}
