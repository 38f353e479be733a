//! The portfolio page: every domain with its live mode, verdict, failure rates, activity
//! and a sparkline, sortable and filterable; its rows also feed `/api/v1/domains`.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use chrono::Utc;
use serde::Deserialize;
use tlsrpt_readiness::Verdict;
use tlsrpt_store::PortfolioQuery;

use crate::chart::{self, Sparkline};
use crate::error::Failure;
use crate::{Dashboard, advisor, text};

/// Days of the portfolio's sparkline and longer failure rate.
const PORTFOLIO_DAYS: u32 = 30;
use super::{VERDICTS, urlencode, verdict_label, verdict_named};

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
