//! Writing a batch of inputs in one transaction. A report is stored once: the unique
//! constraint on (organization_name, report_id) decides, never a check-then-insert, so
//! concurrent writers (threads or processes, on SQLite or PostgreSQL) cannot store a
//! report twice.

use std::collections::{BTreeMap, HashMap};

use sqlx::Transaction;
use tlsrpt_report::{FailureDetail, PolicyResult, Report};

use crate::backend::Backend;
use crate::open::{Doing, Store, StoreError};
use crate::raw::Raw;
use crate::rows::{RowsSql, statement_chunks};
use crate::tally::{Tally, WriteTally as _};

/// Who vouches for a report. Only trusted reports should count towards advice: anyone
/// who knows the rua address can send a report (RFC 8460 §3, DKIM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// Imported by the operator with `tlsrpt ingest`: the operator vouches for it.
    Operator,
    /// Mailed with a valid DKIM signature by the sender's domain (or a parent of it).
    DkimPass { domain: String },
    /// Mailed, and the trusted upstream MTA's Authentication-Results say DKIM passed.
    DkimUpstreamPass { domain: String },
    /// Mailed with DKIM signatures, none of them valid and aligned.
    DkimFail,
    /// Mailed without a DKIM signature.
    DkimNone,
    /// POSTed to the HTTPS endpoint with a valid per-domain token.
    HttpsToken,
    /// POSTed to the HTTPS endpoint without a token (none configured): anyone could send it.
    Https,
}

impl Auth {
    /// The stored form: a kind, and for DKIM passes the signing domain after a colon.
    pub fn to_db(&self) -> String {
        match self {
            Self::Operator => "operator".into(),
            Self::DkimPass { domain } => format!("dkim-pass:{domain}"),
            Self::DkimUpstreamPass { domain } => format!("dkim-upstream-pass:{domain}"),
            Self::DkimFail => "dkim-fail".into(),
            Self::DkimNone => "dkim-none".into(),
            Self::HttpsToken => "https-token".into(),
            Self::Https => "https".into(),
        }
    }

    /// True for what may count towards the advice: reports the operator imported,
    /// DKIM-verified mail, and HTTPS posts with a valid token.
    pub fn is_trusted(&self) -> bool {
        matches!(
            self,
            Self::Operator
                | Self::DkimPass { .. }
                | Self::DkimUpstreamPass { .. }
                | Self::HttpsToken
        )
    }
}

/// True when a stored auth value (see [`Auth::to_db`]) is trusted.
pub fn is_trusted_auth(stored: &str) -> bool {
    let kind = stored.split(':').next().unwrap_or_default();
    matches!(
        kind,
        "operator" | "dkim-pass" | "dkim-upstream-pass" | "https-token"
    )
}

/// What one report candidate of an input turned out to be, ready to store.
#[derive(Debug)]
pub enum Candidate {
    /// A parsed report and its original JSON.
    Report {
        report: Box<Report>,
        raw_json: Raw,
        auth: Auth,
    },
    /// A rejection, with the input's bytes kept for inspection.
    Rejected { reason: String, raw: Option<Raw> },
    /// Not a TLS report; nothing is kept but the record.
    NotReport { reason: String },
}

/// One report candidate of one input, with where it came from.
#[derive(Debug)]
pub struct NewInput {
    /// `file`, `mbox`, `maildir`, and later `imap`, `https`.
    pub source: &'static str,
    /// The path or mailbox location of the input.
    pub locator: String,
    /// The attachment or archive entry inside the input, if any.
    pub part: Option<String>,
    pub message_id: Option<String>,
    /// Unix seconds.
    pub received_at: i64,
    pub candidate: Candidate,
}

/// What became of a stored input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Stored,
    Duplicate,
    Rejected,
    NotReport,
}

impl Outcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stored => "stored",
            Self::Duplicate => "duplicate",
            Self::Rejected => "rejected",
            Self::NotReport => "not-report",
        }
    }
}

/// A report's identity: (organization-name, report-id).
type Key<'a> = (&'a str, &'a str);

fn key_of(report: &Report) -> Key<'_> {
    (&report.organization_name, &report.report_id)
}

