//! Light summaries for monitoring (the Prometheus scrape): failed sessions per domain and
//! result type over recent days, and the headline of each domain's latest check without
//! its JSON. Each is one query that reads a few rows per domain, never the detail tables.

use chrono::NaiveDate;
use serde::Serialize;

use crate::open::{Doing, Store, StoreError};
use crate::rollups::day_number;

/// Failed sessions of one domain and result type over a window of days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct DomainFailures {
    pub domain: String,
    /// As reported; `(empty)` for an empty result-type.
    pub result_type: String,
    pub failed_sessions: i64,
}

/// The headline facts of a domain's latest check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct CheckSummary {
    /// The check's row id: it changes when a newer check is stored.
    pub id: i64,
    pub domain: String,
    /// Unix seconds.
    pub checked_at: i64,
    /// `pass`, `warn` or `fail`.
    pub verdict: String,
    pub errors: i64,
    pub warnings: i64,
}

/// Per domain with a stored report, the failed sessions by result type over days [$1, $2]
/// (only trusted reports if $3). The domain list drives the join, so each domain costs a
/// range of the rollups' primary key, never a scan of the whole table; `CROSS JOIN` keeps
/// SQLite's planner from reordering it (on PostgreSQL it is a plain join).
const FAILURES_SQL: &str = "SELECT r.policy_domain AS domain, r.result_type, \
     CAST(SUM(r.failed_sessions) AS BIGINT) AS failed_sessions \
     FROM domain_activity a CROSS JOIN daily_rollups r \
     WHERE r.policy_domain = a.policy_domain AND r.day >= $1 AND r.day <= $2 \
     AND r.result_type <> '' AND (r.trusted OR NOT $3) \
     GROUP BY r.policy_domain, r.result_type";

/// The latest check of every checked domain. The distinct domains are found by a loose
/// index scan (one index probe per domain, not a pass over every check ever stored), then
/// each domain's latest check by its `(domain, checked_at)` index.
const CHECK_SUMMARIES_SQL: &str = "WITH RECURSIVE d(domain) AS ( \
     SELECT MIN(domain) FROM checks \
     UNION ALL \
     SELECT (SELECT MIN(c.domain) FROM checks c WHERE c.domain > d.domain) FROM d \
     WHERE d.domain IS NOT NULL) \
     SELECT c.id, c.domain, c.checked_at, c.verdict, c.errors, c.warnings \
     FROM d JOIN checks c ON c.id = (SELECT l.id FROM checks l WHERE l.domain = d.domain \
     ORDER BY l.checked_at DESC, l.id DESC LIMIT 1)";

impl Store {
    /// Failed sessions per domain and result type in reports that started on days
    /// `since` to `until` (UTC, both included); only trusted reports if `trusted_only`.
    /// Sorted by domain, then result type.
    pub async fn recent_failures(
        &self,
        since: NaiveDate,
        until: NaiveDate,
        trusted_only: bool,
    ) -> Result<Vec<DomainFailures>, StoreError> {
        let mut rows = on_backend!(
            self,
            recent_failures(day_number(since), day_number(until), trusted_only)
        )?;
        rows.sort_by(|a, b| (&a.domain, &a.result_type).cmp(&(&b.domain, &b.result_type)));
        Ok(rows)
    }

    /// The headline of every checked domain's latest check (no JSON), by domain.
    pub async fn latest_check_summaries(&self) -> Result<Vec<CheckSummary>, StoreError> {
        let mut rows = on_backend!(self, latest_check_summaries())?;
        rows.sort_by(|a, b| a.domain.cmp(&b.domain));
        Ok(rows)
    }

    /// The whole stored JSON of check `id` (see [`crate::StoredCheck::report_json`]).
    pub async fn check_report_json(&self, id: i64) -> Result<Option<String>, StoreError> {
        on_backend!(self, check_report_json(id))
    }
}

per_backend! {
    pub(super) async fn recent_failures(
        pool: &sqlx::Pool<Db>,
        since: i64,
        until: i64,
        trusted_only: bool,
    ) -> Result<Vec<DomainFailures>, StoreError> {
        sqlx::query_as(FAILURES_SQL)
            .bind(since)
            .bind(until)
            .bind(trusted_only)
            .fetch_all(pool)
            .await
            .doing("summing recent failures per domain and result type")
    }

    pub(super) async fn latest_check_summaries(
        pool: &sqlx::Pool<Db>,
    ) -> Result<Vec<CheckSummary>, StoreError> {
        sqlx::query_as(CHECK_SUMMARIES_SQL)
            .fetch_all(pool)
            .await
            .doing("reading the latest check of every domain")
    }

    pub(super) async fn check_report_json(
        pool: &sqlx::Pool<Db>,
        id: i64,
    ) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT report_json FROM checks WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
            .doing("reading a check's JSON")
    }
}
