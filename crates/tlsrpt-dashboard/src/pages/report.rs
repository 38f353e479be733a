//! One report's page: its parsed view (policies and failure details) and its raw JSON.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;

use crate::error::Failure;
use crate::{Dashboard, text};

#[derive(Debug, Clone)]
pub struct DetailView {
    pub result_type: String,
    pub mx: String,
    pub receiving_ip: String,
    pub sending_ip: String,
    pub sessions: u64,
    pub reason_code: String,
    pub information: String,
}

#[derive(Debug, Clone)]
pub struct PolicyView {
    pub policy_type: String,
    pub domain: String,
    pub policy_string: String,
    pub mx_host: String,
    pub successful: u64,
    pub failed: u64,
    pub details: Vec<DetailView>,
}

#[derive(Template, WebTemplate)]
#[template(path = "report.html")]
pub struct ReportPage {
    organization: String,
    report_id: String,
    period: String,
    contact: String,
    auth: String,
    trusted: bool,
    quirks: String,
    policies: Vec<PolicyView>,
    raw_json: String,
}

/// Which report: its organisation and id.
#[derive(Debug, Deserialize)]
pub struct ReportParams {
    pub org: String,
    pub id: String,
}

/// `GET /report?org=…&id=…`: the parsed view of one report and its raw JSON.
pub async fn report(
    State(dashboard): State<Dashboard>,
    Query(params): Query<ReportParams>,
) -> Result<ReportPage, Failure> {
    let store = dashboard.store();
    let raw = store
        .report_json(&params.org, &params.id)
        .await?
        .ok_or_else(|| Failure::NotFound("no such report".into()))?;
    let meta = store
        .report(&params.org, &params.id)
        .await?
        .ok_or_else(|| Failure::NotFound("no such report".into()))?;
    let parsed = tlsrpt_report::parse(&raw, &tlsrpt_report::Limits::default()).ok();
    let pretty = serde_json::from_slice::<serde_json::Value>(&raw)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| String::from_utf8_lossy(&raw).into_owned());
    let policies = parsed
        .as_ref()
        .map(|r| {
            r.policies
                .iter()
                .map(|p| PolicyView {
                    policy_type: p.policy.policy_type.as_str().to_owned(),
                    domain: p.policy.policy_domain.clone(),
                    policy_string: p.policy.policy_string.join("\n"),
                    mx_host: p.policy.mx_host.join(", "),
                    successful: p.summary.total_successful_session_count,
                    failed: p.summary.total_failure_session_count,
                    details: p
                        .failure_details
                        .iter()
                        .map(|d| DetailView {
                            result_type: d.result_type.as_str().to_owned(),
                            mx: d.receiving_mx_hostname.clone().unwrap_or_default(),
                            receiving_ip: d.receiving_ip.clone().unwrap_or_default(),
                            sending_ip: d.sending_mta_ip.clone().unwrap_or_default(),
                            sessions: d.failed_session_count,
                            reason_code: d.failure_reason_code.clone().unwrap_or_default(),
                            information: d.additional_information.clone().unwrap_or_default(),
                        })
                        .collect(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(ReportPage {
        period: format!(
            "{} → {}",
            text::unix(Some(meta.start_time)),
            text::unix(Some(meta.end_time))
        ),
        contact: parsed
            .as_ref()
            .and_then(|r| r.contact_info.clone())
            .unwrap_or_default(),
        quirks: if meta.quirks.as_array().is_some_and(Vec::is_empty) {
            "none".into()
        } else {
            meta.quirks.to_string()
        },
        organization: meta.organization_name,
        report_id: meta.report_id,
        auth: meta.auth,
        trusted: meta.trusted,
        policies,
        raw_json: pretty,
    })
}