/// Stored reports' ids by key, from rows of (id, organization-name, report-id).
fn ids_by_key(rows: &[(i64, String, String)]) -> HashMap<Key<'_>, i64> {
    rows.iter()
        .map(|(id, org, report_id)| ((org.as_str(), report_id.as_str()), *id))
        .collect()
}

static REPORTS: RowsSql = RowsSql::new(
    "INSERT INTO reports (organization_name, report_id, start_time, end_time, contact_info, \
     auth, quirks, raw_json, raw_size, ingested_at)",
    10,
    "ON CONFLICT (organization_name, report_id) DO NOTHING \
     RETURNING id, organization_name, report_id",
);

static FIND_REPORTS: RowsSql = RowsSql::new(
    "SELECT id, organization_name, report_id FROM reports \
     WHERE (organization_name, report_id) IN (",
    2,
    ")",
);

static POLICIES: RowsSql = RowsSql::new(
    "INSERT INTO policies (report_ref, position, policy_type, policy_domain, policy_string, \
     mx_host, successful_sessions, failed_sessions, detail_failed_sessions, start_time)",
    10,
    "RETURNING id, report_ref, position",
);

static FAILURE_DETAILS: RowsSql = RowsSql::new(
    "INSERT INTO failure_details (policy_ref, result_type, sending_mta_ip, \
     receiving_mx_hostname, receiving_mx_helo, receiving_ip, failed_session_count, \
     additional_information, failure_reason_code)",
    9,
    "",
);

static INPUTS: RowsSql = RowsSql::new(
    "INSERT INTO inputs (source, locator, part, message_id, outcome, reason, report_ref, raw, \
     raw_size, raw_complete, received_at)",
    11,
    "",
);

impl Store {
    /// Stores a batch of inputs in one transaction and says what became of each, in order.
    /// Either the whole batch is committed or nothing is. Rows are written with one
    /// multi-row INSERT per table and chunk, so a batch costs a handful of statements.
    pub async fn write_batch(&self, batch: &[NewInput]) -> Result<Vec<Outcome>, StoreError> {
        on_backend!(self, write_batch(batch))
    }

    /// A writer for a run of batches (a bulk import): it writes them all on one
    /// connection. Taking one from the pool for each batch spreads the batches over
    /// several connections, and on SQLite each connection then keeps its own page cache
    /// of the same file and drops it whenever another one has written.
    ///
    /// On SQLite that connection also checkpoints the write-ahead log less often (at
    /// 16,384 pages instead of SQLite's 1,000). Each batch dirties pages all
    /// over the indexes keyed by domain and reporter, and a checkpoint after each commit
    /// wrote those pages to the database file again every time: at 300,000 reports, 8.8 GB
    /// written for a 450 MB database. The connection is closed when the writer is dropped,
    /// so the setting never reaches other users of the pool.
    pub fn batch_writer(&self) -> BatchWriter<'_> {
        BatchWriter {
            store: self,
            held: None,
        }
    }
}

/// A bulk writer's SQLite connection checkpoints the write-ahead log at 64 MiB of 4 KiB
/// pages. See [`Store::batch_writer`].
const BULK_WAL_PRAGMA: &str = "PRAGMA wal_autocheckpoint = 16384";

/// Writes batches on one connection, kept between them; see [`Store::batch_writer`].
#[derive(Debug)]
pub struct BatchWriter<'s> {
    store: &'s Store,
    held: Option<HeldConnection>,
}

