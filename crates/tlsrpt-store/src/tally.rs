//! Keeping the rollups up to date at ingest: the newly stored reports of a batch are
//! added up in Rust, then written with one upsert per table and chunk, inside the batch's
//! transaction (see `migrations/*/0003_rollups.sql` for the tables).
//!
//! Every writer upserts keys in the same (sorted) order, tables in the same order, so that
//! concurrent PostgreSQL transactions touching the same rollup rows wait for each other
//! instead of deadlocking.

use std::collections::BTreeMap;

use sqlx::{QueryBuilder, Transaction};
use tlsrpt_report::Report;

use crate::open::{Doing, StoreError};
use crate::write::{Auth, statement_chunks, to_i64};

/// The `result_type` of a session-totals row of `daily_rollups`.
pub(crate) const TOTALS: &str = "";

/// How an empty result-type is rolled up, so that it cannot pass for a totals row.
pub(crate) const EMPTY_RESULT_TYPE: &str = "(empty)";

/// Days since the Unix epoch (UTC) of a Unix time.
pub(crate) fn epoch_day(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(86_400)
}

/// A `daily_rollups` key: (policy_domain, day, policy_type, reporter, trusted,
/// result_type, receiving_mx).
type RollupKey = (String, i64, String, String, bool, String, String);

/// A `daily_domain_totals` key: (policy_domain, day, trusted).
type DomainDayKey = (String, i64, bool);

/// Distinct reports and summed sessions.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    reports: i64,
    successful: i64,
    failed: i64,
}

impl Counts {
    fn add_sessions(&mut self, successful: u64, failed: u64) {
        self.successful = self.successful.saturating_add(to_i64(successful));
        self.failed = self.failed.saturating_add(to_i64(failed));
    }

    fn add_report(&mut self, other: Counts) {
        self.reports += 1;
        self.successful = self.successful.saturating_add(other.successful);
        self.failed = self.failed.saturating_add(other.failed);
    }
}

/// One `domain_activity` row's worth of a batch.
#[derive(Debug, Clone, Copy)]
struct Activity {
    first_start: i64,
    last_start: i64,
    last_trusted_start: Option<i64>,
    last_ingested: i64,
    trusted: i64,
    untrusted: i64,
}

/// The rollup rows that a batch's newly stored reports add, keyed and sorted.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    rollups: BTreeMap<RollupKey, Counts>,
    domain_days: BTreeMap<DomainDayKey, Counts>,
    activity: BTreeMap<String, Activity>,
}

impl Tally {
    /// Adds one newly stored report, received at `ingested_at` (Unix seconds).
    pub(crate) fn add(&mut self, report: &Report, auth: &Auth, ingested_at: i64) {
        let trusted = auth.is_trusted();
        let start = report.date_range.start.timestamp();
        let day = epoch_day(start);
        let reporter = &report.organization_name;
        // This report's own sums first, so that it counts once per key however many of
        // its policy entries share that key.
        let mut rollups: BTreeMap<RollupKey, Counts> = BTreeMap::new();
        let mut domains: BTreeMap<&str, Counts> = BTreeMap::new();
        for result in &report.policies {
            let domain = result.policy.policy_domain.as_str();
            let policy_type = result.policy.policy_type.as_str();
            let key = |result_type: &str, mx: &str| {
                (
                    domain.to_owned(),
                    day,
                    policy_type.to_owned(),
                    reporter.clone(),
                    trusted,
                    result_type.to_owned(),
                    mx.to_owned(),
                )
            };
            let summary = &result.summary;
            rollups.entry(key(TOTALS, "")).or_default().add_sessions(
                summary.total_successful_session_count,
                summary.total_failure_session_count,
            );
            domains.entry(domain).or_default().add_sessions(
                summary.total_successful_session_count,
                summary.total_failure_session_count,
            );
            for detail in &result.failure_details {
                let result_type = match detail.result_type.as_str() {
                    TOTALS => EMPTY_RESULT_TYPE,
                    other => other,
                };
                let mx = detail.receiving_mx_hostname.as_deref().unwrap_or("");
                rollups
                    .entry(key(result_type, mx))
                    .or_default()
                    .add_sessions(0, detail.failed_session_count);
            }
        }
        for (key, counts) in rollups {
            self.rollups.entry(key).or_default().add_report(counts);
        }
        for (domain, counts) in domains {
            self.domain_days
                .entry((domain.to_owned(), day, trusted))
                .or_default()
                .add_report(counts);
            let this = Activity {
                first_start: start,
                last_start: start,
                last_trusted_start: trusted.then_some(start),
                last_ingested: ingested_at,
                trusted: i64::from(trusted),
                untrusted: i64::from(!trusted),
            };
            self.activity
                .entry(domain.to_owned())
                .and_modify(|a| a.merge(this))
                .or_insert(this);
        }
    }

    fn is_empty(&self) -> bool {
        self.rollups.is_empty()
    }
}

impl Activity {
    fn merge(&mut self, other: Activity) {
        self.first_start = self.first_start.min(other.first_start);
        self.last_start = self.last_start.max(other.last_start);
        self.last_trusted_start = self.last_trusted_start.max(other.last_trusted_start);
        self.last_ingested = self.last_ingested.max(other.last_ingested);
        self.trusted += other.trusted;
        self.untrusted += other.untrusted;
    }
}

