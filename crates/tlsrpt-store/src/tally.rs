//! Keeping the rollups up to date at ingest: the newly stored reports of a batch are
//! added up in Rust, then written with one upsert per table and chunk, inside the batch's
//! transaction (see `migrations/*/0003_rollups.sql` for the tables).
//!
//! Every writer upserts keys in the same (sorted) order, tables in the same order, so that
//! concurrent PostgreSQL transactions touching the same rollup rows wait for each other
//! instead of deadlocking.

use std::collections::BTreeMap;

use sqlx::Transaction;
use tlsrpt_report::Report;

use crate::open::{Doing, StoreError};
use crate::rows::{RowsSql, statement_chunks};
use crate::write::{Auth, to_i64};

/// The `result_type` of a session-totals row of `daily_rollups`.
pub(crate) const TOTALS: &str = "";

/// How an empty result-type is rolled up, so that it cannot pass for a totals row.
pub(crate) const EMPTY_RESULT_TYPE: &str = "(empty)";

/// Days since the Unix epoch (UTC) of a Unix time.
pub(crate) fn epoch_day(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(86_400)
}

/// A `daily_rollups` key: (policy_domain, day, policy_type, reporter, trusted,
/// result_type, receiving_mx), borrowed from the batch's reports.
type RollupKey<'a> = (&'a str, i64, &'a str, &'a str, bool, &'a str, &'a str);

/// A `daily_domain_totals` key: (policy_domain, day, trusted).
type DomainDayKey<'a> = (&'a str, i64, bool);

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
pub(crate) struct Tally<'a> {
    rollups: BTreeMap<RollupKey<'a>, Counts>,
    domain_days: BTreeMap<DomainDayKey<'a>, Counts>,
    activity: BTreeMap<&'a str, Activity>,
}