#[derive(Debug)]
enum HeldConnection {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

impl BatchWriter<'_> {
    /// As [`Store::write_batch`]. After a failure the connection is closed, and the next
    /// batch takes a fresh one.
    pub async fn write_batch(&mut self, batch: &[NewInput]) -> Result<Vec<Outcome>, StoreError> {
        let held = match self.held.take() {
            Some(held) => held,
            None => match &self.store.pool {
                Backend::Sqlite(pool) => {
                    let mut connection =
                        pool.acquire().await.doing("connecting to the database")?;
                    // Closed when dropped, never back to the pool with its bulk setting.
                    connection.close_on_drop();
                    sqlx::raw_sql(BULK_WAL_PRAGMA)
                        .execute(&mut *connection)
                        .await
                        .doing("setting up a bulk writer")?;
                    HeldConnection::Sqlite(connection)
                }
                Backend::Postgres(pool) => HeldConnection::Postgres(
                    pool.acquire().await.doing("connecting to the database")?,
                ),
            },
        };
        let (written, held) = match held {
            HeldConnection::Sqlite(mut connection) => {
                let written = sqlite::write_on(&mut connection, batch).await;
                (written, HeldConnection::Sqlite(connection))
            }
            HeldConnection::Postgres(mut connection) => {
                let written = postgres::write_on(&mut connection, batch).await;
                (written, HeldConnection::Postgres(connection))
            }
        };
        // A failed connection is dropped here, which closes it (see `write_on`).
        if written.is_ok() {
            self.held = Some(held);
        }
        written
    }
}

