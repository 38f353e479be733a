//! The server-rendered pages: the portfolio, one domain, one report, rejected inputs and
//! the ingest sources. Handlers gather data into view structs; the askama templates in
//! `web/templates/` only lay them out, escaping every string.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use tlsrpt_check::DomainReport;
use tlsrpt_readiness::{Assessment, Breakdown, Verdict};
use tlsrpt_store::PortfolioQuery;

use crate::chart::{self, DaySessions, Sparkline, StackedChart};
use crate::error::Failure;
use crate::{Dashboard, advisor, text};

/// Days of the portfolio's sparkline and longer failure rate.
const PORTFOLIO_DAYS: u32 = 30;

// ---------------------------------------------------------------------------------------
// Portfolio

/// One domain's row on the portfolio page.
#[derive(Debug, Clone)]
pub struct PortfolioRow {
    pub domain: String,
    pub mode: String,
    pub mode_class: &'static str,
    pub verdict: &'static str,
    pub verdict_label: &'static str,
    pub rate14: String,
    pub rate30: String,
    rate14_value: f64,
    rate30_value: f64,
    pub sessions30: i64,
    pub last_report: String,
    last_report_at: i64,
    pub last_check: String,
    last_check_at: i64,
    pub spark: Sparkline,
    pub spark_peak: String,
}

/// A sortable column header.
#[derive(Debug, Clone)]
pub struct Column {
    pub key: &'static str,
    pub label: &'static str,
    pub numeric: bool,
    pub sorted: bool,
    pub href: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "portfolio.html")]
pub struct PortfolioPage {
    rows: Vec<PortfolioRow>,
    columns: Vec<Column>,
    counts: Vec<(&'static str, &'static str, usize)>,
    /// (value, label, selected) of the verdict filter.
    options: Vec<(&'static str, &'static str, bool)>,
    total: usize,
    q: String,
    sort: String,
    dir: &'static str,
    days: u32,
}

/// The portfolio page's query: a filter and a sort.
#[derive(Debug, Default, Deserialize)]
pub struct PortfolioParams {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub verdict: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub dir: String,
}

const VERDICTS: [(Verdict, &str); 5] = [
    (Verdict::Ready, "Ready"),
    (Verdict::NotReady, "Not ready"),
    (Verdict::Blocked, "Blocked"),
    (Verdict::InsufficientData, "Insufficient data"),
    (Verdict::NotApplicable, "Not applicable"),
];

fn verdict_named(name: &str) -> Option<Verdict> {
    VERDICTS
        .iter()
        .map(|(v, _)| *v)
        .find(|v| v.as_str() == name)
}

fn verdict_label(verdict: Verdict) -> &'static str {
    VERDICTS
        .iter()
        .find(|(v, _)| *v == verdict)
        .map_or("", |(_, label)| label)
}

const COLUMNS: [(&str, &str, bool); 8] = [
    ("domain", "Domain", false),
    ("mode", "Live mode", false),
    ("verdict", "Verdict", false),
    ("rate14", "Failures 14 d", true),
    ("rate30", "Failures 30 d", true),
    ("sessions", "Sessions 30 d", true),
    ("report", "Last report", false),
    ("check", "Last check", false),
];

