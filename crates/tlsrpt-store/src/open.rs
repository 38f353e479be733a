//! Opening a store from a database URL: the SQLite file is created on first use, in WAL
//! mode, and migrations are applied automatically.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// A failure of the database, with what was being done.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no backend this build supports.
    #[error("unsupported database URL {0:?}: use sqlite:PATH or a file path")]
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
    pub(crate) pool: SqlitePool,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

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
    /// Opens (creating if needed) the database at `url` and brings its schema up to date.
    /// `url` is `sqlite:PATH`, `sqlite://PATH` or a plain file path.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let path = sqlite_path(url)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_owned(),
                source,
            })?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(|source| StoreError::Open {
                url: url.to_owned(),
                source,
            })?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            // 32 MiB of page cache per connection keeps the unique-key index in memory
            // during bulk ingest instead of re-reading it from the OS.
            .pragma("cache_size", "-32768");
        // Processes opening a new database at the same moment would race to switch it to
        // WAL and to migrate it: an exclusive lock on the file makes them take turns.
        let guard = lock_file(&path).map_err(|source| StoreError::Lock {
            path: path.clone(),
            source,
        })?;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                url: url.to_owned(),
                source,
            })?;
        SQLITE_MIGRATIONS
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                url: url.to_owned(),
                source,
            })?;
        drop(guard);
        Ok(Self { pool })
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Creates the database file if needed and holds an exclusive advisory lock (flock) on it.
/// SQLite's own locks are POSIX record locks, which flock does not disturb.
fn lock_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    file.lock()?;
    Ok(file)
}

fn sqlite_path(url: &str) -> Result<PathBuf, StoreError> {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() || path == ":memory:" {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        }
        return Ok(PathBuf::from(path));
    }
    if url.contains("://") {
        return Err(StoreError::UnsupportedUrl(url.to_owned()));
    }
    Ok(PathBuf::from(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sqlite_urls_and_paths() {
        assert_eq!(
            sqlite_path("sqlite:///var/lib/t.db").unwrap(),
            PathBuf::from("/var/lib/t.db")
        );
        assert_eq!(
            sqlite_path("sqlite:rel/t.db?mode=rwc").unwrap(),
            PathBuf::from("rel/t.db")
        );
        assert_eq!(
            sqlite_path("/tmp/x.db").unwrap(),
            PathBuf::from("/tmp/x.db")
        );
        assert!(matches!(
            sqlite_path("mysql://h/db"),
            Err(StoreError::UnsupportedUrl(_))
        ));
        assert!(matches!(
            sqlite_path("sqlite::memory:"),
            Err(StoreError::UnsupportedUrl(_))
        ));
    }
}
