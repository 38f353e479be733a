//! Running one test body on both database backends: the [`Backend`] a test gets, and
//! [`on_both_backends!`](crate::on_both_backends) to generate its `sqlite` and `postgres`
//! tests.

/// The database a test runs on: a SQLite file of its own, or a fresh database on the test
/// binary's PostgreSQL ([`crate::postgres`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The URL of a fresh, empty database: the file `tlsrpt.db` in `dir` (which the test
    /// keeps until it is done), or a new database on the test binary's PostgreSQL.
    pub fn fresh_database_url(self, dir: &std::path::Path) -> String {
        match self {
            Self::Sqlite => dir.join("tlsrpt.db").display().to_string(),
            Self::Postgres => crate::postgres::fresh_database_url(),
        }
    }
}

/// Generates, for each named `fn NAME(backend: Backend)`, a module `NAME` with the tests
/// `sqlite` and `postgres` that run it on each backend. `async:` before the names does the
/// same for `async fn`s, as tokio tests; `async multi_thread:` on a two-worker runtime.
#[macro_export]
macro_rules! on_both_backends {
    (async: $($test:ident),* $(,)?) => {
        $(
            mod $test {
                #[tokio::test]
                async fn sqlite() {
                    super::$test($crate::Backend::Sqlite).await;
                }

                #[tokio::test]
                async fn postgres() {
                    super::$test($crate::Backend::Postgres).await;
                }
            }
        )*
    };
    (async multi_thread: $($test:ident),* $(,)?) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$test($crate::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$test($crate::Backend::Postgres).await;
                }
            }
        )*
    };
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                #[test]
                fn sqlite() {
                    super::$test($crate::Backend::Sqlite);
                }

                #[test]
                fn postgres() {
                    super::$test($crate::Backend::Postgres);
                }
            }
        )*
    };
}
