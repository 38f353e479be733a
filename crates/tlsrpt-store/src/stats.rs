//! Per-domain statistics over stored reports: the figures behind `tlsrpt stats`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::open::{Doing, Store, StoreError};
use crate::rollups::{day_number, normalise_domain};
use crate::tally::TOTALS;

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
    /// then type (byte order). Read from the daily rollups: a report counts on the UTC day
    /// of its start-datetime, and `since`/`until` select whole days.
    pub async fn stats(&self, filter: &StatsFilter) -> Result<Vec<DomainStats>, StoreError> {
        let since = filter.since.map_or(i64::MIN, day_number);
        let until = filter.until.map_or(i64::MAX, day_number);
        let domain = filter.domain.as_deref().map(normalise_domain);
        let rows = match &domain {
            Some(domain) => on_backend!(self, sums(STATS_DOMAIN_SQL, since, until, Some(domain)))?,
            None => on_backend!(self, sums(STATS_ALL_SQL, since, until, None))?,
        };
        // Gathered in a BTreeMap rather than sorted by the database: PostgreSQL would
        // order by its locale's collation, SQLite by bytes, and the output must be the
        // same on both.
        let mut by_pair: BTreeMap<(String, String), DomainStats> = BTreeMap::new();
        for (policy_domain, policy_type, result_type, reports, successful, failed) in rows {
            let stats = by_pair
                .entry((policy_domain.clone(), policy_type.clone()))
                .or_insert_with(|| DomainStats {
                    policy_domain,
                    policy_type,
                    reports: 0,
                    successful_sessions: 0,
                    failed_sessions: 0,
                    failures_by_result_type: BTreeMap::new(),
                });
            if result_type == TOTALS {
                stats.reports = reports;
                stats.successful_sessions = successful;
                stats.failed_sessions = failed;
            } else {
                stats.failures_by_result_type.insert(result_type, failed);
            }
        }
        Ok(by_pair.into_values().collect())
    }
}

/// Sums per (domain, policy type, result type) of the rollups in days [$1, $2].
pub(crate) const STATS_ALL_SQL: &str = "SELECT policy_domain, policy_type, result_type, \
     CAST(SUM(reports) AS BIGINT), CAST(SUM(successful_sessions) AS BIGINT), \
     CAST(SUM(failed_sessions) AS BIGINT) FROM daily_rollups \
     WHERE day >= $1 AND day <= $2 GROUP BY policy_domain, policy_type, result_type";

/// [`STATS_ALL_SQL`] for domain $3 only: a range of the rollups' primary key.
pub(crate) const STATS_DOMAIN_SQL: &str = "SELECT policy_domain, policy_type, result_type, \
     CAST(SUM(reports) AS BIGINT), CAST(SUM(successful_sessions) AS BIGINT), \
     CAST(SUM(failed_sessions) AS BIGINT) FROM daily_rollups \
     WHERE policy_domain = $3 AND day >= $1 AND day <= $2 \
     GROUP BY policy_domain, policy_type, result_type";

/// (policy_domain, policy_type, result_type, reports, successful, failed) per rollup
/// group; `result_type` is empty for the session totals.
type Sums = Vec<(String, String, String, i64, i64, i64)>;

per_backend! {
    /// The summed rollups of days [since, until], of `domain` if given. Sums are cast to
    /// BIGINT: PostgreSQL's `SUM(bigint)` is NUMERIC, SQLite's is already an integer.
    pub(super) async fn sums(
        pool: &sqlx::Pool<Db>,
        sql: &'static str,
        since: i64,
        until: i64,
        domain: Option<&str>,
    ) -> Result<Sums, StoreError> {
        let mut query = sqlx::query_as(sql).bind(since).bind(until);
        if let Some(domain) = domain {
            query = query.bind(domain);
        }
        query
            .fetch_all(pool)
            .await
            .doing("summing the daily rollups")
    }
}
