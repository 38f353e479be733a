//! The check history against the closed network of the checker's scenario tests (DNS
//! server, policy host and SMTP servers on 127.30.N.x), on both database backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod history;
mod schedule;
#[path = "../../../tlsrpt-check/tests/it/support/mod.rs"]
#[allow(dead_code, missing_debug_implementations)]
mod support;

use tlsrpt_check::Checker;
use tlsrpt_store::Store;
use tlsrpt_watch::Watcher;

pub use tlsrpt_testkit::Backend;
pub(crate) use tlsrpt_testkit::on_both_backends;

/// A store on a fresh database; the directory holds the SQLite file until dropped.
pub async fn store(backend: Backend) -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = backend.fresh_database_url(dir.path());
    (Store::open(&url).await.unwrap(), dir)
}

/// A watcher on `store` whose checker asks the scenario's DNS server at `dns`.
pub fn watcher(scenario: &support::Scenario, dns: std::net::SocketAddr, store: &Store) -> Watcher {
    let mut config = scenario.config.clone();
    config.dns_server = Some(dns);
    Watcher::new(Checker::new(config).unwrap(), store.clone())
}
