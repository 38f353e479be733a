//! The advisor's input: what the store knows about one domain, day by day, and the latest
//! live check. Filled by the glue that reads the store; nothing here touches a database.
//!
//! Every row carries the UTC day of the report's `start-datetime`, so that the advisor can
//! choose and widen its own window. Load rows from [`Thresholds::earliest_day`] onwards.
//!
//! [`Thresholds::earliest_day`]: crate::Thresholds::earliest_day

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tlsrpt_check::DomainReport;
use tlsrpt_report::ResultType;

/// Everything the advisor weighs for one domain.
///
/// Only reports that are trusted (DKIM-verified mail, an authenticated HTTPS upload, or an
/// operator import) belong in the rows; the others are counted in [`Evidence::excluded`].
#[derive(Clone, Debug)]
pub struct Evidence {
    /// The policy domain, lowercase, without a trailing dot.
    pub domain: String,
    /// The moment of the assessment. Every relative time (window end, freshness of the live
    /// check, certificate expiry, the new policy id) is computed from it, never from the clock.
    pub now: DateTime<Utc>,
    /// Per reporter and day: reports received and their session totals, over every policy
    /// entry of the domain (`sts`, `tlsa` and `no-policy-found`).
    pub reporter_days: Vec<ReporterDay>,
    /// Failure details, grouped by day, reporter and the detail's fields.
    pub failures: Vec<FailureRow>,
    /// The policies reporters saw, per day and reporter.
    pub policies_seen: Vec<PolicySeen>,
    /// Reports left out because nothing vouches for them.
    pub excluded: Excluded,
    /// The most recent live check of the domain, whatever its age; `None` when the domain
    /// was never checked.
    pub live_check: Option<DomainReport>,
}

/// One reporting organisation on one day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReporterDay {
    /// UTC day of the reports' `start-datetime`.
    pub day: NaiveDate,
    /// `organization-name`, verbatim (attacker-controlled text).
    pub organization: String,
    /// Number of distinct reports.
    pub reports: u64,
    /// Sum of `total-successful-session-count`.
    pub successful_sessions: u64,
    /// Sum of `total-failure-session-count`.
    pub failed_sessions: u64,
}

/// Failure details sharing a day, a reporter, a policy type and every detail field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailureRow {
    /// UTC day of the report's `start-datetime`.
    pub day: NaiveDate,
    /// `organization-name`, verbatim.
    pub organization: String,
    /// The `policy-type` of the policy entry the detail belongs to (`sts`, `tlsa`, ...).
    pub policy_type: String,
    /// `result-type`.
    pub result_type: ResultType,
    /// `receiving-mx-hostname`, verbatim.
    pub receiving_mx: Option<String>,
    /// `sending-mta-ip`, verbatim.
    pub sending_ip: Option<String>,
    /// `failure-reason-code`, verbatim (attacker-controlled text).
    pub failure_reason_code: Option<String>,
    /// Sum of `failed-session-count`.
    pub sessions: u64,
}

/// One policy as one reporter saw it on one day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicySeen {
    /// UTC day of the report's `start-datetime`.
    pub day: NaiveDate,
    /// `organization-name`, verbatim.
    pub organization: String,
    /// `policy-type`.
    pub policy_type: String,
    /// `policy-string`, one line per element.
    pub policy_string: Vec<String>,
    /// `mx-host`.
    pub mx_host: Vec<String>,
    /// Successful plus failed sessions under this policy.
    pub sessions: u64,
}

/// Reports that were stored but not counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Excluded {
    /// Reports without DKIM verification or an authenticated upload.
    pub untrusted_reports: u64,
    /// The sessions those reports claim.
    pub untrusted_sessions: u64,
}
