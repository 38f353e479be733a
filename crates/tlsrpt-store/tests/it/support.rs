//! Shared test plumbing: a store on either backend (a temporary SQLite file, or a fresh
//! database on the test binary's own PostgreSQL), and inputs built from report JSON the
//! way `tlsrpt ingest` builds them (through `tlsrpt_ingest::extract`).

use std::path::PathBuf;

use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Row as _};
use tlsrpt_ingest::{Claim, Found, Limits, extract};
use tlsrpt_store::{Auth, Candidate, DomainStats, NewInput, Raw, StatsFilter, Store};

pub use tlsrpt_testkit::Backend;
pub(crate) use tlsrpt_testkit::on_both_backends;

/// A store on a fresh database of its own.
pub struct TempStore {
    /// Holds the SQLite file (and is empty for PostgreSQL) until the test ends.
    _dir: tempfile::TempDir,
    pub backend: Backend,
    /// The URL the store was opened with.
    pub url: String,
    pub store: Store,
}

impl TempStore {
    pub async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = backend.fresh_database_url(dir.path());
        let store = Store::open(&url).await.unwrap();
        Self {
            _dir: dir,
            backend,
            url,
            store,
        }
    }

    pub async fn stats(&self) -> Vec<DomainStats> {
        self.store.stats(&StatsFilter::default()).await.unwrap()
    }

    /// Runs `statements` on a connection of its own, outside the store.
    pub async fn execute(&self, statements: &[&str]) {
        match self.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", self.url))
                    .await
                    .unwrap();
                for sql in statements {
                    sqlx::query(AssertSqlSafe(*sql))
                        .execute(&pool)
                        .await
                        .unwrap();
                }
                pool.close().await;
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
                for sql in statements {
                    sqlx::query(AssertSqlSafe(*sql))
                        .execute(&pool)
                        .await
                        .unwrap();
                }
                pool.close().await;
            }
        }
    }

    /// The BIGINT that `sql` selects, read on a connection of its own.
    pub async fn scalar(&self, sql: &str) -> i64 {
        match self.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", self.url))
                    .await
                    .unwrap();
                let value = sqlx::query(AssertSqlSafe(sql))
                    .fetch_one(&pool)
                    .await
                    .unwrap()
                    .get(0);
                pool.close().await;
                value
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
                let value = sqlx::query(AssertSqlSafe(sql))
                    .fetch_one(&pool)
                    .await
                    .unwrap()
                    .get(0);
                pool.close().await;
                value
            }
        }
    }
}

pub fn path_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("tlsrpt.db")
}

/// Report JSON with one sts policy for `domain` with `ok` successful sessions.
pub fn report_json(org: &str, id: &str, domain: &str, ok: u64) -> Vec<u8> {
    serde_json::to_vec(&report(org, id, vec![policy(domain, ok, &[])])).unwrap()
}

pub fn report(org: &str, id: &str, policies: Vec<Value>) -> Value {
    json!({
        "organization-name": org,
        "date-range": {
            "start-datetime": "2026-03-01T00:00:00Z",
            "end-datetime": "2026-03-01T23:59:59Z"
        },
        "contact-info": "tlsrpt@reporter.example",
        "report-id": id,
        "policies": policies,
    })
}

/// An sts policy entry; the failure count in the summary is the sum of the details.
pub fn policy(domain: &str, ok: u64, details: &[(&str, u64)]) -> Value {
    let failed: u64 = details.iter().map(|d| d.1).sum();
    let details: Vec<Value> = details
        .iter()
        .map(|&(t, n)| json!({"result-type": t, "failed-session-count": n}))
        .collect();
    json!({
        "policy": {
            "policy-type": "sts",
            "policy-string": ["version: STSv1", "mode: enforce"],
            "policy-domain": domain,
        },
        "summary": {
            "total-successful-session-count": ok,
            "total-failure-session-count": failed,
        },
        "failure-details": details,
    })
}

/// A gzip stream of `bytes` (`Raw::compress` writes standard gzip, which the ingest
/// crate's own decoder reads).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    Raw::compress(bytes, bytes.len() as u64).compressed
}

/// The input record of `bytes` (JSON or gzip holding one report), read at `locator`.
pub fn input(bytes: &[u8], locator: &str) -> NewInput {
    let mut found = extract(bytes, Claim::Operator, &Limits::default());
    assert_eq!(found.len(), 1, "one candidate in {locator}: {found:?}");
    let candidate = match found.remove(0) {
        Found::Report {
            report, json, gzip, ..
        } => {
            let raw_json = match gzip {
                Some(gzip) => Raw::from_gzip(gzip, json.len() as u64),
                None => Raw::compress(&json, json.len() as u64),
            };
            Candidate::Report {
                report,
                raw_json,
                auth: Auth::Operator,
            }
        }
        Found::Rejected { reason, .. } => Candidate::Rejected {
            reason,
            raw: Some(Raw::compress(bytes, bytes.len() as u64)),
        },
        Found::NotReport { reason } => Candidate::NotReport { reason },
    };
    NewInput {
        source: "file",
        locator: locator.to_owned(),
        part: None,
        message_id: None,
        received_at: 1_772_400_000,
        candidate,
    }
}

/// A rejected input that keeps `bytes`.
pub fn rejected(bytes: &[u8], locator: &str, reason: &str, received_at: i64) -> NewInput {
    NewInput {
        source: "file",
        locator: locator.to_owned(),
        part: Some("attachment.json".to_owned()),
        message_id: Some("<m@reporter.example>".to_owned()),
        received_at,
        candidate: Candidate::Rejected {
            reason: reason.to_owned(),
            raw: Some(Raw::compress(bytes, bytes.len() as u64)),
        },
    }
}

/// (domain, reports, successful, failed) of every stats row.
pub fn totals(stats: &[DomainStats]) -> Vec<(String, i64, i64, i64)> {
    stats
        .iter()
        .map(|d| {
            (
                d.policy_domain.clone(),
                d.reports,
                d.successful_sessions,
                d.failed_sessions,
            )
        })
        .collect()
}
