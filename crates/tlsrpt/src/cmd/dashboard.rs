//! The dashboard part of `tlsrpt serve`: loads the demo data when asked, refuses an
//! unauthenticated dashboard on a public address, and serves the pages and the API until
//! the shutdown signal.

use std::net::SocketAddr;

use anyhow::Context as _;
use chrono::Utc;
use tlsrpt_dashboard::{Access, Dashboard, Trust, demo};
use tlsrpt_readiness::Thresholds;
use tlsrpt_store::Store;
use tlsrpt_watch::Watcher;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cli::DashboardArgs;
use crate::cmd::{CheckerArgs, metrics};
use crate::lease::wait;

/// How often the cached verdicts are brought up to date in the background.
const VERDICT_REFRESH: std::time::Duration = std::time::Duration::from_secs(300);

/// Where `--demo` serves the dashboard when no `--dashboard` address is given.
const DEMO_ADDRESS: &str = "127.0.0.1:8080";

/// The address the dashboard is served on, if any.
pub fn address(args: &DashboardArgs) -> Option<SocketAddr> {
    args.dashboard
        .or_else(|| args.demo.then(|| DEMO_ADDRESS.parse().ok()).flatten())
}

/// Who may use the dashboard (and /metrics): the login given, or none.
pub fn access(args: &DashboardArgs) -> Access {
    match (&args.dashboard_token, &args.dashboard_password) {
        (Some(token), _) => Access::Token(token.clone()),
        (None, Some(password)) => Access::Basic {
            user: args.dashboard_user.clone(),
            password: password.clone(),
        },
        (None, None) => Access::Open,
    }
}

/// Starts the dashboard when one is asked for; the task ends on `stopped`.
pub async fn start(
    store: &Store,
    args: &DashboardArgs,
    checker: &CheckerArgs,
    stopped: watch::Receiver<bool>,
) -> anyhow::Result<Option<JoinHandle<Result<(), tlsrpt_web::ServeError>>>> {
    let Some(addr) = address(args) else {
        return Ok(None);
    };
    let access = access(args);
    access.check_bind(addr, args.insecure_no_auth)?;
    if args.demo {
        let loaded = demo::load(store, Utc::now())
            .await
            .context("cannot load the demo data")?;
        eprintln!(
            "demo: {} reports and {} recorded checks for {}",
            loaded.reports,
            loaded.checks,
            loaded.domains.join(", ")
        );
    }
    let checker = checker.checker().context("cannot set up the checker")?;
    let trust = if args.count_untrusted {
        Trust::All
    } else {
        Trust::Trusted
    };
    let dashboard = Dashboard::new(
        store.clone(),
        Some(Watcher::new(checker, store.clone())),
        Thresholds::default(),
        trust,
    );
    let refresher = dashboard.clone();
    let refresh_stop = wait(stopped.clone());
    tokio::spawn(async move {
        refresher
            .refresh_verdicts(VERDICT_REFRESH, refresh_stop)
            .await;
    });
    let metrics = tlsrpt_dashboard::metrics::router(metrics::exporter(store, args), access.clone());
    let app = tlsrpt_dashboard::router(dashboard, access).merge(metrics);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot serve the dashboard on {addr}"))?;
    eprintln!("dashboard on http://{}", listener.local_addr()?);
    Ok(Some(tokio::spawn(async move {
        // The endpoint's server: header and connection limits against slow clients.
        let limits = tlsrpt_web::ConnectionLimits::default();
        tlsrpt_web::serve(listener, app, None, &limits, wait(stopped)).await
    })))
}