per_backend! {
    pub(super) async fn write_batch(
        pool: &sqlx::Pool<Db>,
        batch: &[NewInput],
    ) -> Result<Vec<Outcome>, StoreError> {
        let mut connection = pool.acquire().await.doing("connecting to the database")?;
        write_on(&mut connection, batch).await
    }

    /// Writes `batch` on `connection`; after a failure, the connection is closed when it
    /// is dropped.
    pub(super) async fn write_on(
        connection: &mut sqlx::pool::PoolConnection<Db>,
        batch: &[NewInput],
    ) -> Result<Vec<Outcome>, StoreError> {
        let written = write_in_transaction(connection, batch).await;
        if written.is_err() {
            // Never back to the pool after a failure: after a COMMIT failed on a full disk,
            // sqlx's idea of the transaction depth and SQLite's disagreed, and later
            // batches on that connection ran inside a transaction that was never committed:
            // acknowledged, then lost (tests/it/storage_faults.rs in the tlsrpt crate).
            // Closing the connection rolls back whatever is left open.
            connection.close_on_drop();
        }
        written
    }

    async fn write_in_transaction(
        connection: &mut sqlx::pool::PoolConnection<Db>,
        batch: &[NewInput],
    ) -> Result<Vec<Outcome>, StoreError> {
        let mut tx = sqlx::Connection::begin(&mut **connection)
            .await
            .doing("starting a transaction")?;
        let reports: Vec<(usize, &Report, &Raw, &Auth)> = batch
            .iter()
            .enumerate()
            .filter_map(|(i, input)| match &input.candidate {
                Candidate::Report {
                    report,
                    raw_json,
                    auth,
                } => Some((i, &**report, raw_json, auth)),
                _ => None,
            })
            .collect();

        let inserted_rows = insert_reports(&mut tx, &reports, batch).await?;
        let mut inserted = ids_by_key(&inserted_rows);
        let mut outcomes: Vec<Outcome> = batch
            .iter()
            .map(|input| match &input.candidate {
                Candidate::Report { .. } => Outcome::Duplicate,
                Candidate::Rejected { .. } => Outcome::Rejected,
                Candidate::NotReport { .. } => Outcome::NotReport,
            })
            .collect();
        let mut report_refs: Vec<Option<i64>> = vec![None; batch.len()];
        let mut new_reports = Vec::new();
        let mut duplicates = Vec::new();
        let mut tally = Tally::default();
        for &(i, report, _, auth) in &reports {
            let key = key_of(report);
            // The first candidate of the batch with a newly inserted key stored it; the
            // key is taken, so later candidates with it are duplicates.
            match inserted.remove(&key) {
                Some(id) => {
                    outcomes[i] = Outcome::Stored;
                    report_refs[i] = Some(id);
                    new_reports.push((id, report));
                    tally.add(report, auth, batch[i].received_at);
                }
                None => duplicates.push((i, key)),
            }
        }
        let existing_rows = find_reports(&mut tx, &duplicates).await?;
        let existing = ids_by_key(&existing_rows);
        for (i, key) in &duplicates {
            report_refs[*i] = existing.get(key).copied();
        }
        insert_policies(&mut tx, &new_reports).await?;
        Db::write_tally(&mut tx, &tally).await?;
        insert_inputs(&mut tx, batch, &outcomes, &report_refs).await?;
        count_inputs(&mut tx, batch, &outcomes).await?;
        tx.commit().await.doing("committing a batch")?;
        Ok(outcomes)
    }

    /// Adds the batch's inputs to the per-source, per-outcome counts, in key order (so
    /// concurrent writers lock the rows in the same order).
    async fn count_inputs(
        tx: &mut Transaction<'_, Db>,
        batch: &[NewInput],
        outcomes: &[Outcome],
    ) -> Result<(), StoreError> {
        let mut counts: BTreeMap<(&str, &str), (i64, i64)> = BTreeMap::new();
        for (input, outcome) in batch.iter().zip(outcomes) {
            let entry = counts
                .entry((input.source, outcome.as_str()))
                .or_insert((0, i64::MIN));
            entry.0 += 1;
            entry.1 = entry.1.max(input.received_at);
        }
        for ((source, outcome), (inputs, last)) in counts {
            sqlx::query(
                "INSERT INTO input_counts (source, outcome, inputs, last_received_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (source, outcome) DO UPDATE SET \
                 inputs = input_counts.inputs + excluded.inputs, \
                 last_received_at = CASE WHEN excluded.last_received_at > \
                 input_counts.last_received_at THEN excluded.last_received_at \
                 ELSE input_counts.last_received_at END",
            )
            .bind(source)
            .bind(outcome)
            .bind(inputs)
            .bind(last)
            .execute(&mut **tx)
            .await
            .doing("counting inputs")?;
        }
        Ok(())
    }

    /// Inserts the reports not stored yet; returns (id, organization-name, report-id) of
    /// those inserted.
    async fn insert_reports(
        tx: &mut Transaction<'_, Db>,
        reports: &[(usize, &Report, &Raw, &Auth)],
        batch: &[NewInput],
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        // Every writer inserts keys in the same (sorted) order, so that on PostgreSQL two
        // concurrent batches holding some of the same reports wait for each other on the
        // unique index instead of deadlocking.
        let mut reports = reports.to_vec();
        reports.sort_unstable_by(|a, b| key_of(a.1).cmp(&key_of(b.1)));
        let mut inserted = Vec::with_capacity(reports.len());
        for chunk in statement_chunks(&reports) {
            let mut query = sqlx::query_as(REPORTS.for_rows::<Db>(chunk.len()));
            for &(i, report, raw, auth) in chunk {
                query = query
                    .bind(report.organization_name.as_str())
                    .bind(report.report_id.as_str())
                    .bind(report.date_range.start.timestamp())
                    .bind(report.date_range.end.timestamp())
                    .bind(report.contact_info.as_deref())
                    .bind(auth.to_db())
                    .bind(json_quirks(report))
                    .bind(&raw.compressed[..])
                    .bind(to_i64(raw.size))
                    .bind(batch[i].received_at);
            }
            inserted.extend(
                query
                    .fetch_all(&mut **tx)
                    .await
                    .doing("storing reports")?,
            );
        }
        Ok(inserted)
    }

    /// The (id, organization-name, report-id) of already stored reports.
    async fn find_reports(
        tx: &mut Transaction<'_, Db>,
        keys: &[(usize, Key<'_>)],
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        let mut found = Vec::new();
        for chunk in statement_chunks(keys) {
            let mut query = sqlx::query_as(FIND_REPORTS.for_rows::<Db>(chunk.len()));
            for &(_, (org, report_id)) in chunk {
                query = query.bind(org).bind(report_id);
            }
            found.extend(
                query
                    .fetch_all(&mut **tx)
                    .await
                    .doing("finding duplicate reports")?,
            );
        }
        Ok(found)
    }

    /// Inserts the policies of newly stored reports, then their failure details.
    async fn insert_policies(
        tx: &mut Transaction<'_, Db>,
        reports: &[(i64, &Report)],
    ) -> Result<(), StoreError> {
        let policies: Vec<(i64, usize, &PolicyResult, i64)> = reports
            .iter()
            .flat_map(|&(id, report)| {
                let start = report.date_range.start.timestamp();
                report
                    .policies
                    .iter()
                    .enumerate()
                    .map(move |(position, result)| (id, position, result, start))
            })
            .collect();
        let mut details: Vec<(i64, &FailureDetail)> = Vec::new();
        for chunk in statement_chunks(&policies) {
            let mut query = sqlx::query_as(POLICIES.for_rows::<Db>(chunk.len()));
            for &(id, position, result, start) in chunk {
                query = query
                    .bind(id)
                    .bind(position as i64)
                    .bind(result.policy.policy_type.as_str())
                    .bind(result.policy.policy_domain.as_str())
                    .bind(json_list(&result.policy.policy_string))
                    .bind(json_list(&result.policy.mx_host))
                    .bind(to_i64(result.summary.total_successful_session_count))
                    .bind(to_i64(result.summary.total_failure_session_count))
                    .bind(to_i64(result.detail_failure_sum()))
                    .bind(start);
            }
            let rows: Vec<(i64, i64, i64)> = query
                .fetch_all(&mut **tx)
                .await
                .doing("storing policies")?;
            let by_key: HashMap<(i64, i64), i64> = rows
                .into_iter()
                .map(|(id, report, position)| ((report, position), id))
                .collect();
            for &(report, position, result, _) in chunk {
                if let Some(&policy_id) = by_key.get(&(report, position as i64)) {
                    details.extend(result.failure_details.iter().map(|d| (policy_id, d)));
                }
            }
        }
        for chunk in statement_chunks(&details) {
            let mut query = sqlx::query(FAILURE_DETAILS.for_rows::<Db>(chunk.len()));
            for &(policy_id, d) in chunk {
                query = query
                    .bind(policy_id)
                    .bind(d.result_type.as_str())
                    .bind(d.sending_mta_ip.as_deref())
                    .bind(d.receiving_mx_hostname.as_deref())
                    .bind(d.receiving_mx_helo.as_deref())
                    .bind(d.receiving_ip.as_deref())
                    .bind(to_i64(d.failed_session_count))
                    .bind(d.additional_information.as_deref())
                    .bind(d.failure_reason_code.as_deref());
            }
            query
                .execute(&mut **tx)
                .await
                .doing("storing failure details")?;
        }
        Ok(())
    }

    async fn insert_inputs(
        tx: &mut Transaction<'_, Db>,
        batch: &[NewInput],
        outcomes: &[Outcome],
        report_refs: &[Option<i64>],
    ) -> Result<(), StoreError> {
        let rows: Vec<(&NewInput, Outcome, Option<i64>)> = batch
            .iter()
            .zip(outcomes)
            .zip(report_refs)
            .map(|((input, &outcome), &report_ref)| (input, outcome, report_ref))
            .collect();
        for chunk in statement_chunks(&rows) {
            let mut query = sqlx::query(INPUTS.for_rows::<Db>(chunk.len()));
            for &(input, outcome, report_ref) in chunk {
                let (reason, raw) = match &input.candidate {
                    Candidate::Report { .. } => (None, None),
                    Candidate::Rejected { reason, raw } => (Some(reason.as_str()), raw.as_ref()),
                    Candidate::NotReport { reason } => (Some(reason.as_str()), None),
                };
                query = query
                    .bind(input.source)
                    .bind(input.locator.as_str())
                    .bind(input.part.as_deref())
                    .bind(input.message_id.as_deref())
                    .bind(outcome.as_str())
                    .bind(reason)
                    .bind(report_ref)
                    .bind(raw.map(|r| &r.compressed[..]))
                    .bind(raw.map(|r| to_i64(r.size)))
                    .bind(raw.map(|r| r.complete))
                    .bind(input.received_at);
            }
            query
                .execute(&mut **tx)
                .await
                .doing("recording inputs")?;
        }
        Ok(())
    }
}

fn json_quirks(report: &Report) -> String {
    serde_json::to_string(&report.quirks).unwrap_or_else(|_| "[]".into())
}

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

/// The parser caps counts at `i64::MAX`; sums saturate rather than wrap.
pub(crate) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
