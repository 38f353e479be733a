//! The rollout dashboard: server-rendered pages (askama), a JSON API under `/api/v1/` and
//! readiness exports, over the stored reports and the live checks. Fully offline: the
//! templates and assets are compiled into the binary.
//!
//! Every verdict comes from the store through [`advisor`], so the dashboard, the API, the
//! exports and the CLI always agree. Domain pages assess at request time; the portfolio
//! reads verdicts cached per domain, recomputed as soon as a report or a check arrives.

pub mod access;
mod api;
mod assets;
mod chart;
pub mod csrf;
pub mod demo;
mod error;
mod exports;
mod headers;
pub mod metrics;
mod pages;
mod text;

use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use tlsrpt_readiness::Thresholds;
use tlsrpt_store::Store;
use tlsrpt_watch::Watcher;

pub use access::{Access, InsecureBind};
pub use tlsrpt_advisor as advisor;
pub use tlsrpt_advisor::Trust;

/// What the dashboard reads from and acts with.
#[derive(Clone, Debug)]
pub struct Dashboard {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    /// Runs and records live checks for "re-check now"; `None` disables the button.
    watcher: Option<Watcher>,
    thresholds: Thresholds,
    trust: Trust,
    csrf: csrf::Csrf,
}

impl Dashboard {
    /// A dashboard over `store`; `watcher` runs the live checks of "re-check now".
    pub fn new(
        store: Store,
        watcher: Option<Watcher>,
        thresholds: Thresholds,
        trust: Trust,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                watcher,
                thresholds,
                trust,
                csrf: csrf::Csrf::generate(),
            }),
        }
    }

    fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Keeps the cached verdicts of every domain fresh: now, then every `period`, until
    /// `stop` resolves. Errors are logged and retried at the next period.
    pub async fn refresh_verdicts(
        &self,
        period: std::time::Duration,
        stop: impl Future<Output = ()>,
    ) {
        let refresh = async {
            loop {
                let started = std::time::Instant::now();
                match advisor::refresh(
                    self.store(),
                    chrono::Utc::now(),
                    &self.inner.thresholds,
                    self.inner.trust,
                )
                .await
                {
                    Ok(domains) => tracing::info!(
                        domains,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "verdicts refreshed"
                    ),
                    Err(e) => tracing::warn!("cannot refresh the verdicts: {e}"),
                }
                tokio::time::sleep(period).await;
            }
        };
        tokio::select! {
            () = refresh => {}
            () = stop => {}
        }
    }
}

/// The dashboard's routes: pages, API, exports and static files, behind `access` and
/// with the security headers on every response.
pub fn router(dashboard: Dashboard, access: Access) -> Router {
    Router::new()
        .route("/", get(pages::portfolio))
        .route("/domains/{domain}", get(pages::domain))
        .route("/domains/{domain}/check", post(pages::recheck))
        .route("/report", get(pages::report))
        .route("/rejected", get(pages::rejected))
        .route("/sources", get(pages::sources))
        .route("/alerts", get(pages::alerts))
        .route("/alerts/{id}", get(pages::alert).post(pages::act))
        .route("/export/{file}", get(exports::download))
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/api/v1/domains", get(api::domains))
        .route("/api/v1/domains/{domain}", get(api::domain))
        .route("/api/v1/domains/{domain}/readiness", get(api::readiness))
        .route(
            "/api/v1/domains/{domain}/checks",
            get(api::checks).post(api::recheck),
        )
        .route("/api/v1/domains/{domain}/reports", get(api::reports))
        .route("/api/v1/report", get(api::report))
        .route("/api/v1/rejected", get(api::rejected))
        .route("/api/v1/sources", get(api::sources))
        .route("/api/v1/alerts", get(api::alerts))
        .route("/api/v1/alerts/{id}", get(api::alert).post(api::act))
        .route("/static/{name}", get(assets::serve))
        .with_state(dashboard)
        .layer(middleware::from_fn_with_state(access, access::require))
        .layer(middleware::from_fn(headers::secure))
}
