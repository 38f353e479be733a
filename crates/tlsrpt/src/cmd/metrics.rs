//! The Prometheus side of `tlsrpt serve`: the exporter behind `/metrics`, and the optional
//! listener (`--metrics-listen`) that serves `/metrics` alone, with the dashboard's login.

use anyhow::Context as _;
use tlsrpt_metrics::{Exporter, Settings};
use tlsrpt_store::Store;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cli::DashboardArgs;
use crate::cmd::dashboard;
use crate::lease::wait;

/// The exporter, counting reports as the dashboard does.
pub fn exporter(store: &Store, args: &DashboardArgs) -> Exporter {
    Exporter::new(
        store.clone(),
        Settings {
            max_domains: args.metrics.metrics_max_domains,
            trusted_only: !args.count_untrusted,
        },
    )
}

/// Serves `/metrics` on `--metrics-listen` when given; the task ends on `stopped`. As for
/// the dashboard, a non-loopback address needs a login or `--insecure-no-auth`.
pub async fn start(
    store: &Store,
    args: &DashboardArgs,
    stopped: watch::Receiver<bool>,
) -> anyhow::Result<Option<JoinHandle<std::io::Result<()>>>> {
    let Some(addr) = args.metrics.metrics_listen else {
        return Ok(None);
    };
    let access = dashboard::access(args);
    access.check_bind(addr, args.insecure_no_auth)?;
    let app = tlsrpt_dashboard::metrics::router(exporter(store, args), access);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot serve the metrics on {addr}"))?;
    eprintln!("metrics on http://{}/metrics", listener.local_addr()?);
    Ok(Some(tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(wait(stopped))
            .await
    })))
}
