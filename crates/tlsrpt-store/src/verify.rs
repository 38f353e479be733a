//! Checking that the stored data hold together, for `tlsrpt db check` and the crash tests:
//! every report has its original bytes and all of its policies and failure details, the
//! record of inputs accounts for every report once, and the rollups and input counts kept
//! at ingest equal a recomputation from the detail rows and the ledger. A batch is one transaction, so a crash must
//! leave none of these broken; this proves it rather than assuming it.

use serde::Serialize;
use tlsrpt_report::Limits;

use crate::open::{Doing, Store, StoreError};
use crate::raw::Raw;
use crate::rollups::trusted_auth;

/// How many rows each table holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TableCounts {
    pub reports: i64,
    pub policies: i64,
    pub failure_details: i64,
    pub inputs: i64,
    pub daily_rollups: i64,
    pub daily_domain_totals: i64,
    pub domain_activity: i64,
}

/// The outcome of [`Store::verify_consistency`]: the row counts, and every problem found
/// (empty when the data hold together).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Consistency {
    pub counts: TableCounts,
    pub problems: Vec<String>,
}

/// Reports read back per query.
const PAGE: i64 = 500;

/// The most offenders named per check.
const NAMED: usize = 10;

/// The policy rows of each report, with its policy rows recomputed into the rollup grain.
macro_rules! rollup_source {
    () => {
        concat!(
            "WITH src AS (SELECT p.report_ref, p.id AS policy_id, p.policy_domain, \
             p.policy_type, p.successful_sessions, p.failed_sessions, p.start_time, \
             (p.start_time - (((p.start_time % 86400) + 86400) % 86400)) / 86400 AS day, \
             r.organization_name AS reporter, r.ingested_at, ",
            trusted_auth!(),
            " AS trusted FROM policies p JOIN reports r ON r.id = p.report_ref) "
        )
    };
}

/// `daily_rollups` as the detail rows give it.
const EXPECTED_ROLLUPS: &str = concat!(
    rollup_source!(),
    ", expected AS (SELECT policy_domain, day, policy_type, reporter, trusted, \
     '' AS result_type, '' AS receiving_mx, COUNT(DISTINCT report_ref) AS reports, \
     CAST(SUM(successful_sessions) AS BIGINT) AS ok, CAST(SUM(failed_sessions) AS BIGINT) AS failed \
     FROM src GROUP BY policy_domain, day, policy_type, reporter, trusted \
     UNION ALL \
     SELECT s.policy_domain, s.day, s.policy_type, s.reporter, s.trusted, \
     CASE WHEN d.result_type = '' THEN '(empty)' ELSE d.result_type END, \
     COALESCE(d.receiving_mx_hostname, ''), COUNT(DISTINCT s.report_ref), 0, \
     CAST(SUM(d.failed_session_count) AS BIGINT) \
     FROM failure_details d JOIN src s ON s.policy_id = d.policy_ref \
     GROUP BY s.policy_domain, s.day, s.policy_type, s.reporter, s.trusted, \
     CASE WHEN d.result_type = '' THEN '(empty)' ELSE d.result_type END, \
     COALESCE(d.receiving_mx_hostname, '')), \
     stored AS (SELECT policy_domain, day, policy_type, reporter, trusted, result_type, \
     receiving_mx, reports, successful_sessions, failed_sessions FROM daily_rollups) "
);

/// `daily_domain_totals` as the detail rows give it.
const EXPECTED_DOMAIN_TOTALS: &str = concat!(
    rollup_source!(),
    ", expected AS (SELECT policy_domain, day, trusted, COUNT(DISTINCT report_ref) AS reports, \
     CAST(SUM(successful_sessions) AS BIGINT) AS ok, CAST(SUM(failed_sessions) AS BIGINT) AS failed \
     FROM src GROUP BY policy_domain, day, trusted), \
     stored AS (SELECT policy_domain, day, trusted, reports, successful_sessions, \
     failed_sessions FROM daily_domain_totals) "
);

