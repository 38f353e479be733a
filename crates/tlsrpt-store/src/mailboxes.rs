//! The resume point of each IMAP mailbox, so that a sync fetches only what it has not
//! handled yet (RFC 3501 UIDs, valid while the mailbox's UIDVALIDITY is unchanged).

use crate::open::{Doing, Store, StoreError};

impl Store {
    /// The saved `(uid_validity, last_uid)` of `mailbox`, if any.
    pub async fn mailbox_state(&self, mailbox: &str) -> Result<Option<(u32, u32)>, StoreError> {
        let row = on_backend!(self, mailbox_state(mailbox))?;
        Ok(row.and_then(|(validity, last)| {
            Some((u32::try_from(validity).ok()?, u32::try_from(last).ok()?))
        }))
    }

    /// Saves the resume point of `mailbox`.
    pub async fn save_mailbox_state(
        &self,
        mailbox: &str,
        uid_validity: u32,
        last_uid: u32,
    ) -> Result<(), StoreError> {
        let now = chrono::Utc::now().timestamp();
        on_backend!(
            self,
            save_mailbox_state(mailbox, i64::from(uid_validity), i64::from(last_uid), now)
        )
    }
}

per_backend! {
    pub(super) async fn mailbox_state(
        pool: &sqlx::Pool<Db>,
        mailbox: &str,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        sqlx::query_as("SELECT uid_validity, last_uid FROM mailbox_state WHERE mailbox = $1")
            .bind(mailbox)
            .fetch_optional(pool)
            .await
            .doing("reading a mailbox's resume point")
    }

    pub(super) async fn save_mailbox_state(
        pool: &sqlx::Pool<Db>,
        mailbox: &str,
        uid_validity: i64,
        last_uid: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO mailbox_state (mailbox, uid_validity, last_uid, updated_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (mailbox) DO UPDATE SET uid_validity = excluded.uid_validity, \
             last_uid = excluded.last_uid, updated_at = excluded.updated_at, \
             last_error = NULL, last_error_at = NULL",
        )
        .bind(mailbox)
        .bind(uid_validity)
        .bind(last_uid)
        .bind(now)
        .execute(pool)
        .await
        .doing("saving a mailbox's resume point")?;
        Ok(())
    }
}
