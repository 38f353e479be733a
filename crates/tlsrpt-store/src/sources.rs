//! The health of the ingest sources, for the dashboard's sources page: what each source
//! (file, mbox, Maildir, IMAP, HTTPS) delivered and when, each IMAP mailbox's last sync
//! and last error, and the inputs that did not become reports.

use serde::Serialize;

use crate::open::{Doing, Store, StoreError};

/// What one source delivered, by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SourceSummary {
    pub source: String,
    pub stored: i64,
    pub duplicate: i64,
    pub rejected: i64,
    pub not_report: i64,
    /// Unix seconds of the most recent input.
    pub last_received_at: Option<i64>,
}

/// The sync state of one IMAP mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct MailboxStatus {
    pub mailbox: String,
    pub uid_validity: i64,
    pub last_uid: i64,
    /// Unix seconds of the last successful sync step.
    pub updated_at: i64,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
}

/// An input that was not stored as a report: a rejection or a message that held none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct UnacceptedInput {
    pub id: i64,
    pub source: String,
    pub locator: String,
    pub part: Option<String>,
    /// `rejected` or `not-report`.
    pub outcome: String,
    pub reason: Option<String>,
    pub received_at: i64,
    pub raw_size: Option<i64>,
}

impl Store {
    /// Inputs per source and outcome, sources in byte order.
    pub async fn source_summary(&self) -> Result<Vec<SourceSummary>, StoreError> {
        let rows = on_backend!(self, source_counts())?;
        let mut summaries: Vec<SourceSummary> = Vec::new();
        for (source, outcome, count, last) in rows {
            let index = match summaries.iter().position(|s| s.source == source) {
                Some(i) => i,
                None => {
                    summaries.push(SourceSummary {
                        source,
                        ..SourceSummary::default()
                    });
                    summaries.len() - 1
                }
            };
            let summary = &mut summaries[index];
            match outcome.as_str() {
                "stored" => summary.stored += count,
                "duplicate" => summary.duplicate += count,
                "rejected" => summary.rejected += count,
                _ => summary.not_report += count,
            }
            summary.last_received_at = summary.last_received_at.max(Some(last));
        }
        summaries.sort_by(|a, b| a.source.cmp(&b.source));
        Ok(summaries)
    }

    /// Every IMAP mailbox synced so far, in byte order.
    pub async fn mailboxes(&self) -> Result<Vec<MailboxStatus>, StoreError> {
        let mut rows = on_backend!(self, mailboxes())?;
        rows.sort_by(|a, b| a.mailbox.cmp(&b.mailbox));
        Ok(rows)
    }

    /// Records that syncing `mailbox` failed, with the reason; the next successful sync
    /// step clears it.
    pub async fn record_mailbox_error(&self, mailbox: &str, error: &str) -> Result<(), StoreError> {
        let now = chrono::Utc::now().timestamp();
        on_backend!(self, record_mailbox_error(mailbox, error, now))
    }

    /// The most recent rejections and non-report inputs first, at most `limit`.
    pub async fn unaccepted_inputs(&self, limit: i64) -> Result<Vec<UnacceptedInput>, StoreError> {
        on_backend!(self, unaccepted_inputs(limit))
    }
}

per_backend! {
    pub(super) async fn source_counts(
        pool: &sqlx::Pool<Db>,
    ) -> Result<Vec<(String, String, i64, i64)>, StoreError> {
        sqlx::query_as(
            "SELECT source, outcome, inputs, last_received_at FROM input_counts",
        )
        .fetch_all(pool)
        .await
        .doing("counting inputs per source")
    }

    pub(super) async fn mailboxes(
        pool: &sqlx::Pool<Db>,
    ) -> Result<Vec<MailboxStatus>, StoreError> {
        sqlx::query_as(
            "SELECT mailbox, uid_validity, last_uid, updated_at, last_error, last_error_at \
             FROM mailbox_state",
        )
        .fetch_all(pool)
        .await
        .doing("listing mailboxes")
    }

    pub(super) async fn record_mailbox_error(
        pool: &sqlx::Pool<Db>,
        mailbox: &str,
        error: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        // A mailbox that never synced gets a row with no resume point (UID 0).
        sqlx::query(
            "INSERT INTO mailbox_state (mailbox, uid_validity, last_uid, updated_at, \
             last_error, last_error_at) VALUES ($1, 0, 0, 0, $2, $3) \
             ON CONFLICT (mailbox) DO UPDATE SET last_error = excluded.last_error, \
             last_error_at = excluded.last_error_at",
        )
        .bind(mailbox)
        .bind(error)
        .bind(now)
        .execute(pool)
        .await
        .doing("recording a mailbox error")?;
        Ok(())
    }

    pub(super) async fn unaccepted_inputs(
        pool: &sqlx::Pool<Db>,
        limit: i64,
    ) -> Result<Vec<UnacceptedInput>, StoreError> {
        sqlx::query_as(
            "SELECT id, source, locator, part, outcome, reason, received_at, raw_size \
             FROM inputs WHERE outcome IN ('rejected', 'not-report') \
             ORDER BY received_at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await
        .doing("listing inputs that are not reports")
    }
}