/// The rows of every domain, as the portfolio page and its API show them.
pub async fn portfolio_rows(dashboard: &Dashboard) -> Result<Vec<PortfolioRow>, Failure> {
    let now = Utc::now();
    let store = dashboard.store();
    let overviews = store
        .portfolio(&PortfolioQuery {
            today: now.date_naive(),
            days: PORTFOLIO_DAYS,
            trusted_only: dashboard.inner.trust == advisor::Trust::Trusted,
        })
        .await?;
    let checks: BTreeMap<String, tlsrpt_store::StoredCheck> = store
        .latest_checks()
        .await?
        .into_iter()
        .map(|c| (c.domain.clone(), c))
        .collect();
    let overviews: BTreeMap<String, tlsrpt_store::DomainOverview> = overviews
        .into_iter()
        .map(|o| (o.domain.clone(), o))
        .collect();
    let inputs = advisor::inputs_of(overviews.values(), checks.values());
    let verdicts = advisor::verdicts(
        store,
        &inputs,
        now,
        &dashboard.inner.thresholds,
        dashboard.inner.trust,
    )
    .await?;

    let mut rows = Vec::with_capacity(inputs.len());
    for domain in inputs.into_keys() {
        let overview = overviews.get(&domain);
        let verdict = verdicts
            .get(&domain)
            .and_then(|v| verdict_named(&v.verdict))
            .unwrap_or(Verdict::InsufficientData);
        let check = checks.get(&domain);
        let (last14, last30, daily) = overview.map_or_else(Default::default, |o| {
            (o.last_days(14), o.last_days(30), o.daily.clone())
        });
        let rates: Vec<f64> = daily
            .iter()
            .map(|d| {
                let total = d.successful_sessions + d.failed_sessions;
                if total > 0 {
                    d.failed_sessions as f64 / total as f64
                } else {
                    0.0
                }
            })
            .collect();
        let spark = chart::sparkline(&rates, 120, 24);
        let mode = check
            .and_then(|c| c.mode.clone())
            .unwrap_or_else(|| "unknown".into());
        let share = |t: &tlsrpt_store::SessionTotals| {
            if t.sessions() > 0 {
                t.failed_sessions as f64 / t.sessions() as f64
            } else {
                -1.0
            }
        };
        let last_report_at = overview
            .and_then(|o| o.last_ingested_at)
            .map_or(0, |t| t.timestamp());
        rows.push(PortfolioRow {
            mode_class: match mode.as_str() {
                "enforce" => "enforce",
                "testing" => "testing",
                "none" => "none",
                _ => "unknown",
            },
            mode,
            verdict: verdict.as_str(),
            verdict_label: verdict_label(verdict),
            rate14: text::rate(last14.failed_sessions, last14.sessions()),
            rate30: text::rate(last30.failed_sessions, last30.sessions()),
            rate14_value: share(&last14),
            rate30_value: share(&last30),
            sessions30: last30.sessions(),
            last_report: overview
                .and_then(|o| o.last_report_start)
                .map_or_else(|| "never".into(), text::time),
            last_report_at,
            last_check: check.map_or_else(
                || "never".into(),
                |c| format!("{} ({})", c.verdict, text::age(c.checked_at, now)),
            ),
            last_check_at: check.map_or(0, |c| c.checked_at.timestamp()),
            spark_peak: text::percent(spark.peak),
            spark,
            domain,
        });
    }
    Ok(rows)
}

/// `GET /`: every domain with its live mode, verdict, failure rates and activity.
pub async fn portfolio(
    State(dashboard): State<Dashboard>,
    Query(params): Query<PortfolioParams>,
) -> Result<PortfolioPage, Failure> {
    let all = portfolio_rows(&dashboard).await?;
    let counts = VERDICTS
        .iter()
        .map(|(v, label)| {
            (
                v.as_str(),
                *label,
                all.iter().filter(|r| r.verdict == v.as_str()).count(),
            )
        })
        .collect();
    let total = all.len();
    let needle = params.q.trim().to_ascii_lowercase();
    let mut rows: Vec<PortfolioRow> = all
        .into_iter()
        .filter(|r| needle.is_empty() || r.domain.contains(&needle))
        .filter(|r| params.verdict.is_empty() || r.verdict == params.verdict)
        .collect();
    let sort = COLUMNS
        .iter()
        .find(|(key, _, _)| *key == params.sort)
        .map_or("domain", |(key, _, _)| key);
    let descending = params.dir == "desc";
    sort_rows(&mut rows, sort);
    if descending {
        rows.reverse();
    }
    let columns = COLUMNS
        .iter()
        .map(|&(key, label, numeric)| {
            let sorted = key == sort;
            // Clicking the sorted column flips it; another column sorts ascending, except
            // numbers, which start with the largest.
            let dir = if sorted {
                if descending { "asc" } else { "desc" }
            } else if numeric {
                "desc"
            } else {
                "asc"
            };
            Column {
                key,
                label,
                numeric,
                sorted,
                href: format!(
                    "/?sort={key}&dir={dir}&q={}&verdict={}",
                    urlencode(&params.q),
                    urlencode(&params.verdict)
                ),
            }
        })
        .collect();
    Ok(PortfolioPage {
        rows,
        columns,
        counts,
        total,
        options: VERDICTS
            .iter()
            .map(|(v, label)| (v.as_str(), *label, v.as_str() == params.verdict))
            .collect(),
        q: params.q,
        sort: sort.to_owned(),
        dir: if descending { "desc" } else { "asc" },
        days: PORTFOLIO_DAYS,
    })
}

