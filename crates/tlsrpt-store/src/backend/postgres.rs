//! Opening a PostgreSQL store: connect to an existing database and bring its schema up to
//! date. sqlx's migrator holds a PostgreSQL advisory lock while it migrates, so several
//! processes opening a fresh database at once take turns instead of failing.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection as _, PgConnection, PgPool};

use crate::open::StoreError;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// Whether `url` names a PostgreSQL database (`postgres://…` or `postgresql://…`).
pub(crate) fn is_postgres_url(url: &str) -> bool {
    url.split_once("://")
        .is_some_and(|(scheme, _)| matches!(scheme, "postgres" | "postgresql"))
}

/// Connects to the database at `url` and applies the pending migrations. A first,
/// single connection is tried at once, without the pool's retries, so that a wrong URL,
/// host or password fails now with its real cause.
pub(crate) async fn connect(url: &str) -> Result<PgPool, StoreError> {
    let open_error = |source| StoreError::Open {
        url: redact_password(url),
        source,
    };
    let options = PgConnectOptions::from_str(url).map_err(open_error)?;
    PgConnection::connect_with(&options)
        .await
        .map_err(open_error)?
        .close()
        .await
        .map_err(open_error)?;
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options)
        .await
        .map_err(open_error)?;
    MIGRATIONS
        .run(&pool)
        .await
        .map_err(|source| StoreError::Migrate {
            url: redact_password(url),
            source,
        })?;
    Ok(pool)
}

/// `url` with the password of its user info, if any, replaced, for error messages.
pub(crate) fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:hidden@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_postgres_urls() {
        assert!(is_postgres_url("postgres://u@h/db"));
        assert!(is_postgres_url("postgresql://h/db"));
        assert!(!is_postgres_url("sqlite:///tmp/x.db"));
        assert!(!is_postgres_url("/tmp/postgres://x"));
        assert!(!is_postgres_url("mysql://h/db"));
    }

    #[test]
    fn hides_the_password_only() {
        assert_eq!(
            redact_password("postgres://tlsrpt:s3cr@t@db.example:5432/tlsrpt?sslmode=disable"),
            "postgres://tlsrpt:hidden@db.example:5432/tlsrpt?sslmode=disable"
        );
        assert_eq!(
            redact_password("postgres://tlsrpt@db.example/tlsrpt"),
            "postgres://tlsrpt@db.example/tlsrpt"
        );
        assert_eq!(
            redact_password("postgresql://db.example/tlsrpt"),
            "postgresql://db.example/tlsrpt"
        );
    }
}
