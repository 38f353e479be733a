//! Whether the database answers: for `/healthz` and container health checks.

use crate::open::{Doing, Store, StoreError};

impl Store {
    /// Checks that the database answers a query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_backend!(self, ping())
    }
}

per_backend! {
    pub(super) async fn ping(pool: &sqlx::Pool<Db>) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .doing("checking that the database answers")?;
        Ok(())
    }
}
