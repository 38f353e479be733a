//! The two backends behind one [`Store`](crate::Store): embedded SQLite (the default) and
//! PostgreSQL, chosen once by the URL's scheme when the store is opened.
//!
//! How the code is organised:
//! - [`sqlite`] and [`postgres`] connect, prepare and migrate a pool of their kind, each
//!   with its own migrations (`migrations/sqlite`, `migrations/postgres`): the tables,
//!   constraint names and indexes are the same, only the column types differ.
//! - Every operation module writes its SQL and Rust once, inside `per_backend! { … }`,
//!   which compiles those items twice, into a `sqlite` and a `postgres` submodule where
//!   `Db` names that backend's sqlx database type. The public `Store` methods then call the
//!   right instance with `on_backend!`, one `match` on the pool.
//! - The SQL is written to mean the same on both: `$n` placeholders, `ON CONFLICT … DO
//!   NOTHING RETURNING`, row values `IN (VALUES …)`, sums cast to `BIGINT` (PostgreSQL's
//!   `SUM(bigint)` is `NUMERIC`), and no ordering left to a collation. The bulk
//!   multi-row statements (`rows.rs`) are the exception: they are generated, with `?`
//!   placeholders on SQLite, which would look up the name of each of thousands of `$n`.
//!
//! `sqlx::Any` is not used: its `QueryBuilder` writes `?` placeholders, which PostgreSQL
//! rejects, and it would hide the type differences that the tests check on both backends.

pub(crate) mod postgres;
pub(crate) mod sqlite;

use sqlx::{PgPool, SqlitePool};

/// A connection pool to one of the supported databases.
#[derive(Debug, Clone)]
pub(crate) enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Backend {
    /// Closes the pool, waiting for connections to finish.
    pub(crate) async fn close(&self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

/// Compiles the given items once per backend, into submodules `sqlite` and `postgres` of
/// the calling module, with `Db` naming the backend's sqlx database type there.
macro_rules! per_backend {
    ($($item:item)*) => {
        mod sqlite {
            use super::*;
            type Db = sqlx::Sqlite;
            $($item)*
        }
        mod postgres {
            use super::*;
            type Db = sqlx::Postgres;
            $($item)*
        }
    };
}

/// Calls `function(pool, args…)` of the calling module's `sqlite` or `postgres` instance,
/// whichever matches the store's pool, and awaits it.
macro_rules! on_backend {
    ($store:expr, $function:ident($($arg:expr),* $(,)?)) => {
        match &$store.pool {
            $crate::backend::Backend::Sqlite(pool) => sqlite::$function(pool, $($arg),*).await,
            $crate::backend::Backend::Postgres(pool) => {
                postgres::$function(pool, $($arg),*).await
            }
        }
    };
}