/// `domain_activity` as the detail rows give it.
const EXPECTED_ACTIVITY: &str = concat!(
    rollup_source!(),
    ", expected AS (SELECT policy_domain, MIN(start_time) AS first_start, \
     MAX(start_time) AS last_start, MAX(CASE WHEN trusted THEN start_time END) AS last_trusted, \
     MAX(ingested_at) AS last_ingested, \
     COUNT(DISTINCT CASE WHEN trusted THEN report_ref END) AS trusted_reports, \
     COUNT(DISTINCT CASE WHEN NOT trusted THEN report_ref END) AS untrusted_reports \
     FROM src GROUP BY policy_domain), \
     stored AS (SELECT policy_domain, first_report_start, last_report_start, \
     last_trusted_report_start, last_ingested_at, trusted_reports, untrusted_reports \
     FROM domain_activity) "
);

/// `input_counts` as the inputs ledger gives it.
const EXPECTED_INPUT_COUNTS: &str = "WITH expected AS (SELECT source, outcome, \
     COUNT(*) AS inputs, MAX(received_at) AS last_received_at FROM inputs \
     GROUP BY source, outcome), \
     stored AS (SELECT source, outcome, inputs, last_received_at FROM input_counts) ";

/// Reports that are not recorded as stored by exactly one input.
const UNLEDGERED_SQL: &str = "SELECT r.organization_name, r.report_id, COUNT(i.id) \
     FROM reports r LEFT JOIN inputs i ON i.report_ref = r.id AND i.outcome = 'stored' \
     GROUP BY r.id, r.organization_name, r.report_id HAVING COUNT(i.id) <> 1";

/// Inputs recorded as stored or duplicate reports that point at no report.
const DANGLING_SQL: &str = "SELECT COUNT(*) FROM inputs \
     WHERE outcome IN ('stored', 'duplicate') AND report_ref IS NULL";

impl Store {
    /// How many rows each table holds.
    pub async fn table_counts(&self) -> Result<TableCounts, StoreError> {
        on_backend!(self, table_counts())
    }

    /// Checks that the stored data hold together (see the module documentation) and
    /// returns the row counts with every problem found. Reads every report once: its
    /// kept JSON is decompressed and parsed again, and its policies and failure details
    /// are counted against the rows.
    pub async fn verify_consistency(&self) -> Result<Consistency, StoreError> {
        let counts = self.table_counts().await?;
        let mut problems = Vec::new();
        let mut after = i64::MIN;
        loop {
            let page = on_backend!(self, report_page(after))?;
            let Some(last) = page.last() else { break };
            after = last.id;
            problems.extend(page.iter().filter_map(ReportRows::problem));
        }
        for (sql, table) in [
            (EXPECTED_ROLLUPS, "daily_rollups"),
            (EXPECTED_DOMAIN_TOTALS, "daily_domain_totals"),
            (EXPECTED_ACTIVITY, "domain_activity"),
            (EXPECTED_INPUT_COUNTS, "input_counts"),
        ] {
            let (missing, extra) = on_backend!(self, difference(sql))?;
            if missing + extra > 0 {
                problems.push(format!(
                    "{table}: {missing} rows that a recomputation from the stored rows gives are \
                     missing or differ, {extra} stored rows it does not give"
                ));
            }
        }
        let unledgered = on_backend!(self, unledgered())?;
        for (org, report_id, inputs) in unledgered.iter().take(NAMED) {
            problems.push(format!(
                "report {org:?} {report_id:?} is recorded as stored by {inputs} inputs, not 1"
            ));
        }
        if unledgered.len() > NAMED {
            problems.push(format!(
                "{} more reports are not recorded as stored by exactly one input",
                unledgered.len() - NAMED
            ));
        }
        let dangling = on_backend!(self, dangling())?;
        if dangling > 0 {
            problems.push(format!(
                "{dangling} inputs recorded as stored or duplicate reports point at no report"
            ));
        }
        Ok(Consistency { counts, problems })
    }
}

/// One stored report: its kept JSON, and how many policy and failure-detail rows it has.
#[derive(Debug, sqlx::FromRow)]
struct ReportRows {
    id: i64,
    organization_name: String,
    report_id: String,
    raw_json: Vec<u8>,
    raw_size: i64,
    policies: i64,
    failure_details: i64,
}

