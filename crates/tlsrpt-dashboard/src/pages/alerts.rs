//! The alerts pages: the list (open first, or all), one alert with its evidence and its
//! notifications, and the acknowledge / snooze buttons. The rules that raise alerts live
//! in `tlsrpt-alert`; this only shows and annotates what the store holds.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use tlsrpt_store::{AlertQuery, StoredAlert};

use crate::error::Failure;
use crate::pages::urlencode;
use crate::{Dashboard, access, text};

/// The snooze choices of the buttons, in hours.
const SNOOZE_HOURS: [(i64, &str); 3] = [(1, "1 hour"), (24, "1 day"), (168, "1 week")];

/// One alert as a row of the list.
#[derive(Debug, Clone)]
pub struct AlertRow {
    pub id: i64,
    pub severity: String,
    pub domain: String,
    pub domain_link: String,
    pub rule: String,
    pub title: String,
    pub opened: String,
    pub last_seen: String,
    /// Open, acknowledged by …, snoozed until …, or resolved ….
    pub state: String,
    pub open: bool,
    pub acked: bool,
    pub snoozed: bool,
}

impl AlertRow {
    pub(crate) fn new(alert: &StoredAlert, now: DateTime<Utc>) -> Self {
        Self {
            id: alert.id,
            severity: alert.severity.clone(),
            domain_link: format!("/domains/{}", urlencode(&alert.domain)),
            domain: alert.domain.clone(),
            rule: alert.rule.clone(),
            title: alert.title.clone(),
            opened: format!(
                "{} ({})",
                text::time(alert.opened_at),
                text::age(alert.opened_at, now)
            ),
            last_seen: text::age(alert.last_seen_at, now),
            state: state(alert, now),
            open: alert.is_open(),
            acked: alert.acked_at.is_some(),
            snoozed: alert.is_snoozed(now),
        }
    }
}

fn state(alert: &StoredAlert, now: DateTime<Utc>) -> String {
    let mut parts = Vec::new();
    match alert.resolved_at {
        Some(at) => parts.push(format!("resolved {}", text::age(at, now))),
        None => parts.push("open".to_owned()),
    }
    if let (Some(at), Some(by)) = (alert.acked_at, &alert.acked_by) {
        parts.push(format!("acknowledged by {by} {}", text::age(at, now)));
    }
    if let Some(until) = alert.snoozed_until.filter(|_| alert.is_snoozed(now)) {
        parts.push(format!("snoozed until {}", text::time(until)));
    }
    parts.join(", ")
}

#[derive(Debug, Default, Deserialize)]
pub struct AlertsParams {
    /// `all` lists resolved alerts too.
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "alerts.html")]
pub struct AlertsPage {
    rows: Vec<AlertRow>,
    all: bool,
    domain: Option<String>,
    csrf: String,
    snooze: Vec<(i64, &'static str)>,
}

/// The alerts of a listing request: open ones first, the most severe first, then newest.
pub(crate) async fn list(
    dashboard: &Dashboard,
    params: &AlertsParams,
) -> Result<Vec<StoredAlert>, Failure> {
    let mut alerts = dashboard
        .store()
        .alerts(&AlertQuery {
            domain: params.domain.clone().filter(|d| !d.trim().is_empty()),
            open_only: params.state.as_deref() != Some("all"),
            limit: 1000,
        })
        .await?;
    alerts.sort_by_key(|a| {
        (
            !a.is_open(),
            severity_rank(&a.severity),
            std::cmp::Reverse((a.opened_at, a.id)),
        )
    });
    Ok(alerts)
}

/// Critical first, then warnings, then information.
fn severity_rank(severity: &str) -> u8 {
    match severity {
        "critical" => 0,
        "warning" => 1,
        "info" => 2,
        _ => 3,
    }
}

/// `GET /alerts`: the open alerts, most severe first (`?state=all` adds the resolved
/// ones), of one domain with `?domain=`.
pub async fn alerts(
    State(dashboard): State<Dashboard>,
    Query(params): Query<AlertsParams>,
) -> Result<AlertsPage, Failure> {
    let now = Utc::now();
    let rows = list(&dashboard, &params)
        .await?
        .iter()
        .map(|a| AlertRow::new(a, now))
        .collect();
    Ok(AlertsPage {
        rows,
        all: params.state.as_deref() == Some("all"),
        domain: params.domain.filter(|d| !d.trim().is_empty()),
        csrf: dashboard.inner.csrf.token().to_owned(),
        snooze: SNOOZE_HOURS.to_vec(),
    })
}

/// One fact of an alert's evidence.
#[derive(Debug, Clone)]
pub struct EvidenceLine {
    pub name: String,
    pub value: String,
}

/// One notification of an alert.
#[derive(Debug, Clone)]
pub struct DeliveryView {
    pub event: String,
    pub channel: String,
    pub status: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "alert.html")]