fn sort_rows(rows: &mut [PortfolioRow], key: &str) {
    let rank = |verdict: &str| {
        VERDICTS
            .iter()
            .position(|(v, _)| v.as_str() == verdict)
            .unwrap_or(VERDICTS.len())
    };
    match key {
        "mode" => rows.sort_by(|a, b| a.mode.cmp(&b.mode).then(a.domain.cmp(&b.domain))),
        "verdict" => rows.sort_by(|a, b| {
            rank(a.verdict)
                .cmp(&rank(b.verdict))
                .then(a.domain.cmp(&b.domain))
        }),
        "rate14" => rows.sort_by(|a, b| a.rate14_value.total_cmp(&b.rate14_value)),
        "rate30" => rows.sort_by(|a, b| a.rate30_value.total_cmp(&b.rate30_value)),
        "sessions" => rows.sort_by_key(|r| r.sessions30),
        "report" => rows.sort_by_key(|r| r.last_report_at),
        "check" => rows.sort_by_key(|r| r.last_check_at),
        _ => rows.sort_by(|a, b| a.domain.cmp(&b.domain)),
    }
}

/// Percent-encodes a query value.
fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Domain

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

// ---------------------------------------------------------------------------------------
// One report

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

// ---------------------------------------------------------------------------------------
// Rejected inputs and sources

#[derive(Debug, Clone)]
pub struct RejectedRow {
    pub id: i64,
    pub received: String,
    pub source: String,
    pub locator: String,
    pub part: Option<String>,
    pub reason: String,
    pub size: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "rejected.html")]
pub struct RejectedPage {
    rows: Vec<RejectedRow>,
}

/// `GET /rejected`: the inputs that were not stored as reports, and why.
pub async fn rejected(State(dashboard): State<Dashboard>) -> Result<RejectedPage, Failure> {
    let rows = dashboard
        .store()
        .unaccepted_inputs(500)
        .await?
        .into_iter()
        .map(|i| RejectedRow {
            id: i.id,
            received: text::unix(Some(i.received_at)),
            source: i.source,
            locator: i.locator,
            part: i.part,
            reason: format!("{}: {}", i.outcome, i.reason.unwrap_or_default()),
            size: i.raw_size.map_or_else(|| "—".into(), |s| s.to_string()),
        })
        .collect();
    Ok(RejectedPage { rows })
}

#[derive(Debug, Clone)]
pub struct SourceView {
    pub source: String,
    pub stored: i64,
    pub duplicate: i64,
    pub rejected: i64,
    pub not_report: i64,
    pub last: String,
}

#[derive(Debug, Clone)]
pub struct MailboxView {
    pub mailbox: String,
    pub last_sync: String,
    pub state: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "sources.html")]
pub struct SourcesPage {
    sources: Vec<SourceView>,
    mailboxes: Vec<MailboxView>,
}

/// `GET /sources`: what each ingest source delivered, and each mailbox's sync health.
pub async fn sources(State(dashboard): State<Dashboard>) -> Result<SourcesPage, Failure> {
    let store = dashboard.store();
    let now = Utc::now();
    let sources = store
        .source_summary()
        .await?
        .into_iter()
        .map(|s| SourceView {
            last: text::unix(s.last_received_at),
            source: s.source,
            stored: s.stored,
            duplicate: s.duplicate,
            rejected: s.rejected,
            not_report: s.not_report,
        })
        .collect();
    let mailboxes = store
        .mailboxes()
        .await?
        .into_iter()
        .map(|m| {
            let synced =
                chrono::DateTime::from_timestamp(m.updated_at, 0).filter(|_| m.updated_at > 0);
            MailboxView {
                last_sync: synced.map_or_else(
                    || "never".into(),
                    |t| format!("{} ({})", text::time(t), text::age(t, now)),
                ),
                state: match (&m.last_error, m.last_error_at) {
                    (Some(e), at) => format!("error {}: {e}", text::unix(at)),
                    (None, _) => {
                        format!("ok, UID {} of UIDVALIDITY {}", m.last_uid, m.uid_validity)
                    }
                },
                mailbox: m.mailbox,
            }
        })
        .collect();
    Ok(SourcesPage { sources, mailboxes })
}