impl<'a> Tally<'a> {
    /// Adds one newly stored report, received at `ingested_at` (Unix seconds).
    pub(crate) fn add(&mut self, report: &'a Report, auth: &Auth, ingested_at: i64) {
        let trusted = auth.is_trusted();
        let start = report.date_range.start.timestamp();
        let day = epoch_day(start);
        let reporter = report.organization_name.as_str();
        // This report's own sums first, so that it counts once per key however many of
        // its policy entries share that key.
        let mut rollups: BTreeMap<RollupKey<'a>, Counts> = BTreeMap::new();
        let mut domains: BTreeMap<&'a str, Counts> = BTreeMap::new();
        for result in &report.policies {
            let domain = result.policy.policy_domain.as_str();
            let policy_type = result.policy.policy_type.as_str();
            let key = |result_type: &'a str, mx: &'a str| {
                (domain, day, policy_type, reporter, trusted, result_type, mx)
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
                .entry((domain, day, trusted))
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
                .entry(domain)
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

static DAILY_ROLLUPS: RowsSql = RowsSql::new(
    "INSERT INTO daily_rollups (policy_domain, day, policy_type, reporter, trusted, \
     result_type, receiving_mx, reports, successful_sessions, failed_sessions)",
    10,
    "ON CONFLICT (policy_domain, day, policy_type, reporter, trusted, result_type, \
     receiving_mx) DO UPDATE SET \
     reports = daily_rollups.reports + excluded.reports, \
     successful_sessions = daily_rollups.successful_sessions + excluded.successful_sessions, \
     failed_sessions = daily_rollups.failed_sessions + excluded.failed_sessions",
);

static DAILY_DOMAIN_TOTALS: RowsSql = RowsSql::new(
    "INSERT INTO daily_domain_totals (policy_domain, day, trusted, reports, \
     successful_sessions, failed_sessions)",
    6,
    "ON CONFLICT (policy_domain, day, trusted) DO UPDATE SET \
     reports = daily_domain_totals.reports + excluded.reports, \
     successful_sessions = daily_domain_totals.successful_sessions \
     + excluded.successful_sessions, \
     failed_sessions = daily_domain_totals.failed_sessions + excluded.failed_sessions",
);

// CASE rather than LEAST/GREATEST or MIN/MAX, which only one backend has. A NULL
// comparison is not true, so the known value is kept.
static DOMAIN_ACTIVITY: RowsSql = RowsSql::new(
    "INSERT INTO domain_activity (policy_domain, first_report_start, last_report_start, \
     last_trusted_report_start, last_ingested_at, trusted_reports, untrusted_reports)",
    7,
    "ON CONFLICT (policy_domain) DO UPDATE SET \
     first_report_start = CASE WHEN excluded.first_report_start \
     < domain_activity.first_report_start THEN excluded.first_report_start \
     ELSE domain_activity.first_report_start END, \
     last_report_start = CASE WHEN excluded.last_report_start \
     > domain_activity.last_report_start THEN excluded.last_report_start \
     ELSE domain_activity.last_report_start END, \
     last_trusted_report_start = CASE \
     WHEN domain_activity.last_trusted_report_start IS NULL \
     OR excluded.last_trusted_report_start > domain_activity.last_trusted_report_start \
     THEN excluded.last_trusted_report_start \
     ELSE domain_activity.last_trusted_report_start END, \
     last_ingested_at = CASE WHEN excluded.last_ingested_at \
     > domain_activity.last_ingested_at THEN excluded.last_ingested_at \
     ELSE domain_activity.last_ingested_at END, \
     trusted_reports = domain_activity.trusted_reports + excluded.trusted_reports, \
     untrusted_reports = domain_activity.untrusted_reports + excluded.untrusted_reports",
);

/// Writing a [`Tally`] in a transaction of this backend.
pub(crate) trait WriteTally: sqlx::Database {
    /// Adds `tally` to the rollup tables, in the caller's transaction.
    async fn write_tally(
        tx: &mut Transaction<'_, Self>,
        tally: &Tally<'_>,
    ) -> Result<(), StoreError>;
}

per_backend! {
    impl WriteTally for Db {
    async fn write_tally(
        tx: &mut Transaction<'_, Db>,
        tally: &Tally<'_>,
    ) -> Result<(), StoreError> {
        if tally.is_empty() {
            return Ok(());
        }
        let rollups: Vec<_> = tally.rollups.iter().collect();
        for chunk in statement_chunks(&rollups) {
            let mut query = sqlx::query(DAILY_ROLLUPS.for_rows::<Db>(chunk.len()));
            for &(key, counts) in chunk {
                let &(domain, day, policy_type, reporter, trusted, result_type, mx) = key;
                query = query
                    .bind(domain)
                    .bind(day)
                    .bind(policy_type)
                    .bind(reporter)
                    .bind(trusted)
                    .bind(result_type)
                    .bind(mx)
                    .bind(counts.reports)
                    .bind(counts.successful)
                    .bind(counts.failed);
            }
            query
                .execute(&mut **tx)
                .await
                .doing("updating the daily rollups")?;
        }

        let domain_days: Vec<_> = tally.domain_days.iter().collect();
        for chunk in statement_chunks(&domain_days) {
            let mut query = sqlx::query(DAILY_DOMAIN_TOTALS.for_rows::<Db>(chunk.len()));
            for &(&(domain, day, trusted), counts) in chunk {
                query = query
                    .bind(domain)
                    .bind(day)
                    .bind(trusted)
                    .bind(counts.reports)
                    .bind(counts.successful)
                    .bind(counts.failed);
            }
            query
                .execute(&mut **tx)
                .await
                .doing("updating the daily domain totals")?;
        }

        let activity: Vec<_> = tally.activity.iter().collect();
        for chunk in statement_chunks(&activity) {
            let mut query = sqlx::query(DOMAIN_ACTIVITY.for_rows::<Db>(chunk.len()));
            for &(&domain, a) in chunk {
                query = query
                    .bind(domain)
                    .bind(a.first_start)
                    .bind(a.last_start)
                    .bind(a.last_trusted_start)
                    .bind(a.last_ingested)
                    .bind(a.trusted)
                    .bind(a.untrusted);
            }
            query
                .execute(&mut **tx)
                .await
                .doing("updating the domain activity")?;
        }
        Ok(())
    }
}
}