/// Writing a [`Tally`] in a transaction of this backend.
pub(crate) trait WriteTally: sqlx::Database {
    /// Adds `tally` to the rollup tables, in the caller's transaction.
    async fn write_tally(tx: &mut Transaction<'_, Self>, tally: &Tally) -> Result<(), StoreError>;
}

per_backend! {
    impl WriteTally for Db {
    async fn write_tally(
        tx: &mut Transaction<'_, Db>,
        tally: &Tally,
    ) -> Result<(), StoreError> {
        if tally.is_empty() {
            return Ok(());
        }
        let rollups: Vec<_> = tally.rollups.iter().collect();
        for chunk in statement_chunks(&rollups) {
            let mut query = QueryBuilder::<Db>::new(
                "INSERT INTO daily_rollups (policy_domain, day, policy_type, reporter, \
                 trusted, result_type, receiving_mx, reports, successful_sessions, \
                 failed_sessions) ",
            );
            query.push_values(chunk, |mut row, &(key, counts)| {
                let (domain, day, policy_type, reporter, trusted, result_type, mx) = key;
                row.push_bind(domain.as_str())
                    .push_bind(*day)
                    .push_bind(policy_type.as_str())
                    .push_bind(reporter.as_str())
                    .push_bind(*trusted)
                    .push_bind(result_type.as_str())
                    .push_bind(mx.as_str())
                    .push_bind(counts.reports)
                    .push_bind(counts.successful)
                    .push_bind(counts.failed);
            });
            query.push(
                " ON CONFLICT (policy_domain, day, policy_type, reporter, trusted, \
                 result_type, receiving_mx) DO UPDATE SET \
                 reports = daily_rollups.reports + excluded.reports, \
                 successful_sessions = daily_rollups.successful_sessions \
                 + excluded.successful_sessions, \
                 failed_sessions = daily_rollups.failed_sessions + excluded.failed_sessions",
            );
            query
                .build()
                .execute(&mut **tx)
                .await
                .doing("updating the daily rollups")?;
        }

        let domain_days: Vec<_> = tally.domain_days.iter().collect();
        for chunk in statement_chunks(&domain_days) {
            let mut query = QueryBuilder::<Db>::new(
                "INSERT INTO daily_domain_totals (policy_domain, day, trusted, reports, \
                 successful_sessions, failed_sessions) ",
            );
            query.push_values(chunk, |mut row, &((domain, day, trusted), counts)| {
                row.push_bind(domain.as_str())
                    .push_bind(*day)
                    .push_bind(*trusted)
                    .push_bind(counts.reports)
                    .push_bind(counts.successful)
                    .push_bind(counts.failed);
            });
            query.push(
                " ON CONFLICT (policy_domain, day, trusted) DO UPDATE SET \
                 reports = daily_domain_totals.reports + excluded.reports, \
                 successful_sessions = daily_domain_totals.successful_sessions \
                 + excluded.successful_sessions, \
                 failed_sessions = daily_domain_totals.failed_sessions \
                 + excluded.failed_sessions",
            );
            query
                .build()
                .execute(&mut **tx)
                .await
                .doing("updating the daily domain totals")?;
        }

        let activity: Vec<_> = tally.activity.iter().collect();
        for chunk in statement_chunks(&activity) {
            let mut query = QueryBuilder::<Db>::new(
                "INSERT INTO domain_activity (policy_domain, first_report_start, \
                 last_report_start, last_trusted_report_start, last_ingested_at, \
                 trusted_reports, untrusted_reports) ",
            );
            query.push_values(chunk, |mut row, &(domain, a)| {
                row.push_bind(domain.as_str())
                    .push_bind(a.first_start)
                    .push_bind(a.last_start)
                    .push_bind(a.last_trusted_start)
                    .push_bind(a.last_ingested)
                    .push_bind(a.trusted)
                    .push_bind(a.untrusted);
            });
            // CASE rather than LEAST/GREATEST or MIN/MAX, which only one backend has.
            // A NULL comparison is not true, so the known value is kept.
            query.push(
                " ON CONFLICT (policy_domain) DO UPDATE SET \
                 first_report_start = CASE WHEN excluded.first_report_start \
                 < domain_activity.first_report_start THEN excluded.first_report_start \
                 ELSE domain_activity.first_report_start END, \
                 last_report_start = CASE WHEN excluded.last_report_start \
                 > domain_activity.last_report_start THEN excluded.last_report_start \
                 ELSE domain_activity.last_report_start END, \
                 last_trusted_report_start = CASE \
                 WHEN domain_activity.last_trusted_report_start IS NULL \
                 OR excluded.last_trusted_report_start \
                 > domain_activity.last_trusted_report_start \
                 THEN excluded.last_trusted_report_start \
                 ELSE domain_activity.last_trusted_report_start END, \
                 last_ingested_at = CASE WHEN excluded.last_ingested_at \
                 > domain_activity.last_ingested_at THEN excluded.last_ingested_at \
                 ELSE domain_activity.last_ingested_at END, \
                 trusted_reports = domain_activity.trusted_reports + excluded.trusted_reports, \
                 untrusted_reports = domain_activity.untrusted_reports \
                 + excluded.untrusted_reports",
            );
            query
                .build()
                .execute(&mut **tx)
                .await
                .doing("updating the domain activity")?;
        }
        Ok(())
    }
}
}
