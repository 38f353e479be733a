//! Opening a store from a database URL: one match on the scheme picks the backend
//! (`postgres://` or `postgresql://` for PostgreSQL, anything else for a SQLite file), and
//! its migrations are applied automatically.

use std::path::PathBuf;
use std::sync::Arc;

use crate::backend::{Backend, postgres, sqlite};

/// A failure of the database, with what was being done.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no backend this build supports.
    #[error(
        "unsupported database URL {0:?}: use postgres://USER:PASSWORD@HOST/DB, sqlite:PATH or a file path"
    )]
    UnsupportedUrl(String),
    /// The database directory could not be created.
    #[error("cannot create the database directory {path}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The database file could not be created or locked for opening.
    #[error("cannot lock the database file {path} while opening it")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The lease file of a mailbox (beside a SQLite database) could not be opened or locked.
    #[error("cannot use the mailbox lease file {path}")]
    LeaseFile {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Connecting or migrating failed.
    #[error("cannot open the database {url}")]
    Open { url: String, source: sqlx::Error },
    /// Migrations failed.
    #[error("cannot migrate the database {url}")]
    Migrate {
        url: String,
        source: sqlx::migrate::MigrateError,
    },
    /// Stored bytes that cannot be decompressed.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// A query failed.
    #[error("database error while {doing}")]
    Query {
        doing: &'static str,
        source: sqlx::Error,
    },
}

pub(crate) trait Doing<T> {
    fn doing(self, doing: &'static str) -> Result<T, StoreError>;
}

impl<T> Doing<T> for Result<T, sqlx::Error> {
    fn doing(self, doing: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Query { doing, source })
    }
}

/// A handle on the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: Backend,
    /// The SQLite file or the PostgreSQL URL without its password, for messages.
    location: Arc<str>,
}

/// The default database file: `$XDG_DATA_HOME/tlsrpt/tlsrpt.db`, or
/// `~/.local/share/tlsrpt/tlsrpt.db`, or `./tlsrpt.db` when neither is known.
pub fn default_database_path() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".local/share"))
        });
    match base {
        Some(base) => base.join("tlsrpt").join("tlsrpt.db"),
        None => PathBuf::from("tlsrpt.db"),
    }
}

impl Store {
    /// Opens the database at `url` and brings its schema up to date. `url` is
    /// `postgres://…` or `postgresql://…` for an existing PostgreSQL database, or
    /// `sqlite:PATH`, `sqlite://PATH` or a plain file path for a SQLite file, which is
    /// created with its folders if needed.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let (pool, location) = if postgres::is_postgres_url(url) {
            let pool = Backend::Postgres(postgres::connect(url).await?);
            (pool, postgres::redact_password(url))
        } else {
            let pool = Backend::Sqlite(sqlite::connect(url).await?);
            (pool, sqlite::sqlite_path(url)?.display().to_string())
        };
        Ok(Self {
            pool,
            location: location.into(),
        })
    }

    /// Which database this is, for messages: the SQLite file, or the PostgreSQL URL
    /// without its password.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
