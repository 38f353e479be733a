//! The JSON API under `/api/v1/`: everything the pages show, for automation. Its shape is
//! described by the OpenAPI document at `/api/v1/openapi.json`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::Failure;
use crate::pages::{self, ReportParams};
use crate::{Dashboard, advisor, assets};

/// Turns a result into a JSON answer, failures included.
fn reply(result: Result<Value, Failure>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(failure) => failure.json(),
    }
}

/// Whether the request says its body is JSON: a cross-site form cannot send that.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// `GET /api/v1/openapi.json`.
pub async fn openapi() -> Response {
    let (content_type, body) = assets::file("openapi.json").unwrap_or(("application/json", "{}"));
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// `GET /api/v1/domains`: the portfolio rows.
pub async fn domains(State(dashboard): State<Dashboard>) -> Response {
    reply(
        async {
            let rows = pages::portfolio_rows(&dashboard).await?;
            Ok(json!(
                rows.iter()
                    .map(|r| json!({
                        "domain": r.domain,
                        "mode": r.mode,
                        "verdict": r.verdict,
                        "failure_rate_14d": r.rate14,
                        "failure_rate_30d": r.rate30,
                        "sessions_30d": r.sessions30,
                        "last_report": r.last_report,
                        "last_check": r.last_check,
                    }))
                    .collect::<Vec<_>>()
            ))
        }
        .await,
    )
}

/// `GET /api/v1/domains/{domain}`: the assessment, the latest check and recent changes.
pub async fn domain(State(dashboard): State<Dashboard>, Path(domain): Path<String>) -> Response {
    reply(
        async {
            let store = dashboard.store();
            let assessment = assessment(&dashboard, &domain).await?;
            let latest = store.latest_check(&assessment.domain).await?;
            let live: Option<Value> = latest
                .as_ref()
                .and_then(|c| serde_json::from_str(&c.report_json).ok());
            Ok(json!({
                "domain": assessment.domain,
                "assessment": assessment,
                "live_check": live,
            }))
        }
        .await,
    )
}

async fn assessment(
    dashboard: &Dashboard,
    domain: &str,
) -> Result<tlsrpt_readiness::Assessment, Failure> {
    Ok(advisor::assess(
        dashboard.store(),
        domain,
        Utc::now(),
        &dashboard.inner.thresholds,
        dashboard.inner.trust,
    )
    .await?)
}

/// `GET /api/v1/domains/{domain}/readiness`: the stable readiness JSON.
pub async fn readiness(State(dashboard): State<Dashboard>, Path(domain): Path<String>) -> Response {
    reply(async { Ok(json!(assessment(&dashboard, &domain).await?)) }.await)
}

/// How many rows a list returns.
#[derive(Debug, Deserialize)]
pub struct Limit {
    #[serde(default = "default_limit")]
    pub limit: i64,
}

fn default_limit() -> i64 {
    100
}

/// `GET /api/v1/domains/{domain}/checks`: the stored checks, newest first, with changes.
pub async fn checks(
    State(dashboard): State<Dashboard>,
    Path(domain): Path<String>,
    Query(limit): Query<Limit>,
) -> Response {
    reply(
        async {
            let history = dashboard
                .store()
                .check_history(
                    &domain.trim().to_ascii_lowercase(),
                    limit.limit.clamp(1, 1000),
                )
                .await?;
            Ok(json!(history
            .iter()
            .map(|c| json!({
                "checked_at": c.checked_at,
                "verdict": c.verdict,
                "sts_id": c.sts_id,
                "mode": c.mode,
                "mx_hosts": c.mx_hosts,
                "errors": c.errors,
                "warnings": c.warnings,
                "changes": serde_json::from_str::<Value>(&c.changes_json).unwrap_or(Value::Null),
            }))
            .collect::<Vec<_>>()))
        }
        .await,
    )
}

/// `POST /api/v1/domains/{domain}/checks`: runs a live check now. The request must be
/// JSON (`Content-Type: application/json`): a cross-site form cannot send that, so a web
/// page cannot make a visitor's browser trigger checks.
pub async fn recheck(
    State(dashboard): State<Dashboard>,
    Path(domain): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !is_json(&headers) {
        return Failure::BadRequest("send Content-Type: application/json".into()).json();
    }
    match pages::run_check(&dashboard, &domain).await {
        Ok(recorded) => (
            StatusCode::CREATED,
            Json(json!({ "report": recorded.report, "changes": recorded.changes })),
        )
            .into_response(),
        Err(failure) => failure.json(),
    }
}

/// `GET /api/v1/domains/{domain}/reports`: the stored reports of a domain.
pub async fn reports(
    State(dashboard): State<Dashboard>,
    Path(domain): Path<String>,
    Query(limit): Query<Limit>,
) -> Response {
    reply(
        async {
            let reports = dashboard
                .store()
                .reports(Some(&domain), limit.limit.clamp(1, 10_000))
                .await?;
            Ok(json!(reports))
        }
        .await,
    )
}

/// `GET /api/v1/report?org=…&id=…`: one report's original JSON.
pub async fn report(
    State(dashboard): State<Dashboard>,
    Query(params): Query<ReportParams>,
) -> Response {
    reply(
        async {
            let raw = dashboard
                .store()
                .report_json(&params.org, &params.id)
                .await?
                .ok_or_else(|| Failure::NotFound("no such report".into()))?;
            serde_json::from_slice(&raw)
                .map_err(|e| Failure::BadRequest(format!("the stored report is not JSON: {e}")))
        }
        .await,
    )
}

/// `GET /api/v1/rejected`: inputs that were not stored as reports, and why.
pub async fn rejected(State(dashboard): State<Dashboard>, Query(limit): Query<Limit>) -> Response {
    reply(
        async {
            Ok(json!(
                dashboard
                    .store()
                    .unaccepted_inputs(limit.limit.clamp(1, 10_000))
                    .await?
            ))
        }
        .await,
    )
}

/// `GET /api/v1/sources`: inputs per source, and mailbox health.
pub async fn sources(State(dashboard): State<Dashboard>) -> Response {
    reply(
        async {
            let store = dashboard.store();
            Ok(json!({
                "sources": store.source_summary().await?,
                "mailboxes": store.mailboxes().await?,
            }))
        }
        .await,
    )
}

/// `GET /api/v1/alerts`: the open alerts, most severe first then newest (`?state=all` adds the
/// resolved ones, `?domain=` narrows to one domain).
pub async fn alerts(
    State(dashboard): State<Dashboard>,
    Query(params): Query<pages::AlertsParams>,
) -> Response {
    reply(async { Ok(json!(pages::list_alerts(&dashboard, &params).await?)) }.await)
}

/// `GET /api/v1/alerts/{id}`: one alert with its notifications.
pub async fn alert(State(dashboard): State<Dashboard>, Path(id): Path<i64>) -> Response {
    reply(
        async {
            let store = dashboard.store();
            let alert = store
                .alert(id)
                .await?
                .ok_or_else(|| Failure::NotFound(format!("there is no alert {id}")))?;
            Ok(json!({ "alert": alert, "deliveries": store.deliveries(id).await? }))
        }
        .await,
    )
}

/// The body of `POST /api/v1/alerts/{id}`.
#[derive(Debug, Deserialize)]
pub struct AlertAction {
    /// `ack`, `snooze` or `wake`.
    action: String,
    /// For `snooze`: how long (1 to 2160); 24 when absent.
    #[serde(default)]
    hours: Option<i64>,
}

/// `POST /api/v1/alerts/{id}`: acknowledge, snooze or wake an alert. JSON only, like the
/// other state-changing calls, so a cross-site form cannot send it.
pub async fn act(
    State(dashboard): State<Dashboard>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !is_json(&headers) {
        return Failure::BadRequest("send Content-Type: application/json".into()).json();
    }
    let action: AlertAction = match serde_json::from_slice(&body) {
        Ok(action) => action,
        Err(e) => {
            return Failure::BadRequest(format!(
                "expected {{\"action\": \"ack\" | \"snooze\" | \"wake\", \"hours\": N}}: {e}"
            ))
            .json();
        }
    };
    let by = crate::access::user_name(&headers);
    reply(
        async {
            pages::apply_alert_action(&dashboard, id, &action.action, action.hours, &by).await?;
            let alert = dashboard.store().alert(id).await?;
            Ok(json!({ "alert": alert }))
        }
        .await,
    )
}
