//! Opening a SQLite store: the file is created on first use, in WAL mode, and migrations
//! are applied automatically.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::open::StoreError;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// Opens (creating if needed) the SQLite database at `url` (`sqlite:PATH`,
/// `sqlite://PATH` or a plain file path) and applies the pending migrations.
pub(crate) async fn connect(url: &str) -> Result<SqlitePool, StoreError> {
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
    MIGRATIONS
        .run(&pool)
        .await
        .map_err(|source| StoreError::Migrate {
            url: url.to_owned(),
            source,
        })?;
    drop(guard);
    Ok(pool)
}

/// Creates the database file if needed and holds an exclusive advisory lock (flock) on it.
/// SQLite's own locks are POSIX record locks, which flock does not disturb.
fn lock_file(path: &Path) -> std::io::Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    file.lock()?;
    Ok(file)
}

pub(crate) fn sqlite_path(url: &str) -> Result<PathBuf, StoreError> {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() || path == ":memory:" {
            return Err(StoreError::UnsupportedUrl(
                super::postgres::redact_password(url),
            ));
        }
        return Ok(PathBuf::from(path));
    }
    if url.contains("://") {
        return Err(StoreError::UnsupportedUrl(
            super::postgres::redact_password(url),
        ));
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
