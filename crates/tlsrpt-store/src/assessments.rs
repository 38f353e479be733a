//! The last verdict computed for each domain, so that a portfolio of thousands of domains
//! lists its verdicts without assessing every domain on every page view. The advisor
//! decides when an entry is stale (new reports, a new check, a new day); the store only
//! keeps what it is given.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::open::{Doing, Store, StoreError};

/// The verdict of one domain as last computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CachedAssessment {
    pub domain: String,
    /// Whether only trusted reports were counted.
    pub trusted_only: bool,
    /// The kebab-case verdict.
    pub verdict: String,
    pub headline: String,
    /// When it was computed (whole seconds).
    pub computed_at: DateTime<Utc>,
}

type Row = (String, bool, String, String, i64);

impl Store {
    /// Every cached verdict counted with `trusted_only`, in byte order of domain.
    pub async fn cached_assessments(
        &self,
        trusted_only: bool,
    ) -> Result<Vec<CachedAssessment>, StoreError> {
        let mut rows: Vec<CachedAssessment> = on_backend!(self, cached(trusted_only))?
            .into_iter()
            .map(
                |(domain, trusted_only, verdict, headline, at)| CachedAssessment {
                    domain,
                    trusted_only,
                    verdict,
                    headline,
                    computed_at: DateTime::from_timestamp(at, 0).unwrap_or_default(),
                },
            )
            .collect();
        rows.sort_by(|a, b| a.domain.cmp(&b.domain));
        Ok(rows)
    }

    /// Replaces the cached verdicts of the given domains.
    pub async fn save_assessments(&self, rows: &[CachedAssessment]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        on_backend!(self, save(rows))
    }
}

per_backend! {
    pub(super) async fn cached(
        pool: &sqlx::Pool<Db>,
        trusted_only: bool,
    ) -> Result<Vec<Row>, StoreError> {
        sqlx::query_as(
            "SELECT policy_domain, trusted_only, verdict, headline, computed_at \
             FROM assessments WHERE trusted_only = $1",
        )
        .bind(trusted_only)
        .fetch_all(pool)
        .await
        .doing("reading cached verdicts")
    }

    pub(super) async fn save(
        pool: &sqlx::Pool<Db>,
        rows: &[CachedAssessment],
    ) -> Result<(), StoreError> {
        let mut connection = pool.acquire().await.doing("connecting to the database")?;
        let saved = save_in_transaction(&mut connection, rows).await;
        if saved.is_err() {
            // Not back to the pool: a failed COMMIT can leave the connection inside a
            // transaction (see `write::write_batch`).
            connection.close_on_drop();
        }
        saved
    }

    async fn save_in_transaction(
        connection: &mut sqlx::pool::PoolConnection<Db>,
        rows: &[CachedAssessment],
    ) -> Result<(), StoreError> {
        let mut tx = sqlx::Connection::begin(&mut **connection)
            .await
            .doing("starting a transaction")?;
        // Sorted, so that concurrent savers lock rows in the same order.
        let mut rows: Vec<&CachedAssessment> = rows.iter().collect();
        rows.sort_by(|a, b| (&a.domain, a.trusted_only).cmp(&(&b.domain, b.trusted_only)));
        for row in rows {
            sqlx::query(
                "INSERT INTO assessments (policy_domain, trusted_only, verdict, headline, \
                 computed_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (policy_domain, trusted_only) DO UPDATE SET \
                 verdict = excluded.verdict, headline = excluded.headline, \
                 computed_at = excluded.computed_at",
            )
            .bind(&row.domain)
            .bind(row.trusted_only)
            .bind(&row.verdict)
            .bind(&row.headline)
            .bind(row.computed_at.timestamp())
            .execute(&mut *tx)
            .await
            .doing("caching a verdict")?;
        }
        tx.commit().await.doing("committing cached verdicts")
    }
}