pub struct AlertPage {
    alert: AlertRow,
    evidence: Vec<EvidenceLine>,
    deliveries: Vec<DeliveryView>,
    flash: Option<String>,
    csrf: String,
    snooze: Vec<(i64, &'static str)>,
}

#[derive(Debug, Default, Deserialize)]
pub struct AlertParams {
    #[serde(default)]
    pub done: Option<String>,
}

/// `GET /alerts/{id}`: one alert, its evidence and its notifications.
pub async fn alert(
    State(dashboard): State<Dashboard>,
    Path(id): Path<i64>,
    Query(params): Query<AlertParams>,
) -> Result<AlertPage, Failure> {
    let now = Utc::now();
    let store = dashboard.store();
    let Some(alert) = store.alert(id).await? else {
        return Err(Failure::NotFound(format!("there is no alert {id}")));
    };
    let deliveries = store
        .deliveries(id)
        .await?
        .into_iter()
        .map(|d| DeliveryView {
            status: match (d.delivered_at, d.failed_at) {
                (Some(at), _) => format!("delivered {}", text::age(at, now)),
                (None, Some(at)) => format!(
                    "given up {} after {} attempts: {}",
                    text::age(at, now),
                    d.attempts,
                    d.last_error.unwrap_or_default()
                ),
                (None, None) if d.attempts == 0 => "queued".to_owned(),
                (None, None) => format!(
                    "retrying at {} after {} attempts: {}",
                    text::time(d.next_attempt_at),
                    d.attempts,
                    d.last_error.unwrap_or_default()
                ),
            },
            event: d.event,
            channel: d.channel,
        })
        .collect();
    Ok(AlertPage {
        evidence: evidence_lines(&alert.evidence),
        alert: AlertRow::new(&alert, now),
        deliveries,
        flash: params.done.map(|done| match done.as_str() {
            "ack" => "Acknowledged.".to_owned(),
            "wake" => "Woken: it shows as needing attention again.".to_owned(),
            _ => "Snoozed.".to_owned(),
        }),
        csrf: dashboard.inner.csrf.token().to_owned(),
        snooze: SNOOZE_HOURS.to_vec(),
    })
}

/// The evidence object as name/value lines; nested values are shown as compact JSON.
pub(crate) fn evidence_lines(evidence: &serde_json::Value) -> Vec<EvidenceLine> {
    match evidence {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(name, value)| EvidenceLine {
                name: name.replace('_', " "),
                value: match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
            })
            .collect(),
        serde_json::Value::Null => Vec::new(),
        other => vec![EvidenceLine {
            name: "evidence".to_owned(),
            value: other.to_string(),
        }],
    }
}

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    pub csrf: String,
    /// `ack`, `snooze` or `wake`.
    pub action: String,
    /// For `snooze`: how long.
    #[serde(default)]
    pub hours: Option<i64>,
}

/// What a button asks for, applied to alert `id`; `by` names who acknowledges.
pub(crate) async fn apply(
    dashboard: &Dashboard,
    id: i64,
    action: &str,
    hours: Option<i64>,
    by: &str,
) -> Result<(), Failure> {
    let store = dashboard.store();
    let now = Utc::now();
    let found = match action {
        "ack" => store.acknowledge_alert(id, by, now).await?,
        "snooze" => {
            let hours = hours.unwrap_or(24);
            if !(1..=24 * 90).contains(&hours) {
                return Err(Failure::BadRequest(
                    "snooze for 1 hour to 90 days".to_owned(),
                ));
            }
            store
                .snooze_alert(id, Some(now + Duration::hours(hours)))
                .await?
        }
        "wake" => store.snooze_alert(id, None).await?,
        other => {
            return Err(Failure::BadRequest(format!(
                "unknown action `{other}`: ack, snooze or wake"
            )));
        }
    };
    if found {
        Ok(())
    } else {
        Err(Failure::NotFound(format!("there is no alert {id}")))
    }
}

/// `POST /alerts/{id}`: acknowledge, snooze or wake an alert (a form with the CSRF token).
pub async fn act(
    State(dashboard): State<Dashboard>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(form): Form<ActionForm>,
) -> Response {
    if !dashboard.inner.csrf.verify(&headers, &form.csrf) {
        return Failure::Forbidden(
            "the form is stale or came from another site: reload the page".into(),
        )
        .into_response();
    }
    let by = access::user_name(&headers);
    match apply(&dashboard, id, &form.action, form.hours, &by).await {
        Ok(()) => {
            Redirect::to(&format!("/alerts/{id}?done={}", urlencode(&form.action))).into_response()
        }
        Err(failure) => failure.into_response(),
    }
}
