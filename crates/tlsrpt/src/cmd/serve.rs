//! `tlsrpt serve`: the dashboard (and `/metrics`), the HTTPS report endpoint, the IMAP
//! watchers, the re-check schedule of known domains, the alert rules and the sender of
//! their notifications, side by side, until Ctrl-C or SIGTERM; each stops cleanly on the
//! same signal.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tlsrpt_imap::PollSettings;
use tlsrpt_store::Store;
use tlsrpt_watch::Watcher;
use tlsrpt_web::{
    ConnectionLimits, IngestState, RateLimiter, RateLimits, TlsFiles, Tokens, with_rate_limits,
};
use tokio::sync::watch;

use crate::cli::ServeArgs;
use crate::cmd::{alerts, dashboard, imap, metrics};
use crate::lease::{self, wait};

/// How many domains the schedule checks at the same time.
const CHECK_CONCURRENCY: usize = 16;

pub async fn run(store: &Store, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let accounts = if args.imap.imap_host.is_some() || args.imap.imap_accounts.is_some() {
        imap::accounts(&args.imap)?
    } else {
        Vec::new()
    };
    if args.listen.is_none()
        && accounts.is_empty()
        && args.check_interval == 0
        && dashboard::address(&args.dashboard).is_none()
        && args.dashboard.metrics.metrics_listen.is_none()
    {
        bail!(
            "nothing to serve: give --dashboard ADDR, --listen ADDR for the HTTPS endpoint, IMAP accounts, --metrics-listen ADDR, and/or a --check-interval"
        );
    }
    let alert_config = alerts::AlertConfigFile::load(args.alert_config.as_deref())?;
    let notifier = alert_config.notifier(store)?;
    let evaluator = alert_config.evaluator(store, notifier.as_ref())?;
    let (stop, stopped) = watch::channel(false);
    let signal = tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });

    let http = match args.listen {
        Some(addr) => {
            let tokens = Tokens::parse(args.report_tokens.iter().map(String::as_str))
                .context("invalid --report-token")?;
            if tokens.is_open() {
                tracing::warn!(
                    "no report token configured: anyone can post reports, which are marked unauthenticated"
                );
            }
            let tokens = Arc::new(tokens);
            let state = IngestState {
                store: store.clone(),
                tokens: tokens.clone(),
                limits: tlsrpt_ingest::Limits::default(),
            };
            let request_timeout = Duration::from_secs(args.request_timeout.max(1));
            let app = tlsrpt_web::router(state, args.max_report_size, request_timeout);
            let rate_limits = RateLimits {
                per_ip: args.rate_limit_per_ip.0,
                per_token: args.rate_limit_per_token.0,
                trusted_proxies: args.trusted_proxies.clone(),
                ..RateLimits::default()
            };
            let app = with_rate_limits(app, Arc::new(RateLimiter::new(rate_limits, tokens)));
            let connection_limits = ConnectionLimits {
                header_timeout: request_timeout,
                max_connections: args.max_connections as usize,
                ..ConnectionLimits::default()
            };
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            let tls = match (args.tls_cert, args.tls_key) {
                (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
                _ => None,
            };
            let scheme = if tls.is_some() { "https" } else { "http" };
            eprintln!("listening on {scheme}://{}", listener.local_addr()?);
            let stopped = stopped.clone();
            Some(tokio::spawn(async move {
                let tls = tls.as_ref();
                tlsrpt_web::serve(listener, app, tls, &connection_limits, wait(stopped)).await
            }))
        }
        None => None,
    };

    let dashboard =
        dashboard::start(store, &args.dashboard, &args.checker, stopped.clone()).await?;
    let metrics = metrics::start(store, &args.dashboard, stopped.clone()).await?;

    let schedule = match args.check_interval {
        0 => None,
        seconds => {
            let checker = args
                .checker
                .checker()
                .context("cannot set up the checker")?;
            let watcher = Watcher::new(checker, store.clone());
            eprintln!("re-checking known domains every {seconds} s");
            let stopped = stopped.clone();
            Some(tokio::spawn(async move {
                let interval = Duration::from_secs(seconds);
                watcher
                    .run_schedule(interval, CHECK_CONCURRENCY, wait(stopped))
                    .await;
            }))
        }
    };

    // The alert rules: after each ingest and each check (whoever stored it), and all of
    // them on a timer.
    let alerting = {
        let stopped = stopped.clone();
        tokio::spawn(async move { evaluator.run(wait(stopped)).await })
    };
    // Their notifications: webhooks and email, retried until delivered or given up.
    let notifying = notifier.map(|notifier| {
        eprintln!(
            "sending alert notifications to {}",
            notifier.channels().join(", ")
        );
        tokio::spawn(notifier.run(stopped.clone()))
    });

    if !accounts.is_empty() {
        let settings = PollSettings {
            interval: Duration::from_secs(args.imap_poll_interval.max(1)),
            ..PollSettings::default()
        };
        for account in &accounts {
            tracing::info!(mailbox = %account.mailbox_id(), tls = ?account.tls, "watching");
        }
        let sink = imap::sink(store, &args.imap)?;
        let retry = Duration::from_secs(args.imap.lease_retry.max(1));
        lease::watch_all(store, &accounts, &settings, &sink, retry, stopped).await;
    }
    if let Some(http) = http {
        http.await.context("the HTTP server task failed")??;
    }
    if let Some(dashboard) = dashboard {
        dashboard.await.context("the dashboard task failed")??;
    }
    if let Some(metrics) = metrics {
        metrics.await.context("the metrics task failed")??;
    }
    if let Some(schedule) = schedule {
        schedule.await.context("the check schedule failed")?;
    }
    alerting.await.context("the alert evaluation failed")?;
    if let Some(notifying) = notifying {
        notifying.await.context("the alert notifications failed")?;
    }
    signal.abort();
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
