//! One domain's page: the verdict and its checklist, the projection, the daily chart, the
//! breakdowns, the policies reporters saw, the live check with "re-check now", the change
//! history and the report list.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use tlsrpt_check::DomainReport;
use tlsrpt_readiness::{Assessment, Breakdown};
use tlsrpt_store::AlertQuery;

use crate::chart::{self, DaySessions, StackedChart};
use crate::error::Failure;
use crate::{Dashboard, advisor, text};

use super::{AlertRow, urlencode, verdict_label};

#[derive(Debug, Clone)]
pub struct CriterionView {
    pub id: String,
    pub title: &'static str,
    pub status: &'static str,
    pub summary: String,
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct StepView {
    pub title: String,
    pub detail: String,
    pub text: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ShareRow {
    pub key: String,
    pub sessions: u64,
    pub share: String,
}

#[derive(Debug, Clone)]
pub struct ShareTable {
    pub id: &'static str,
    pub title: &'static str,
    pub rows: Vec<ShareRow>,
}

#[derive(Debug, Clone)]
pub struct ProjectionView {
    pub total: u64,
    pub would_refuse: u64,
    pub would_refuse_share: String,
    pub unprotected: u64,
    pub unprotected_share: String,
    pub tables: Vec<ShareTable>,
}

#[derive(Debug, Clone)]
pub struct ReporterView {
    pub name: String,
    pub reports: u64,
    pub sessions: u64,
    pub failed: u64,
    pub last: String,
}

#[derive(Debug, Clone)]
pub struct MxView {
    pub host: String,
    pub failed: u64,
    pub types: String,
}

#[derive(Debug, Clone)]
pub struct DiffLineView {
    pub seen: String,
    pub live: String,
    pub seen_only: bool,
    pub live_only: bool,
}

#[derive(Debug, Clone)]
pub struct SeenView {
    pub reporter: String,
    pub sessions: u64,
    pub last_seen: String,
    pub matches: bool,
    pub lines: Vec<DiffLineView>,
}

#[derive(Debug, Clone)]
pub struct LiveMxView {
    pub host: String,
    pub addresses: String,
    pub starttls: String,
    pub certificate: String,
}

#[derive(Debug, Clone)]
pub struct FindingView {
    pub severity: &'static str,
    pub class: &'static str,
    pub code: &'static str,
    pub message: String,
    pub advice: String,
}

#[derive(Debug, Clone)]
pub struct LiveView {
    pub checked_at: String,
    pub age: String,
    pub verdict: &'static str,
    pub mode: String,
    pub mx: Vec<LiveMxView>,
    pub findings: Vec<FindingView>,
}

#[derive(Debug, Clone)]
pub struct ChangeView {
    pub at: String,
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct ReportRow {
    pub organization: String,
    pub report_id: String,
    pub period: String,
    pub auth: String,
    pub trusted: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "domain.html")]
pub struct DomainPage {
    domain: String,
    verdict: &'static str,
    verdict_label: &'static str,
    headline: String,
    window: String,
    trusted_note: String,
    flash: Option<String>,
    criteria: Vec<CriterionView>,
    plan: Vec<StepView>,
    projection: ProjectionView,
    chart: StackedChart,
    breakdowns: Vec<ShareTable>,
    reporters: Vec<ReporterView>,
    mx_rows: Vec<MxView>,
    live_policy: Vec<String>,
    policies_seen: Vec<SeenView>,
    live: Option<LiveView>,
    changes: Vec<ChangeView>,
    reports: Vec<ReportRow>,
    alerts: Vec<AlertRow>,
    csrf: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct DomainParams {
    #[serde(default)]
    pub checked: Option<String>,
}

/// `GET /domains/{domain}`: the verdict, its checklist and evidence, the projection, the
/// charts and tables, the live check, the history and the reports of one domain.
pub async fn domain(
    State(dashboard): State<Dashboard>,
    Path(domain): Path<String>,
    Query(params): Query<DomainParams>,
) -> Result<DomainPage, Failure> {
    let now = Utc::now();
    let store = dashboard.store();
    let thresholds = &dashboard.inner.thresholds;
    let evidence = advisor::gather(store, &domain, now, thresholds, dashboard.inner.trust).await?;
    let known = !evidence.reporter_days.is_empty()
        || evidence.live_check.is_some()
        || evidence.excluded.untrusted_reports > 0
        || !store.reports(Some(&domain), 1).await?.is_empty();
    if !known {
        return Err(Failure::NotFound(format!(
            "no report and no check for {domain}"
        )));
    }
    let assessment = tlsrpt_readiness::assess(&evidence, thresholds);
    let domain = evidence.domain.clone();
    let in_window = |day| day >= assessment.window.since && day <= assessment.window.until;

    // Breakdowns of every failure in the window (not only those enforce would refuse).
    let failures: Vec<_> = evidence
        .failures
        .iter()
        .filter(|f| in_window(f.day))
        .collect();
    let failed_total: u64 = failures.iter().map(|f| f.sessions).sum();
    let table = |id, title, key: &dyn Fn(&tlsrpt_readiness::FailureRow) -> String| {
        let mut sums: BTreeMap<String, u64> = BTreeMap::new();
        for f in &failures {
            *sums.entry(key(f)).or_default() += f.sessions;
        }
        share_table(id, title, sums, failed_total)
    };
    let not_reported = || "(not reported)".to_owned();
    let breakdowns = vec![
        table("result-type", "result type", &|f| {
            f.result_type.as_str().to_owned()
        }),
        table("mx", "receiving MX", &|f| {
            f.receiving_mx.clone().unwrap_or_else(not_reported)
        }),
        table("reporter", "reporter", &|f| f.organization.clone()),
        table("sending-ip", "sending IP", &|f| {
            f.sending_ip.clone().unwrap_or_else(not_reported)
        }),
    ];
    let mut mx_types: BTreeMap<String, (u64, BTreeMap<String, u64>)> = BTreeMap::new();
    for f in &failures {
        let entry = mx_types
            .entry(f.receiving_mx.clone().unwrap_or_else(not_reported))
            .or_default();
        entry.0 += f.sessions;
        *entry
            .1
            .entry(f.result_type.as_str().to_owned())
            .or_default() += f.sessions;
    }
    let mut mx_rows: Vec<MxView> = mx_types
        .into_iter()
        .map(|(host, (failed, types))| MxView {
            host,
            failed,
            types: types
                .iter()
                .map(|(t, n)| format!("{t}: {n}"))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    // The live MX hosts without failures are listed too: a clean MX is evidence.
    if let Some(live) = &evidence.live_check {
        for host in &live.mx.hosts {
            if !mx_rows
                .iter()
                .any(|m| m.host.eq_ignore_ascii_case(&host.name))
            {
                mx_rows.push(MxView {
                    host: host.name.clone(),
                    failed: 0,
                    types: "no failure reported".into(),
                });
            }
        }
    }

    let mut reporters: BTreeMap<String, ReporterView> = BTreeMap::new();
    for d in evidence.reporter_days.iter().filter(|d| in_window(d.day)) {
        let entry = reporters
            .entry(d.organization.clone())
            .or_insert_with(|| ReporterView {
                name: d.organization.clone(),
                reports: 0,
                sessions: 0,
                failed: 0,
                last: String::new(),
            });
        entry.reports += d.reports;
        entry.sessions += d.successful_sessions + d.failed_sessions;
        entry.failed += d.failed_sessions;
        entry.last = entry.last.clone().max(d.day.to_string());
    }

    let days: Vec<DaySessions> = assessment
        .projection
        .by_day
        .iter()
        .map(|d| DaySessions {
            label: d.day.to_string(),
            successful: to_i64(d.successful_sessions),
            failures: d
                .failed_by_result_type
                .iter()
                .map(|(k, v)| (k.clone(), to_i64(*v)))
                .collect(),
        })
        .collect();

    let history = store.check_history(&domain, 50).await?;
    let mut changes = Vec::new();
    for check in &history {
        let list: Vec<tlsrpt_check::Change> =
            serde_json::from_str(&check.changes_json).unwrap_or_default();
        changes.extend(list.into_iter().map(|c| ChangeView {
            at: text::time(check.checked_at),
            kind: c.kind.as_str().to_owned(),
            message: c.message,
        }));
    }

    let reports = store
        .reports(Some(&domain), 100)
        .await?
        .into_iter()
        .map(|r| ReportRow {
            period: format!(
                "{} → {}",
                text::unix(Some(r.start_time)),
                text::unix(Some(r.end_time))
            ),
            organization: r.organization_name,
            report_id: r.report_id,
            auth: r.auth,
            trusted: r.trusted,
        })
        .collect();
    let alerts = store
        .alerts(&AlertQuery {
            domain: Some(domain.clone()),
            open_only: true,
            limit: 50,
        })
        .await?
        .iter()
        .map(|a| AlertRow::new(a, now))
        .collect();

    Ok(DomainPage {
        verdict: assessment.verdict.as_str(),
        verdict_label: verdict_label(assessment.verdict),
        headline: assessment.headline.clone(),
        window: format!(
            "{} to {} ({} days{})",
            assessment.window.since,
            assessment.window.until,
            assessment.window.days,
            if assessment.window.widened {
                ", widened to reach enough reporters"
            } else {
                ""
            }
        ),
        trusted_note: match dashboard.inner.trust {
            advisor::Trust::Trusted if evidence.excluded.untrusted_reports > 0 => format!(
                "{} untrusted reports ({} sessions) are not counted",
                evidence.excluded.untrusted_reports, evidence.excluded.untrusted_sessions
            ),
            advisor::Trust::Trusted => "only trusted reports are counted".into(),
            advisor::Trust::All => "every stored report is counted, trusted or not".into(),
        },
        flash: params
            .checked
            .map(|_| "Checked just now: the live check below is the new one.".into()),
        criteria: criteria_view(&assessment),
        plan: assessment
            .plan
            .iter()
            .map(|s| StepView {
                title: s.title.clone(),
                detail: s.detail.clone(),
                text: s.text.clone(),
            })
            .collect(),
        projection: projection_view(&assessment),
        chart: chart::stacked(&days, 900, 180),
        breakdowns,
        reporters: reporters.into_values().collect(),
        mx_rows,
        live_policy: assessment
            .policy_comparison
            .live
            .clone()
            .unwrap_or_default(),
        policies_seen: seen_view(&assessment),
        live: evidence.live_check.as_ref().map(|r| live_view(r, now)),
        changes,
        reports,
        alerts,
        csrf: dashboard.inner.csrf.token().to_owned(),
        domain,
    })
}

fn criteria_view(assessment: &Assessment) -> Vec<CriterionView> {
    assessment
        .criteria
        .iter()
        .map(|c| CriterionView {
            id: c.id.as_str().to_owned(),
            title: c.id.title(),
            status: c.status.as_str(),
            summary: c.summary.clone(),
            evidence: c.evidence.clone(),
        })
        .collect()
}

fn projection_view(assessment: &Assessment) -> ProjectionView {
    let p = &assessment.projection;
    let rows = |list: &[Breakdown]| {
        list.iter()
            .map(|b| ShareRow {
                key: b.key.clone(),
                sessions: b.sessions,
                share: text::percent(b.share),
            })
            .collect()
    };
    ProjectionView {
        total: p.total_sessions,
        would_refuse: p.would_refuse_sessions,
        would_refuse_share: text::percent(p.would_refuse_share),
        unprotected: p.unprotected_sessions,
        unprotected_share: text::percent(p.unprotected_share),
        tables: vec![
            ShareTable {
                id: "reporter",
                title: "reporter",
                rows: rows(&p.by_reporter),
            },
            ShareTable {
                id: "mx",
                title: "receiving MX",
                rows: rows(&p.by_mx),
            },
            ShareTable {
                id: "sending-ip",
                title: "sending IP",
                rows: rows(&p.by_sending_ip),
            },
        ],
    }
}

fn seen_view(assessment: &Assessment) -> Vec<SeenView> {
    let live = assessment
        .policy_comparison
        .live
        .clone()
        .unwrap_or_default();
    assessment
        .policy_comparison
        .seen
        .iter()
        .map(|seen| {
            // Side by side: what the reporter saw on the left, the live policy on the
            // right, each line marked when the other side lacks it.
            let rows = seen.lines.len().max(live.len());
            let lines = (0..rows)
                .map(|i| {
                    let left = seen.lines.get(i).cloned().unwrap_or_default();
                    let right = live.get(i).cloned().unwrap_or_default();
                    DiffLineView {
                        seen_only: seen.only_seen.contains(&left),
                        live_only: seen.only_live.contains(&right),
                        seen: left,
                        live: right,
                    }
                })
                .collect();
            SeenView {
                reporter: seen.organization.clone(),
                sessions: seen.sessions,
                last_seen: seen.last_seen.to_string(),
                matches: seen.matches_live == Some(true),
                lines,
            }
        })
        .collect()
}

fn live_view(report: &DomainReport, now: chrono::DateTime<Utc>) -> LiveView {
    let mode = report
        .policy
        .as_ref()
        .and_then(|p| p.policy.as_ref())
        .map_or_else(|| "unknown".to_owned(), |p| p.mode.as_str().to_owned());
    let mx = report
        .mx
        .hosts
        .iter()
        .map(|host| {
            let addresses: Vec<String> = host
                .addresses
                .iter()
                .map(|a| a.address.to_string())
                .collect();
            let starttls: Vec<String> = host
                .addresses
                .iter()
                .map(
                    |a| match (&a.skipped, a.starttls_offered, &a.tls, &a.error) {
                        (Some(why), ..) => format!("skipped: {why}"),
                        (_, _, Some(tls), _) => tls.version.clone(),
                        (_, Some(false), ..) => "not offered".into(),
                        (_, _, _, Some(e)) => e.clone(),
                        _ => "not probed".into(),
                    },
                )
                .collect();
            let certificate = host
                .addresses
                .iter()
                .filter_map(|a| a.tls.as_ref()?.certificate.as_ref())
                .map(|c| {
                    format!(
                        "{}; expires {} ({} days){}{}",
                        c.subject,
                        c.not_after.format("%Y-%m-%d"),
                        c.days_remaining,
                        if c.chain_trusted {
                            ""
                        } else {
                            "; untrusted chain"
                        },
                        if c.name_matches {
                            ""
                        } else {
                            "; name mismatch"
                        },
                    )
                })
                .next()
                .unwrap_or_else(|| "—".into());
            LiveMxView {
                host: host.name.clone(),
                addresses: addresses.join(", "),
                starttls: starttls.join(", "),
                certificate,
            }
        })
        .collect();
    LiveView {
        checked_at: text::time(report.checked_at),
        age: text::age(report.checked_at, now),
        verdict: match report.verdict {
            tlsrpt_check::Verdict::Pass => "pass",
            tlsrpt_check::Verdict::Warn => "warn",
            tlsrpt_check::Verdict::Fail => "fail",
        },
        mode,
        mx,
        findings: report
            .findings
            .iter()
            .map(|f| FindingView {
                severity: f.severity.as_str(),
                class: match f.severity {
                    tlsrpt_check::Severity::Error => "fail",
                    tlsrpt_check::Severity::Warning => "warn",
                    tlsrpt_check::Severity::Info => "pass",
                },
                code: f.code.as_str(),
                message: f.message.clone(),
                advice: f.advice.clone(),
            })
            .collect(),
    }
}

fn share_table(
    id: &'static str,
    title: &'static str,
    sums: BTreeMap<String, u64>,
    total: u64,
) -> ShareTable {
    let mut rows: Vec<ShareRow> = sums
        .into_iter()
        .map(|(key, sessions)| ShareRow {
            share: text::percent(if total > 0 {
                sessions as f64 / total as f64
            } else {
                0.0
            }),
            key,
            sessions,
        })
        .collect();
    rows.sort_by(|a, b| b.sessions.cmp(&a.sessions).then(a.key.cmp(&b.key)));
    ShareTable { id, title, rows }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The "re-check now" form.
#[derive(Debug, Deserialize)]
pub struct RecheckForm {
    #[serde(default)]
    pub csrf: String,
}

/// `POST /domains/{domain}/check`: runs a live check now, records it, and goes back to
/// the domain page.
pub async fn recheck(
    State(dashboard): State<Dashboard>,
    Path(domain): Path<String>,
    headers: HeaderMap,
    Form(form): Form<RecheckForm>,
) -> Response {
    if !dashboard.inner.csrf.verify(&headers, &form.csrf) {
        return Failure::Forbidden(
            "the form is stale or came from another site: reload the page".into(),
        )
        .into_response();
    }
    match run_check(&dashboard, &domain).await {
        Ok(_) => {
            Redirect::to(&format!("/domains/{}?checked=1", urlencode(&domain))).into_response()
        }
        Err(failure) => failure.into_response(),
    }
}

/// Runs and records a live check of `domain`, for the button and the API.
pub async fn run_check(
    dashboard: &Dashboard,
    domain: &str,
) -> Result<tlsrpt_watch::Recorded, Failure> {
    let Some(watcher) = &dashboard.inner.watcher else {
        return Err(Failure::BadRequest(
            "live checks are disabled on this instance".into(),
        ));
    };
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    if domain.is_empty() || domain.len() > 253 {
        return Err(Failure::BadRequest("not a domain name".into()));
    }
    watcher
        .check_and_record(&domain)
        .await
        .map_err(|e| Failure::BadRequest(format!("the check could not be recorded: {e}")))
}
