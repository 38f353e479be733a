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
use tlsrpt_report::{Report, ResultType};

use crate::counts::add;

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

impl Evidence {
    /// Empty evidence for `domain` (lowercased, trailing dot removed), assessed at `now`.
    pub fn new(domain: &str, now: DateTime<Utc>) -> Self {
        Self {
            domain: domain.trim().trim_end_matches('.').to_ascii_lowercase(),
            now,
            reporter_days: Vec::new(),
            failures: Vec::new(),
            policies_seen: Vec::new(),
            excluded: Excluded::default(),
            live_check: None,
        }
    }

    /// Adds the policy entries of one trusted report that are about [`Evidence::domain`],
    /// merging them into the rows of the same day. Meant for tests, demo data and small
    /// sets; a store fills the same rows with grouped queries.
    pub fn add_report(&mut self, report: &Report) {
        let day = report.date_range.start.date_naive();
        let org = report.organization_name.as_str();
        let mut counted = false;
        for entry in report
            .policies
            .iter()
            .filter(|p| p.policy.policy_domain == self.domain)
        {
            let summary = entry.summary;
            let i = match self
                .reporter_days
                .iter()
                .position(|r| r.day == day && r.organization == org)
            {
                Some(i) => i,
                None => {
                    self.reporter_days.push(ReporterDay {
                        day,
                        organization: org.to_owned(),
                        reports: 0,
                        successful_sessions: 0,
                        failed_sessions: 0,
                    });
                    self.reporter_days.len() - 1
                }
            };
            let row = &mut self.reporter_days[i];
            if !counted {
                add(&mut row.reports, 1);
                counted = true;
            }
            add(
                &mut row.successful_sessions,
                summary.total_successful_session_count,
            );
            add(
                &mut row.failed_sessions,
                summary.total_failure_session_count,
            );

            let seen = PolicySeen {
                day,
                organization: org.to_owned(),
                policy_type: entry.policy.policy_type.as_str().to_owned(),
                policy_string: entry.policy.policy_string.clone(),
                mx_host: entry.policy.mx_host.clone(),
                sessions: summary
                    .total_successful_session_count
                    .saturating_add(summary.total_failure_session_count),
            };
            match self.policies_seen.iter_mut().find(|p| {
                (
                    p.day,
                    &p.organization,
                    &p.policy_type,
                    &p.policy_string,
                    &p.mx_host,
                ) == (
                    day,
                    &seen.organization,
                    &seen.policy_type,
                    &seen.policy_string,
                    &seen.mx_host,
                )
            }) {
                Some(p) => add(&mut p.sessions, seen.sessions),
                None => self.policies_seen.push(seen),
            }

            for d in &entry.failure_details {
                let row = FailureRow {
                    day,
                    organization: org.to_owned(),
                    policy_type: entry.policy.policy_type.as_str().to_owned(),
                    result_type: d.result_type.clone(),
                    receiving_mx: d.receiving_mx_hostname.clone(),
                    sending_ip: d.sending_mta_ip.clone(),
                    failure_reason_code: d.failure_reason_code.clone(),
                    sessions: 0,
                };
                let existing = self.failures.iter_mut().find(|f| f.group() == row.group());
                match existing {
                    Some(f) => add(&mut f.sessions, d.failed_session_count),
                    None => self.failures.push(FailureRow {
                        sessions: d.failed_session_count,
                        ..row
                    }),
                }
            }
        }
    }
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

impl FailureRow {
    /// Everything but the session count: rows with the same group are added up.
    fn group(
        &self,
    ) -> (
        NaiveDate,
        &str,
        &str,
        &ResultType,
        Option<&str>,
        Option<&str>,
        Option<&str>,
    ) {
        (
            self.day,
            &self.organization,
            &self.policy_type,
            &self.result_type,
            self.receiving_mx.as_deref(),
            self.sending_ip.as_deref(),
            self.failure_reason_code.as_deref(),
        )
    }
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
