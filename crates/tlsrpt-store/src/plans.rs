//! The plans the database chooses for the hot queries (stats of one domain, the
//! portfolio, a domain's daily rollups, failures, policies seen, the untrusted count): for
//! the query-plan test, the benchmark and docs/QUERY-PLANS.md. The queries explained are
//! the very SQL texts that the store runs.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row as _};

use crate::open::{Doing, Store, StoreError};
use crate::rollups::{
    ACTIVITY_SQL, DOMAIN_DAILY_SQL, FAILURE_ROWS_SQL, POLICIES_SEEN_SQL, PORTFOLIO_SQL,
    UNTRUSTED_SQL, day_number, day_start, normalise_domain,
};
use crate::stats::STATS_DOMAIN_SQL;

/// One hot query and its plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueryPlan {
    /// What the query serves, e.g. `stats (one domain, 30 days)`.
    pub name: &'static str,
    /// The SQL text, as the store runs it.
    pub sql: &'static str,
    /// The plan, one line per node: SQLite's `EXPLAIN QUERY PLAN` details, or
    /// PostgreSQL's `EXPLAIN` text.
    pub plan: Vec<String>,
}

/// A bind value of an explained query.
#[derive(Debug, Clone)]
enum Param {
    Text(String),
    Int(i64),
    Bool(bool),
}

/// How each backend explains a query.
trait Explain: sqlx::Database {
    /// Put before the query's text.
    const PREFIX: &'static str;
    /// The column of the plan's rows that holds the text.
    const COLUMN: usize;
    /// A statement, local to the transaction, that makes the planner use an index
    /// wherever one can serve, even on a table small enough to scan.
    const PREFER_INDEXES: Option<&'static str>;
}

impl Explain for sqlx::Sqlite {
    const PREFIX: &'static str = "EXPLAIN QUERY PLAN ";
    const COLUMN: usize = 3;
    // SQLite's planner picks an index whenever one fits, whatever the table's size.
    const PREFER_INDEXES: Option<&'static str> = None;
}

impl Explain for sqlx::Postgres {
    const PREFIX: &'static str = "EXPLAIN ";
    const COLUMN: usize = 0;
    const PREFER_INDEXES: Option<&'static str> = Some("SET LOCAL enable_seqscan = off");
}

impl Store {
    /// The plans of the hot queries, for `domain` over the 30 days ending `today`.
    /// With `prefer_indexes`, PostgreSQL plans with sequential scans disabled
    /// (`enable_seqscan = off`), which shows the index a query can use on a table still
    /// small enough that a scan would be cheaper; SQLite plans the same either way.
    pub async fn query_plans(
        &self,
        domain: &str,
        today: NaiveDate,
        prefer_indexes: bool,
    ) -> Result<Vec<QueryPlan>, StoreError> {
        let domain = normalise_domain(domain);
        let until = day_number(today);
        let since = until - 29;
        let (from, to) = (day_start(since), day_start(until + 1));
        let text = || Param::Text(domain.clone());
        let queries: Vec<(&'static str, &'static str, Vec<Param>)> = vec![
            (
                "stats (one domain, 30 days)",
                STATS_DOMAIN_SQL,
                vec![Param::Int(since), Param::Int(until), text()],
            ),
            ("portfolio: domain activity", ACTIVITY_SQL, vec![]),
            (
                "portfolio: 30 days of every domain",
                PORTFOLIO_SQL,
                vec![Param::Int(since), Param::Int(until), Param::Bool(true)],
            ),
            (
                "domain_daily (30 days)",
                DOMAIN_DAILY_SQL,
                vec![
                    text(),
                    Param::Int(since),
                    Param::Int(until),
                    Param::Bool(true),
                ],
            ),
            (
                "failure_rows (30 days)",
                FAILURE_ROWS_SQL,
                vec![text(), Param::Int(from), Param::Int(to), Param::Bool(true)],
            ),
            (
                "policies_seen (30 days)",
                POLICIES_SEEN_SQL,
                vec![text(), Param::Int(from), Param::Int(to), Param::Bool(true)],
            ),
            (
                "untrusted_summary (30 days)",
                UNTRUSTED_SQL,
                vec![text(), Param::Int(since), Param::Int(until)],
            ),
        ];
        let mut plans = Vec::with_capacity(queries.len());
        for (name, sql, params) in queries {
            let plan = on_backend!(self, explain(sql, &params, prefer_indexes))?;
            plans.push(QueryPlan { name, sql, plan });
        }
        Ok(plans)
    }
}

per_backend! {
    pub(super) async fn explain(
        pool: &sqlx::Pool<Db>,
        sql: &'static str,
        params: &[Param],
        prefer_indexes: bool,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = pool.begin().await.doing("starting a transaction")?;
        if let Some(setting) = <Db as Explain>::PREFER_INDEXES.filter(|_| prefer_indexes) {
            sqlx::query(setting)
                .execute(&mut *tx)
                .await
                .doing("preferring indexes")?;
        }
        let text = format!("{}{sql}", <Db as Explain>::PREFIX);
        let mut query = sqlx::query(AssertSqlSafe(text));
        for param in params {
            query = match param {
                Param::Text(value) => query.bind(value.clone()),
                Param::Int(value) => query.bind(*value),
                Param::Bool(value) => query.bind(*value),
            };
        }
        let rows = query.fetch_all(&mut *tx).await.doing("explaining a query")?;
        tx.rollback().await.doing("ending a transaction")?;
        rows.iter()
            .map(|row| row.try_get::<String, _>(<Db as Explain>::COLUMN))
            .collect::<Result<_, _>>()
            .doing("reading a query plan")
    }
}
