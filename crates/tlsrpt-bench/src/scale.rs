//! `scale`: builds a large dataset (by default 1,000,000 reports for 1,000 domains over
//! 400 days) through the real write path, `Store::batch_writer`, on SQLite or on a
//! throwaway PostgreSQL, then times the hot queries: the 30-day stats of one domain and
//! the portfolio overview of every domain, with the advisor's per-domain queries for
//! reference, and the alert rules' `evaluate_all` over every domain. Prints ingest
//! throughput and p50/p99 latencies; `--explain` also prints the plans of the hot queries
//! on this dataset, as in docs/QUERY-PLANS.md.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use chrono::{Days, NaiveDate};
use clap::{Args, ValueEnum};
use tlsrpt_alert::{AlertRules, Evaluator};
use tlsrpt_corpus::Corpus;
use tlsrpt_metrics::{Exporter, Settings};
use tlsrpt_report::{Limits, parse};
use tlsrpt_store::{
    Auth, Candidate, NewCheck, NewInput, Outcome, PortfolioQuery, Raw, RollupQuery, StatsFilter,
    Store,
};
use tlsrpt_testkit::postgres::Postgres;

/// The database to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Args)]
pub struct ScaleArgs {
    #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
    backend: Backend,
    #[arg(long, default_value_t = 1_000_000)]
    reports: usize,
    #[arg(long, default_value_t = 1000)]
    domains: u64,
    /// Report starts are spread over this many days.
    #[arg(long, default_value_t = 400)]
    days: u64,
    /// Timed runs of each query.
    #[arg(long, default_value_t = 50)]
    runs: usize,
    /// Reports per write transaction (the CLI's default batch size).
    #[arg(long, default_value_t = 8192)]
    batch: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also print each hot query's plan on the dataset.
    #[arg(long)]
    explain: bool,
    /// Keep the SQLite database in this directory instead of a temporary one.
    #[arg(long)]
    keep_in: Option<std::path::PathBuf>,
}

pub async fn scale(args: ScaleArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // Held until the end: dropping it stops the server.
    let mut server = None;
    let url = match args.backend {
        Backend::Sqlite => args
            .keep_in
            .as_deref()
            .unwrap_or(dir.path())
            .join("scale.db")
            .display()
            .to_string(),
        Backend::Postgres => server.insert(Postgres::start()).create_database(),
    };
    let store = Store::open(&url).await?;
    let mut corpus = Corpus::new(args.seed, args.domains).with_days(args.days);
    let today = corpus
        .first_day()
        .date_naive()
        .checked_add_days(Days::new(args.days - 1))
        .context("date out of range")?;
    ingest(&store, &mut corpus, &args).await?;

    let domain = |run: usize| format!("domain{}.example", (run as u64 * 7919) % args.domains);
    let month_ago = today - Days::new(29);
    let stats = time(args.runs, |run| {
        let store = &store;
        let filter = StatsFilter {
            domain: Some(domain(run)),
            since: Some(month_ago),
            until: Some(today),
        };
        async move {
            let stats = store.stats(&filter).await?;
            ensure!(!stats.is_empty(), "no stats for {:?}", filter.domain);
            Ok(())
        }
    })
    .await?;
    report("stats, one domain, 30 days", &stats);
    let portfolio_query = PortfolioQuery {
        today,
        days: 30,
        trusted_only: true,
    };
    let portfolio = time(args.runs, |_| {
        let (store, query) = (&store, &portfolio_query);
        async move {
            let overview = store.portfolio(query).await?;
            ensure!(overview.len() as u64 == args.domains, "missing domains");
            Ok(())
        }
    })
    .await?;
    report("portfolio, all domains, 30 days", &portfolio);
    let window = |run: usize| RollupQuery {
        domain: domain(run),
        since: month_ago,
        until: today,
        trusted_only: true,
    };
    let daily = time(args.runs, |run| {
        let (store, query) = (&store, window(run));
        async move { Ok(store.domain_daily(&query).await.map(drop)?) }
    })
    .await?;
    report("domain_daily, 30 days", &daily);
    let failures = time(args.runs, |run| {
        let (store, query) = (&store, window(run));
        async move { Ok(store.failure_rows(&query).await.map(drop)?) }
    })
    .await?;
    report("failure_rows, 30 days", &failures);
    let policies = time(args.runs, |run| {
        let (store, query) = (&store, window(run));
        async move { Ok(store.policies_seen(&query).await.map(drop)?) }
    })
    .await?;
    report("policies_seen, 30 days", &policies);

    evaluate_alerts(&store, today, args.runs.min(5)).await?;
    let scrape = time_scrape(&store, &args, today).await?;
    report("metrics scrape, all domains", &scrape);

    if args.explain {
        print_plans(&store, &domain(0), today).await?;
    }
    store.close().await;
    drop(server);
    Ok(())
}

/// The alert rules on every domain as of noon on the dataset's last day: once cold (the
/// advisor assesses and caches every verdict), then `runs` times warm, as `tlsrpt serve`
/// runs it every hour.
async fn evaluate_alerts(store: &Store, today: NaiveDate, runs: usize) -> anyhow::Result<()> {
    let evaluator = Evaluator::new(store.clone(), AlertRules::default());
    let noon = today.and_hms_opt(12, 0, 0).context("noon")?.and_utc();
    let started = Instant::now();
    let first = evaluator.evaluate_all(noon).await?;
    println!(
        "evaluate_all, cold (every verdict assessed): {:.0} ms for {} domains, {} conditions",
        started.elapsed().as_secs_f64() * 1000.0,
        first.domains.len(),
        first.firing.len()
    );
    let warm = time(runs, |_| {
        let evaluator = &evaluator;
        async move { Ok(evaluator.evaluate_all(noon).await.map(drop)?) }
    })
    .await?;
    report("evaluate_all, warm (cached verdicts)", &warm);
    Ok(())
}

