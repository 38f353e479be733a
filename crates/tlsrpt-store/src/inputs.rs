//! Reading back the record of inputs: rejections are listed with their reasons, and their
//! kept bytes can be retrieved for inspection or re-ingestion.

use serde::Serialize;

use crate::open::{Doing, Store, StoreError};
use crate::raw::Raw;

/// A rejected input, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RejectedInput {
    pub id: i64,
    pub source: String,
    pub locator: String,
    pub part: Option<String>,
    pub message_id: Option<String>,
    pub reason: String,
    /// Unix seconds.
    pub received_at: i64,
    /// The input's size in bytes, when its bytes were kept.
    pub raw_size: Option<i64>,
    /// False when only the head of an oversized input was kept.
    pub raw_complete: Option<bool>,
}

impl Store {
    /// The most recent rejections first, at most `limit`.
    pub async fn rejected_inputs(&self, limit: i64) -> Result<Vec<RejectedInput>, StoreError> {
        on_backend!(self, rejected_inputs(limit))
    }

    /// The kept bytes of input `id`, decompressed; `None` when none were kept.
    pub async fn input_bytes(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        match on_backend!(self, input_raw(id))? {
            Some(gzip) => Raw::decompress(&gzip)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("input {id}: {e}"))),
            None => Ok(None),
        }
    }

    /// The original JSON of stored report `(organization_name, report_id)`.
    pub async fn report_json(
        &self,
        organization_name: &str,
        report_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        on_backend!(self, report_raw(organization_name, report_id))?
            .map(|gzip| {
                Raw::decompress(&gzip)
                    .map_err(|e| StoreError::Corrupt(format!("report {report_id}: {e}")))
            })
            .transpose()
    }
}

per_backend! {
    pub(super) async fn rejected_inputs(
        pool: &sqlx::Pool<Db>,
        limit: i64,
    ) -> Result<Vec<RejectedInput>, StoreError> {
        sqlx::query_as(
            "SELECT id, source, locator, part, message_id, reason, received_at, raw_size, \
             raw_complete FROM inputs WHERE outcome = 'rejected' \
             ORDER BY received_at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await
        .doing("listing rejected inputs")
    }

    /// The kept gzip bytes of input `id`; `None` when there is no such input or it kept none.
    pub(super) async fn input_raw(
        pool: &sqlx::Pool<Db>,
        id: i64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let raw: Option<Option<Vec<u8>>> =
            sqlx::query_scalar("SELECT raw FROM inputs WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
                .doing("reading an input's bytes")?;
        Ok(raw.flatten())
    }

    pub(super) async fn report_raw(
        pool: &sqlx::Pool<Db>,
        organization_name: &str,
        report_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        sqlx::query_scalar(
            "SELECT raw_json FROM reports WHERE organization_name = $1 AND report_id = $2",
        )
        .bind(organization_name)
        .bind(report_id)
        .fetch_optional(pool)
        .await
        .doing("reading a report's JSON")
    }
}
