//! Listing stored reports: who sent them, for which period, how they arrived and whether
//! they are trusted, with the RFC 8460 deviations each showed. The evidence behind stats.

use serde::Serialize;

use crate::open::{Doing, Store, StoreError};
use crate::write::is_trusted_auth;

/// One stored report, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredReport {
    pub organization_name: String,
    pub report_id: String,
    /// Unix seconds.
    pub start_time: i64,
    /// Unix seconds.
    pub end_time: i64,
    /// Who vouches for it (see [`crate::Auth::to_db`]).
    pub auth: String,
    /// Whether it may count towards advice.
    pub trusted: bool,
    /// The deviations from RFC 8460 it showed, as recorded at ingest.
    pub quirks: serde_json::Value,
    /// Unix seconds.
    pub ingested_at: i64,
}

type Row = (String, String, i64, i64, String, String, i64);

fn stored(
    (organization_name, report_id, start_time, end_time, auth, quirks, ingested_at): Row,
) -> StoredReport {
    StoredReport {
        organization_name,
        report_id,
        start_time,
        end_time,
        trusted: is_trusted_auth(&auth),
        auth,
        quirks: serde_json::from_str(&quirks).unwrap_or_default(),
        ingested_at,
    }
}

impl Store {
    /// Stored reports, newest period first, at most `limit`; only those with a policy for
    /// `domain` when given.
    pub async fn reports(
        &self,
        domain: Option<&str>,
        limit: i64,
    ) -> Result<Vec<StoredReport>, StoreError> {
        let domain = domain.map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase());
        let rows = on_backend!(self, list_reports(domain.as_deref(), limit))?;
        Ok(rows.into_iter().map(stored).collect())
    }

    /// One stored report, by its identity.
    pub async fn report(
        &self,
        organization_name: &str,
        report_id: &str,
    ) -> Result<Option<StoredReport>, StoreError> {
        let row = on_backend!(self, find_report(organization_name, report_id))?;
        Ok(row.map(stored))
    }
}

per_backend! {
    pub(super) async fn find_report(
        pool: &sqlx::Pool<Db>,
        organization_name: &str,
        report_id: &str,
    ) -> Result<Option<Row>, StoreError> {
        sqlx::query_as(
            "SELECT organization_name, report_id, start_time, end_time, auth, quirks, \
             ingested_at FROM reports WHERE organization_name = $1 AND report_id = $2",
        )
        .bind(organization_name)
        .bind(report_id)
        .fetch_optional(pool)
        .await
        .doing("reading a report")
    }

    pub(super) async fn list_reports(
        pool: &sqlx::Pool<Db>,
        domain: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Row>, StoreError> {
        // One domain's reports are found through the (policy_domain, start_time) index of
        // its policies, not by walking every report for one that has such a policy.
        let sql = match domain {
            Some(_) => {
                "SELECT r.organization_name, r.report_id, r.start_time, r.end_time, r.auth, \
                 r.quirks, r.ingested_at FROM reports r WHERE r.id IN \
                 (SELECT p.report_ref FROM policies p WHERE p.policy_domain = $1) \
                 ORDER BY r.start_time DESC, r.id DESC LIMIT $2"
            }
            None => {
                "SELECT r.organization_name, r.report_id, r.start_time, r.end_time, r.auth, \
                 r.quirks, r.ingested_at FROM reports r WHERE CAST($1 AS TEXT) IS NULL \
                 ORDER BY r.start_time DESC, r.id DESC LIMIT $2"
            }
        };
        sqlx::query_as(sql)
            .bind(domain)
            .bind(limit)
            .fetch_all(pool)
            .await
            .doing("listing reports")
    }
}
