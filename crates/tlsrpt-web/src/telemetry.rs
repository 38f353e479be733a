//! Measures the report endpoint for `/metrics`: every answer to `POST /tlsrpt…` is counted
//! by status code, and an accepted report's time from the request's arrival to the answer
//! sent after its commit goes into the ingest latency histogram.

use std::time::Instant;

use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use tlsrpt_metrics::{IngestPath, telemetry};

/// Middleware around the whole endpoint, outside the size and time limits, so that their
/// refusals are counted too.
pub(crate) async fn track(request: Request, next: Next) -> Response {
    let is_report = request.method() == Method::POST && request.uri().path().starts_with("/tlsrpt");
    let received = Instant::now();
    let response = next.run(request).await;
    if is_report {
        let status = response.status();
        telemetry().count_https_response(status.as_u16());
        if status.is_success() {
            telemetry().observe_ingest(IngestPath::Https, received.elapsed());
        }
    }
    response
}
