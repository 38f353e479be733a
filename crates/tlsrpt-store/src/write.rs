//! Writing a batch of inputs in one transaction. A report is stored once: the unique
//! constraint on (organization_name, report_id) decides, never a check-then-insert.

use sqlx::{Sqlite, Transaction};
use tlsrpt_report::Report;

use crate::open::{Doing, Store, StoreError};
use crate::raw::Raw;

/// Who vouches for a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Imported by the operator with `tlsrpt ingest`: the operator vouches for it.
    Operator,
}

impl Auth {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operator => "operator",
        }
    }
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

impl Store {
    /// Stores a batch of inputs in one transaction and says what became of each, in order.
    /// Either the whole batch is committed or nothing is.
    pub async fn write_batch(&self, batch: &[NewInput]) -> Result<Vec<Outcome>, StoreError> {
        let mut tx = self.pool.begin().await.doing("starting a transaction")?;
        let mut outcomes = Vec::with_capacity(batch.len());
        for input in batch {
            outcomes.push(write_one(&mut tx, input).await?);
        }
        tx.commit().await.doing("committing a batch")?;
        Ok(outcomes)
    }
}

async fn write_one(
    tx: &mut Transaction<'_, Sqlite>,
    input: &NewInput,
) -> Result<Outcome, StoreError> {
    let (outcome, reason, report_ref, raw) = match &input.candidate {
        Candidate::Report {
            report,
            raw_json,
            auth,
        } => match insert_report(tx, report, raw_json, *auth, input.received_at).await? {
            Some(id) => (Outcome::Stored, None, Some(id), None),
            None => {
                let existing: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM reports WHERE organization_name = $1 AND report_id = $2",
                )
                .bind(&report.organization_name)
                .bind(&report.report_id)
                .fetch_optional(&mut **tx)
                .await
                .doing("finding a duplicate report")?;
                (Outcome::Duplicate, None, existing, None)
            }
        },
        Candidate::Rejected { reason, raw } => {
            (Outcome::Rejected, Some(reason.as_str()), None, raw.as_ref())
        }
        Candidate::NotReport { reason } => (Outcome::NotReport, Some(reason.as_str()), None, None),
    };
    sqlx::query(
        "INSERT INTO inputs (source, locator, part, message_id, outcome, reason, report_ref, \
         raw, raw_size, raw_complete, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(input.source)
    .bind(&input.locator)
    .bind(&input.part)
    .bind(&input.message_id)
    .bind(outcome.as_str())
    .bind(reason)
    .bind(report_ref)
    .bind(raw.map(|r| &r.compressed[..]))
    .bind(raw.map(|r| to_i64(r.size)))
    .bind(raw.map(|r| r.complete))
    .bind(input.received_at)
    .execute(&mut **tx)
    .await
    .doing("recording an input")?;
    Ok(outcome)
}

/// Inserts the report and its rows; `None` when the report is already stored.
async fn insert_report(
    tx: &mut Transaction<'_, Sqlite>,
    report: &Report,
    raw_json: &Raw,
    auth: Auth,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let quirks = serde_json::to_string(&report.quirks).unwrap_or_else(|_| "[]".into());
    let start = report.date_range.start.timestamp();
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO reports (organization_name, report_id, start_time, end_time, contact_info, \
         auth, quirks, raw_json, raw_size, ingested_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (organization_name, report_id) DO NOTHING RETURNING id",
    )
    .bind(&report.organization_name)
    .bind(&report.report_id)
    .bind(start)
    .bind(report.date_range.end.timestamp())
    .bind(&report.contact_info)
    .bind(auth.as_str())
    .bind(quirks)
    .bind(&raw_json.compressed[..])
    .bind(to_i64(raw_json.size))
    .bind(now)
    .fetch_optional(&mut **tx)
    .await
    .doing("storing a report")?;
    let Some(id) = id else {
        return Ok(None);
    };
    for (position, result) in report.policies.iter().enumerate() {
        let policy = &result.policy;
        let policy_id: i64 = sqlx::query_scalar(
            "INSERT INTO policies (report_ref, position, policy_type, policy_domain, \
             policy_string, mx_host, successful_sessions, failed_sessions, \
             detail_failed_sessions, start_time) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(id)
        .bind(position as i64)
        .bind(policy.policy_type.as_str())
        .bind(&policy.policy_domain)
        .bind(json_list(&policy.policy_string))
        .bind(json_list(&policy.mx_host))
        .bind(to_i64(result.summary.total_successful_session_count))
        .bind(to_i64(result.summary.total_failure_session_count))
        .bind(to_i64(result.detail_failure_sum()))
        .bind(start)
        .fetch_one(&mut **tx)
        .await
        .doing("storing a policy")?;
        for detail in &result.failure_details {
            sqlx::query(
                "INSERT INTO failure_details (policy_ref, result_type, sending_mta_ip, \
                 receiving_mx_hostname, receiving_mx_helo, receiving_ip, failed_session_count, \
                 additional_information, failure_reason_code) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(policy_id)
            .bind(detail.result_type.as_str())
            .bind(&detail.sending_mta_ip)
            .bind(&detail.receiving_mx_hostname)
            .bind(&detail.receiving_mx_helo)
            .bind(&detail.receiving_ip)
            .bind(to_i64(detail.failed_session_count))
            .bind(&detail.additional_information)
            .bind(&detail.failure_reason_code)
            .execute(&mut **tx)
            .await
            .doing("storing a failure detail")?;
        }
    }
    Ok(Some(id))
}

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

/// The parser caps counts at `i64::MAX`; sums saturate rather than wrap.
fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
