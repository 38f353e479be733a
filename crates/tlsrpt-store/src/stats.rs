//! Per-domain statistics over stored reports: the figures behind `tlsrpt stats`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::open::{Doing, Store, StoreError};

/// Which reports the statistics cover.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsFilter {
    /// Only this policy domain (compared in its normalised form).
    pub domain: Option<String>,
    /// Reports whose start-datetime is on or after this day (UTC).
    pub since: Option<NaiveDate>,
    /// Reports whose start-datetime is on or before this day (UTC).
    pub until: Option<NaiveDate>,
}

/// Totals for one (policy-domain, policy-type) pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainStats {
    pub policy_domain: String,
    pub policy_type: String,
    /// Distinct reports with at least one policy entry for this pair.
    pub reports: i64,
    /// Sum of `total-successful-session-count`.
    pub successful_sessions: i64,
    /// Sum of `total-failure-session-count`.
    pub failed_sessions: i64,
    /// Sum of `failed-session-count` of the failure details, by result type.
    pub failures_by_result_type: BTreeMap<String, i64>,
}

impl Store {
    /// Totals per (policy-domain, policy-type) over the stored reports, sorted by domain
    /// then type (byte order).
    pub async fn stats(&self, filter: &StatsFilter) -> Result<Vec<DomainStats>, StoreError> {
        let since = filter
            .since
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(i64::MIN, |t| t.and_utc().timestamp());
        let until = filter
            .until
            .and_then(|d| d.succ_opt())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(i64::MAX, |t| t.and_utc().timestamp());
        let domain = filter
            .domain
            .as_deref()
            .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase());

        let (mut totals, failures) = on_backend!(self, sums(since, until, domain.as_deref()))?;
        // Sorted here rather than by the database: PostgreSQL would order by its locale's
        // collation, SQLite by bytes, and the output must be the same on both.
        totals.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));

        let mut by_pair: BTreeMap<(String, String), BTreeMap<String, i64>> = BTreeMap::new();
        for (domain, policy_type, result_type, sessions) in failures {
            by_pair
                .entry((domain, policy_type))
                .or_default()
                .insert(result_type, sessions);
        }
        Ok(totals
            .into_iter()
            .map(
                |(policy_domain, policy_type, reports, successful_sessions, failed_sessions)| {
                    let failures_by_result_type = by_pair
                        .remove(&(policy_domain.clone(), policy_type.clone()))
                        .unwrap_or_default();
                    DomainStats {
                        policy_domain,
                        policy_type,
                        reports,
                        successful_sessions,
                        failed_sessions,
                        failures_by_result_type,
                    }
                },
            )
            .collect())
    }
}

/// (policy_domain, policy_type, reports, successful, failed) per pair.
type Totals = Vec<(String, String, i64, i64, i64)>;
/// (policy_domain, policy_type, result_type, failed sessions) per result type and pair.
type Failures = Vec<(String, String, String, i64)>;

per_backend! {
    /// The session totals and the failure sums of the policies that started in
    /// `[since, until)`, of `domain` if given. Sums are cast to BIGINT: PostgreSQL's
    /// `SUM(bigint)` is NUMERIC, SQLite's is already an integer.
    pub(super) async fn sums(
        pool: &sqlx::Pool<Db>,
        since: i64,
        until: i64,
        domain: Option<&str>,
    ) -> Result<(Totals, Failures), StoreError> {
        let totals = sqlx::query_as(
            "SELECT policy_domain, policy_type, COUNT(DISTINCT report_ref), \
             CAST(SUM(successful_sessions) AS BIGINT), CAST(SUM(failed_sessions) AS BIGINT) \
             FROM policies \
             WHERE start_time >= $1 AND start_time < $2 AND ($3 IS NULL OR policy_domain = $3) \
             GROUP BY policy_domain, policy_type",
        )
        .bind(since)
        .bind(until)
        .bind(domain)
        .fetch_all(pool)
        .await
        .doing("summing sessions per domain")?;

        let failures = sqlx::query_as(
            "SELECT p.policy_domain, p.policy_type, d.result_type, \
             CAST(SUM(d.failed_session_count) AS BIGINT) \
             FROM failure_details d JOIN policies p ON p.id = d.policy_ref \
             WHERE p.start_time >= $1 AND p.start_time < $2 \
             AND ($3 IS NULL OR p.policy_domain = $3) \
             GROUP BY p.policy_domain, p.policy_type, d.result_type",
        )
        .bind(since)
        .bind(until)
        .bind(domain)
        .fetch_all(pool)
        .await
        .doing("summing failures per result type")?;
        Ok((totals, failures))
    }
}
