//! `GET /metrics`: the Prometheus scrape, behind the same access as the dashboard (the
//! figures name every domain and mailbox). Prometheus sends the dashboard's credentials
//! with `basic_auth` or `authorization: { credentials: TOKEN }` in its scrape config.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tlsrpt_metrics::Exporter;

use crate::access::{self, Access};

/// The `/metrics` route alone, behind `access`; merge it into the dashboard's router or
/// serve it on a listener of its own.
pub fn router(exporter: Exporter, access: Access) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(exporter)
        .layer(middleware::from_fn_with_state(access, access::require))
}

async fn scrape(State(exporter): State<Exporter>) -> Response {
    match exporter.render(chrono::Utc::now()).await {
        Ok(text) => (
            [(header::CONTENT_TYPE, tlsrpt_metrics::text::CONTENT_TYPE)],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!("cannot collect the metrics: {e}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database does not answer\n",
            )
                .into_response()
        }
    }
}
