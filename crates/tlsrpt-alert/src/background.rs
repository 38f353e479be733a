//! The evaluation loop of `tlsrpt serve`: every `poll_seconds` it looks at when each
//! domain last had a report stored and its latest check id (two small queries, whoever
//! ingested or checked: HTTPS, IMAP, the schedule, the dashboard, another instance), and
//! evaluates the domains that changed; every `full_evaluation_minutes` it evaluates every
//! rule on every domain.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tlsrpt_store::{PortfolioQuery, StoreError};

use crate::evaluate::Evaluator;

/// What the loop last saw of each domain.
#[derive(Debug, Default, Clone, PartialEq)]
struct Seen {
    ingested: BTreeMap<String, DateTime<Utc>>,
    checks: BTreeMap<String, i64>,
}

impl Evaluator {
    /// Until `stop` resolves: one full evaluation at once, then new reports and checks
    /// evaluated every `poll_seconds` and everything every `full_evaluation_minutes`.
    /// Errors are logged and retried at the next look; they never end the loop.
    pub async fn run(&self, stop: impl Future<Output = ()>) {
        let poll = Duration::from_secs(self.rules().rules.poll_seconds.max(1));
        let full = chrono::Duration::minutes(
            i64::try_from(self.rules().rules.full_evaluation_minutes).unwrap_or(60),
        );
        let work = async {
            let mut seen: Option<Seen> = None;
            let mut last_full: Option<DateTime<Utc>> = None;
            let mut last_pass = Utc::now();
            loop {
                let now = Utc::now();
                match self.snapshot(now).await {
                    Ok(current) => {
                        let due = last_full.is_none_or(|at| at + full <= now);
                        let result = if due {
                            self.full_pass(now).await
                        } else {
                            let previous = seen.clone().unwrap_or_default();
                            self.changed_pass(&previous, &current, last_pass, now).await
                        };
                        match result {
                            Ok(()) => {
                                if due {
                                    last_full = Some(now);
                                }
                                seen = Some(current);
                                last_pass = now;
                            }
                            Err(e) => tracing::warn!(error = %e, "cannot evaluate alert rules"),
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot look for new reports and checks"),
                }
                tokio::time::sleep(poll).await;
            }
        };
        tokio::select! {
            () = stop => {}
            () = work => {}
        }
    }

    async fn snapshot(&self, now: DateTime<Utc>) -> Result<Seen, StoreError> {
        let ingested = self
            .store()
            .portfolio(&PortfolioQuery {
                today: now.date_naive(),
                days: 0,
                trusted_only: true,
            })
            .await?
            .into_iter()
            .filter_map(|o| Some((o.domain, o.last_ingested_at?)))
            .collect();
        let checks = self.store().latest_check_ids().await?.into_iter().collect();
        Ok(Seen { ingested, checks })
    }

    async fn full_pass(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let evaluation = self.evaluate_all(now).await?;
        tracing::info!(
            domains = evaluation.domains.len(),
            firing = evaluation.firing.len(),
            opened = evaluation.sync.opened.len(),
            resolved = evaluation.sync.resolved.len(),
            "evaluated every alert rule"
        );
        Ok(())
    }

    /// Evaluates the domains with a report stored, or a check recorded, since the
    /// previous pass. Ingest times are whole seconds: a domain whose last ingest fell in
    /// the second of the previous pass is evaluated again, so that a report stored later
    /// in that second is not missed.
    async fn changed_pass(
        &self,
        previous: &Seen,
        current: &Seen,
        last_pass: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let since = last_pass.timestamp();
        let ingested: Vec<String> = current
            .ingested
            .iter()
            .filter(|(d, at)| previous.ingested.get(*d) != Some(at) || at.timestamp() >= since)
            .map(|(d, _)| d.clone())
            .collect();
        if !ingested.is_empty() {
            let evaluation = self.evaluate_domains(&ingested, now).await?;
            tracing::debug!(
                domains = ingested.len(),
                opened = evaluation.sync.opened.len(),
                "evaluated new reports"
            );
        }
        for (domain, id) in &current.checks {
            if previous.checks.get(domain) != Some(id) {
                let evaluation = self.evaluate_check(domain, now).await?;
                tracing::debug!(
                    domain,
                    opened = evaluation.sync.opened.len(),
                    "evaluated a new check"
                );
            }
        }
        Ok(())
    }
}
