//! The history of live MTA-STS / TLS-RPT checks: every check of a domain is kept whole (as
//! the checker's JSON) with its headline facts as columns, and the changes since the
//! domain's previous check. The store does not know the checker's types: the caller
//! serializes the report and the changes.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::open::{Doing, Store, StoreError};

/// One check to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCheck {
    /// The domain checked (stored lowercase, without a trailing dot).
    pub domain: String,
    /// When the check started (kept to the second).
    pub checked_at: DateTime<Utc>,
    /// `pass`, `warn` or `fail`.
    pub verdict: String,
    /// The `_mta-sts` record's id, when valid.
    pub sts_id: Option<String>,
    /// The policy mode, when a valid policy was fetched.
    pub mode: Option<String>,
    /// The MX host names.
    pub mx_hosts: Vec<String>,
    /// Number of error-level findings.
    pub errors: i64,
    /// Number of warning-level findings.
    pub warnings: i64,
    /// The whole check: records, policy text, MX set, TLS results, findings.
    pub report_json: String,
    /// The changes since the previous check, a JSON array.
    pub changes_json: String,
}

/// One stored check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredCheck {
    /// Row id; later checks of a domain have larger ids.
    pub id: i64,
    pub domain: String,
    pub checked_at: DateTime<Utc>,
    pub verdict: String,
    pub sts_id: Option<String>,
    pub mode: Option<String>,
    pub mx_hosts: Vec<String>,
    pub errors: i64,
    pub warnings: i64,
    pub report_json: String,
    pub changes_json: String,
}

#[derive(sqlx::FromRow)]
struct CheckRow {
    id: i64,
    domain: String,
    checked_at: i64,
    verdict: String,
    sts_id: Option<String>,
    mode: Option<String>,
    mx_hosts: String,
    errors: i64,
    warnings: i64,
    report_json: String,
    changes_json: String,
}

impl From<CheckRow> for StoredCheck {
    fn from(row: CheckRow) -> Self {
        Self {
            id: row.id,
            domain: row.domain,
            checked_at: DateTime::from_timestamp(row.checked_at, 0).unwrap_or_default(),
            verdict: row.verdict,
            sts_id: row.sts_id,
            mode: row.mode,
            mx_hosts: serde_json::from_str(&row.mx_hosts).unwrap_or_default(),
            errors: row.errors,
            warnings: row.warnings,
            report_json: row.report_json,
            changes_json: row.changes_json,
        }
    }
}

const COLUMNS: &str = "id, domain, checked_at, verdict, sts_id, mode, mx_hosts, errors, warnings, \
                       report_json, changes_json";

fn normalize(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}

impl Store {
    /// Stores one check and returns its id.
    pub async fn save_check(&self, check: &NewCheck) -> Result<i64, StoreError> {
        let mut check = check.clone();
        check.domain = normalize(&check.domain);
        on_backend!(self, save_check(&check))
    }

    /// The most recent check of `domain`.
    pub async fn latest_check(&self, domain: &str) -> Result<Option<StoredCheck>, StoreError> {
        let mut rows = on_backend!(self, check_history(&normalize(domain), 1))?;
        Ok(rows.pop().map(StoredCheck::from))
    }

    /// The most recent check of every checked domain, by domain name: a portfolio.
    pub async fn latest_checks(&self) -> Result<Vec<StoredCheck>, StoreError> {
        let mut rows: Vec<StoredCheck> = on_backend!(self, latest_checks())?
            .into_iter()
            .map(StoredCheck::from)
            .collect();
        rows.sort_by(|a, b| a.domain.cmp(&b.domain));
        Ok(rows)
    }

    /// The checks of `domain`, newest first, at most `limit`.
    pub async fn check_history(
        &self,
        domain: &str,
        limit: i64,
    ) -> Result<Vec<StoredCheck>, StoreError> {
        Ok(on_backend!(self, check_history(&normalize(domain), limit))?
            .into_iter()
            .map(StoredCheck::from)
            .collect())
    }

    /// The id of every checked domain's latest stored check, sorted by domain: cheap to
    /// poll for new checks (ids grow), unlike [`Store::latest_checks`].
    pub async fn latest_check_ids(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let mut ids = on_backend!(self, latest_check_ids())?;
        ids.sort();
        Ok(ids)
    }

    /// Every domain with at least one stored check, sorted.
    pub async fn checked_domains(&self) -> Result<Vec<String>, StoreError> {
        let mut domains = on_backend!(self, checked_domains())?;
        domains.sort();
        Ok(domains)
    }

    /// The domains to re-check on a schedule, sorted: every checked domain, and every
    /// policy domain of a trusted stored report (an untrusted report must not make the
    /// checker connect anywhere).
    pub async fn known_domains(&self) -> Result<Vec<String>, StoreError> {
        let mut domains = on_backend!(self, checked_domains())?;
        domains.extend(
            on_backend!(self, report_domains())?
                .into_iter()
                .map(|domain| normalize(&domain))
                .filter(|d| !d.is_empty()),
        );
        domains.sort();
        domains.dedup();
        Ok(domains)
    }
}

per_backend! {
    pub(super) async fn save_check(
        pool: &sqlx::Pool<Db>,
        check: &NewCheck,
    ) -> Result<i64, StoreError> {
        let mx_hosts = serde_json::to_string(&check.mx_hosts).unwrap_or_else(|_| "[]".to_owned());
        sqlx::query_scalar(
            "INSERT INTO checks (domain, checked_at, verdict, sts_id, mode, mx_hosts, errors, \
             warnings, report_json, changes_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(&check.domain)
        .bind(check.checked_at.timestamp())
        .bind(&check.verdict)
        .bind(&check.sts_id)
        .bind(&check.mode)
        .bind(mx_hosts)
        .bind(check.errors)
        .bind(check.warnings)
        .bind(&check.report_json)
        .bind(&check.changes_json)
        .fetch_one(pool)
        .await
        .doing("saving a check")
    }

    pub(super) async fn check_history(
        pool: &sqlx::Pool<Db>,
        domain: &str,
        limit: i64,
    ) -> Result<Vec<CheckRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM checks WHERE domain = $1 \
             ORDER BY checked_at DESC, id DESC LIMIT $2"
        );
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(domain)
            .bind(limit)
            .fetch_all(pool)
            .await
            .doing("reading the checks of a domain")
    }

    pub(super) async fn latest_checks(pool: &sqlx::Pool<Db>) -> Result<Vec<CheckRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM checks c WHERE c.id = (SELECT l.id FROM checks l \
             WHERE l.domain = c.domain ORDER BY l.checked_at DESC, l.id DESC LIMIT 1)"
        );
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(pool)
            .await
            .doing("reading the latest check of every domain")
    }

    pub(super) async fn latest_check_ids(
        pool: &sqlx::Pool<Db>,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        sqlx::query_as("SELECT domain, MAX(id) FROM checks GROUP BY domain")
            .fetch_all(pool)
            .await
            .doing("reading the latest check of every domain")
    }

    pub(super) async fn checked_domains(pool: &sqlx::Pool<Db>) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar("SELECT DISTINCT domain FROM checks")
            .fetch_all(pool)
            .await
            .doing("listing checked domains")
    }

    /// The policy domains of trusted reports, from the per-domain activity kept at
    /// ingest (one row per domain, not a scan of every policy).
    pub(super) async fn report_domains(pool: &sqlx::Pool<Db>) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar("SELECT policy_domain FROM domain_activity WHERE trusted_reports > 0")
        .fetch_all(pool)
        .await
        .doing("listing the policy domains of stored reports")
    }
}
