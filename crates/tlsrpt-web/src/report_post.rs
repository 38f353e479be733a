//! `POST /tlsrpt` and `POST /tlsrpt/{token}` (RFC 8460 §3): a report as
//! `application/tlsrpt+gzip` or `application/tlsrpt+json`, acknowledged only once stored
//! (posts arriving together are committed together, see [`crate::committer`]); and
//! `GET /healthz` for health checks.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use serde::Serialize;
use tlsrpt_ingest::files::Input;
use tlsrpt_ingest::{Claim, Found, Source};
use tlsrpt_store::{Auth, Candidate, Outcome, Store};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::committer::Committer;
use crate::error::ApiError;
use crate::tokens::Tokens;

/// What the report endpoint needs.
#[derive(Debug, Clone)]
pub struct IngestState {
    pub store: Store,
    pub tokens: Arc<Tokens>,
    pub limits: tlsrpt_ingest::Limits,
}

/// The router's state: what it was given, and the writer of its posts.
#[derive(Debug, Clone)]
struct Posting {
    ingest: IngestState,
    committer: Committer,
}

/// The answer to an accepted report.
#[derive(Debug, Serialize)]
struct Accepted {
    stored: usize,
    duplicates: usize,
}

/// The report endpoint. Bodies over `max_body` bytes are refused with 413, requests that
/// take longer than `timeout` (slow senders included) with 408. Call it within a tokio
/// runtime: it starts the task that commits the posts.
pub fn router(state: IngestState, max_body: usize, timeout: Duration) -> Router {
    let state = Posting {
        committer: Committer::start(state.store.clone()),
        ingest: state,
    };
    Router::new()
        .route("/tlsrpt", post(post_open))
        .route("/tlsrpt/{token}", post(post_with_token))
        .route("/healthz", get(health))
        .layer(DefaultBodyLimit::max(max_body))
        // Refuses a declared Content-Length over the limit before reading anything.
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(axum::middleware::from_fn(crate::telemetry::track))
        .with_state(state)
}

/// `GET /healthz`: 200 when the database answers, 503 otherwise (for load balancers and
/// container health checks).
async fn health(State(state): State<Posting>) -> (StatusCode, &'static str) {
    match state.ingest.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n"),
        Err(e) => {
            tracing::warn!(error = %e, "health check: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
    }
}

async fn post_open(
    State(state): State<Posting>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Accepted>, ApiError> {
    accept(&state, None, &headers, body).await
}

async fn post_with_token(
    State(state): State<Posting>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Accepted>, ApiError> {
    accept(&state, Some(&token), &headers, body).await
}

async fn accept(
    posting: &Posting,
    token: Option<&str>,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Json<Accepted>, ApiError> {
    let state = &posting.ingest;
    let (auth, allowed) = if state.tokens.is_open() {
        (Auth::Https, None)
    } else {
        let domain = token
            .and_then(|t| state.tokens.domain(t))
            .ok_or(ApiError::Unauthorized)?;
        (Auth::HttpsToken, Some(domain.to_owned()))
    };
    check_media_type(headers)?;

    let limits = state.limits;
    let unpacked = body.clone();
    let found = tokio::task::spawn_blocking(move || {
        tlsrpt_ingest::extract(&unpacked, Claim::Tlsrpt, &limits)
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "unpacking a posted report failed");
        ApiError::Unavailable
    })?;
    if let Some(allowed) = &allowed {
        check_domains(&found, allowed)?;
    }

    let input = Input {
        source: Source::Https,
        locator: match &allowed {
            Some(domain) => format!("POST /tlsrpt/… ({domain})"),
            None => "POST /tlsrpt".to_owned(),
        },
        message_id: None,
        size: body.len() as u64,
        bytes: body.to_vec(),
        found,
    };
    let records = tlsrpt_intake::to_new_inputs(input, chrono::Utc::now().timestamp(), auth);
    let reason = records.iter().find_map(|r| match &r.candidate {
        Candidate::Rejected { reason, .. } | Candidate::NotReport { reason } => {
            Some(reason.clone())
        }
        Candidate::Report { .. } => None,
    });
    let outcomes = posting
        .committer
        .commit(records, body.len())
        .await
        .map_err(|_| ApiError::Unavailable)?;

    let stored = outcomes.iter().filter(|o| **o == Outcome::Stored).count();
    let duplicates = outcomes
        .iter()
        .filter(|o| **o == Outcome::Duplicate)
        .count();
    if stored + duplicates > 0 {
        return Ok(Json(Accepted { stored, duplicates }));
    }
    Err(ApiError::NotAReport(
        reason.unwrap_or_else(|| "no report in the body".to_owned()),
    ))
}

/// RFC 8460 §3 media types, plus the generic JSON and gzip types some senders use; the
/// body is recognised by content either way.
fn check_media_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/tlsrpt+gzip"
        | "application/tlsrpt+json"
        | "application/tlsrpt"
        | "application/json"
        | "application/gzip"
        | "application/x-gzip" => Ok(()),
        _ => Err(ApiError::UnsupportedMediaType(value)),
    }
}

/// A token admits reports on its own domain only.
fn check_domains(found: &[Found], allowed: &str) -> Result<(), ApiError> {
    for f in found {
        if let Found::Report { report, .. } = f
            && let Some(other) = report
                .policies
                .iter()
                .map(|p| p.policy.policy_domain.as_str())
                .find(|d| *d != allowed)
        {
            return Err(ApiError::WrongDomain {
                allowed: allowed.to_owned(),
                found: other.to_owned(),
            });
        }
    }
    Ok(())
}

/// An error and its causes, joined by `: ` (a database error names its cause, such as a
/// full disk, only in its source), leaving out a cause the text already ends with (sqlx
/// repeats a database's message as its source).
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