/// Times a whole `/metrics` scrape (as `tlsrpt serve` renders it, default settings) once
/// every domain has four stored checks: the first scrape reads each latest check's JSON
/// for its certificate expiry, later ones only the headlines.
async fn time_scrape(
    store: &Store,
    args: &ScaleArgs,
    today: NaiveDate,
) -> anyhow::Result<Vec<Duration>> {
    let noon = today
        .and_hms_opt(12, 0, 0)
        .context("date out of range")?
        .and_utc();
    for n in 0..args.domains {
        for hours in [18, 12, 6, 0] {
            let not_after = noon + chrono::Duration::days(30 + n as i64 % 60);
            let json = serde_json::json!({"mx": {"hosts": [{"addresses": [{"tls": {
                "certificate": {"not_after": not_after.to_rfc3339()}}}]}]}});
            store
                .save_check(&NewCheck {
                    domain: format!("domain{n}.example"),
                    checked_at: noon - chrono::Duration::hours(hours),
                    verdict: "pass".to_owned(),
                    sts_id: None,
                    mode: Some("testing".to_owned()),
                    mx_hosts: vec![format!("mx.domain{n}.example")],
                    errors: 0,
                    warnings: 0,
                    report_json: json.to_string(),
                    changes_json: "[]".to_owned(),
                })
                .await?;
        }
    }
    let exporter = Exporter::new(store.clone(), Settings::default());
    let first = Instant::now();
    exporter.render(noon).await?;
    println!(
        "metrics scrape, first (reads {} checks' JSON): {:.1} ms",
        args.domains,
        first.elapsed().as_secs_f64() * 1000.0
    );
    time(args.runs, |_| {
        let exporter = &exporter;
        async move {
            let text = exporter.render(noon).await?;
            ensure!(
                text.contains("tlsrpt_check_verdict"),
                "no check in the scrape"
            );
            Ok(())
        }
    })
    .await
}

/// Writes `args.reports` generated reports in batches; prints the throughput of the
/// writes alone (generating and parsing the reports is not counted) and overall.
async fn ingest(store: &Store, corpus: &mut Corpus, args: &ScaleArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut writing = Duration::ZERO;
    let mut stored = 0;
    let mut next_progress = 100_000;
    let mut writer = store.batch_writer();
    while stored < args.reports {
        let size = args.batch.min(args.reports - stored);
        let batch = (0..size)
            .map(|_| input(corpus))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let write_started = Instant::now();
        let outcomes = writer.write_batch(&batch).await?;
        writing += write_started.elapsed();
        let new = outcomes.iter().filter(|o| **o == Outcome::Stored).count();
        ensure!(
            new == size,
            "{} of a batch of {size} were not stored",
            size - new
        );
        stored += new;
        if stored >= next_progress {
            eprintln!(
                "  {stored} stored, {:.0} reports/s of writes",
                stored as f64 / writing.as_secs_f64()
            );
            next_progress += 100_000;
        }
    }
    println!(
        "ingest: {stored} reports in {:.1} s of writes ({:.0} reports/s); {:.1} s with generation",
        writing.as_secs_f64(),
        stored as f64 / writing.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The next generated report as `tlsrpt ingest` would store it.
fn input(corpus: &mut Corpus) -> anyhow::Result<NewInput> {
    let (report, ..) = corpus.next_report();
    let json = serde_json::to_vec(&report)?;
    let parsed = parse(&json, &Limits::default())
        .map_err(|reason| anyhow::anyhow!("generated report rejected: {reason:?}"))?;
    Ok(NewInput {
        source: "file",
        locator: format!("scale/{}", parsed.report_id),
        part: None,
        message_id: None,
        received_at: parsed.date_range.end.timestamp() + 3600,
        candidate: Candidate::Report {
            report: Box::new(parsed),
            raw_json: Raw::compress(&json, json.len() as u64),
            auth: Auth::Operator,
        },
    })
}

/// Runs `query` once to warm up, then `runs` times; the sorted durations.
async fn time<F, Fut>(runs: usize, mut query: F) -> anyhow::Result<Vec<Duration>>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    query(runs).await?;
    let mut durations = Vec::with_capacity(runs);
    for run in 0..runs {
        let started = Instant::now();
        query(run).await?;
        durations.push(started.elapsed());
    }
    durations.sort_unstable();
    Ok(durations)
}

/// The `p`-th percentile (0..=100) of sorted durations, in milliseconds.
fn percentile(sorted: &[Duration], p: usize) -> f64 {
    let rank = (sorted.len() * p)
        .div_ceil(100)
        .clamp(1, sorted.len().max(1));
    sorted
        .get(rank - 1)
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

fn report(what: &str, sorted: &[Duration]) {
    println!(
        "{what}: p50 {:.2} ms, p99 {:.2} ms over {} runs",
        percentile(sorted, 50),
        percentile(sorted, 99),
        sorted.len()
    );
}

async fn print_plans(store: &Store, domain: &str, today: NaiveDate) -> anyhow::Result<()> {
    for plan in store.query_plans(domain, today, false).await? {
        println!("\n### {}\n\n```sql\n{}\n```\n\n```", plan.name, plan.sql);
        for line in &plan.plan {
            println!("{line}");
        }
        println!("```");
    }
    Ok(())
}