impl ReportRows {
    /// What is wrong with this report's rows, if anything.
    fn problem(&self) -> Option<String> {
        let name = format!(
            "report {:?} {:?} (id {})",
            self.organization_name, self.report_id, self.id
        );
        let json = match Raw::decompress(&self.raw_json) {
            Ok(json) => json,
            Err(e) => return Some(format!("{name}: its kept JSON does not decompress: {e}")),
        };
        if i64::try_from(json.len()).ok() != Some(self.raw_size) {
            return Some(format!(
                "{name}: its kept JSON has {} bytes, {} were recorded",
                json.len(),
                self.raw_size
            ));
        }
        let unbounded = Limits {
            max_bytes: usize::MAX,
            max_policies: usize::MAX,
            max_failure_details: usize::MAX,
            max_string_bytes: usize::MAX,
        };
        let report = match tlsrpt_report::parse(&json, &unbounded) {
            Ok(report) => report,
            Err(e) => return Some(format!("{name}: its kept JSON no longer parses: {e}")),
        };
        let policies = report.policies.len() as i64;
        let details: i64 = report
            .policies
            .iter()
            .map(|p| p.failure_details.len() as i64)
            .sum();
        (policies != self.policies || details != self.failure_details).then(|| {
            format!(
                "{name}: has {} policies and {} failure details stored, its JSON has {policies} and {details}",
                self.policies, self.failure_details
            )
        })
    }
}

per_backend! {
    pub(super) async fn table_counts(pool: &sqlx::Pool<Db>) -> Result<TableCounts, StoreError> {
        let row: (i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM reports), (SELECT COUNT(*) FROM policies), \
             (SELECT COUNT(*) FROM failure_details), (SELECT COUNT(*) FROM inputs), \
             (SELECT COUNT(*) FROM daily_rollups), (SELECT COUNT(*) FROM daily_domain_totals), \
             (SELECT COUNT(*) FROM domain_activity)",
        )
        .fetch_one(pool)
        .await
        .doing("counting rows")?;
        Ok(TableCounts {
            reports: row.0,
            policies: row.1,
            failure_details: row.2,
            inputs: row.3,
            daily_rollups: row.4,
            daily_domain_totals: row.5,
            domain_activity: row.6,
        })
    }

    pub(super) async fn report_page(
        pool: &sqlx::Pool<Db>,
        after: i64,
    ) -> Result<Vec<ReportRows>, StoreError> {
        sqlx::query_as(
            "SELECT r.id, r.organization_name, r.report_id, r.raw_json, r.raw_size, \
             (SELECT COUNT(*) FROM policies p WHERE p.report_ref = r.id) AS policies, \
             (SELECT COUNT(*) FROM failure_details d JOIN policies p ON p.id = d.policy_ref \
             WHERE p.report_ref = r.id) AS failure_details \
             FROM reports r WHERE r.id > $1 ORDER BY r.id LIMIT $2",
        )
        .bind(after)
        .bind(PAGE)
        .fetch_all(pool)
        .await
        .doing("reading reports back")
    }

    /// Rows of `expected` not in `stored`, and rows of `stored` not in `expected`, for a
    /// query that defines both.
    pub(super) async fn difference(
        pool: &sqlx::Pool<Db>,
        with: &str,
    ) -> Result<(i64, i64), StoreError> {
        let sql = format!(
            "{with} SELECT (SELECT COUNT(*) FROM (SELECT * FROM expected EXCEPT SELECT * FROM stored) a), \
             (SELECT COUNT(*) FROM (SELECT * FROM stored EXCEPT SELECT * FROM expected) b)"
        );
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_one(pool)
            .await
            .doing("recomputing the rollups")
    }

    pub(super) async fn unledgered(
        pool: &sqlx::Pool<Db>,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        sqlx::query_as(UNLEDGERED_SQL)
            .fetch_all(pool)
            .await
            .doing("checking the record of inputs")
    }

    pub(super) async fn dangling(pool: &sqlx::Pool<Db>) -> Result<i64, StoreError> {
        sqlx::query_scalar(DANGLING_SQL)
            .fetch_one(pool)
            .await
            .doing("checking the record of inputs")
    }
}
