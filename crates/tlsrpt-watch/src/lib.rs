//! The check history: a [`Watcher`] checks a domain, compares the result with the domain's
//! previous stored check ([`tlsrpt_check::detect_changes`]), and stores the new check with
//! its changes. [`Watcher::run_schedule`] re-checks every known domain whose latest check
//! is older than the interval, until stopped.
//!
//! Storage failures are errors of the recording step only: the check itself always has a
//! result, which callers can still show.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tlsrpt_check::{Change, Checker, Code, DomainReport, Severity, detect_changes};
use tlsrpt_store::{NewCheck, Store, StoreError, StoredCheck};

/// The longest pause between two looks at which domains are due on the schedule.
const SCHEDULE_TICK: Duration = Duration::from_secs(60);

/// Why a check could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The check could not be serialized.
    #[error("cannot serialize the check: {0}")]
    Json(#[from] serde_json::Error),
}

/// A check, what changed since the previous one, and where it was stored.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The check.
    pub report: DomainReport,
    /// The changes since the previous stored check; empty when there was none.
    pub changes: Vec<Change>,
    /// When the previous stored check ran, if there was one.
    pub previous_at: Option<DateTime<Utc>>,
    /// The id of the stored check; `None` when the input was not a domain name (such
    /// checks are not kept).
    pub check_id: Option<i64>,
}

/// Checks domains and keeps their history. Cheap to clone; clones share the checker's
/// resolver and the store's pool.
#[derive(Debug, Clone)]
pub struct Watcher {
    checker: Checker,
    store: Store,
}

impl Watcher {
    /// A watcher checking with `checker` and recording in `store`.
    pub fn new(checker: Checker, store: Store) -> Self {
        Self { checker, store }
    }

    /// The checker.
    pub fn checker(&self) -> &Checker {
        &self.checker
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Checks `domain`, detects the changes since its previous stored check, and stores
    /// the check with them.
    pub async fn check_and_record(&self, domain: &str) -> Result<Recorded, WatchError> {
        let report = self.checker.check(domain).await;
        self.record(&report).await
    }

    /// Detects the changes between `report` and the previous stored check of its domain,
    /// and stores `report` with them.
    pub async fn record(&self, report: &DomainReport) -> Result<Recorded, WatchError> {
        record(&self.store, report).await
    }

    /// Checks and records every domain, at most `concurrency` at a time; the results come
    /// back in the order of `domains`.
    pub async fn check_all(
        &self,
        domains: &[String],
        concurrency: usize,
    ) -> Vec<Result<Recorded, WatchError>> {
        futures_util::stream::iter(domains.iter().cloned())
            .map(|domain| async move { self.check_and_record(&domain).await })
            .buffered(concurrency.max(1))
            .collect()
            .await
    }

    /// The known domains (checked before, or the policy domain of a trusted stored report)
    /// whose latest check is older than `interval`, or that were never checked.
    pub async fn due_domains(&self, interval: Duration) -> Result<Vec<String>, WatchError> {
        let latest: HashMap<String, DateTime<Utc>> = self
            .store
            .latest_checks()
            .await?
            .into_iter()
            .map(|c: StoredCheck| (c.domain, c.checked_at))
            .collect();
        let interval = chrono::Duration::from_std(interval).unwrap_or(chrono::Duration::MAX);
        let now = Utc::now();
        Ok(self
            .store
            .known_domains()
            .await?
            .into_iter()
            .filter(|d| latest.get(d).is_none_or(|at| *at + interval <= now))
            .collect())
    }

    /// Until `stop` resolves: every known domain is re-checked and recorded once its latest
    /// check is `interval` old (domains never checked at once), `concurrency` at a time.
    /// Looks for due domains every `interval`, or every minute when the interval is longer.
    /// Errors are logged and retried at the next look; they never end the schedule.
    pub async fn run_schedule(
        &self,
        interval: Duration,
        concurrency: usize,
        stop: impl Future<Output = ()>,
    ) {
        let tick = interval.clamp(Duration::from_millis(100), SCHEDULE_TICK);
        let schedule = async {
            loop {
                self.run_due(interval, concurrency).await;
                tokio::time::sleep(tick).await;
            }
        };
        tokio::select! {
            () = stop => {}
            () = schedule => {}
        }
    }

    async fn run_due(&self, interval: Duration, concurrency: usize) {
        let due = match self.due_domains(interval).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list the domains due for a check");
                return;
            }
        };
        if due.is_empty() {
            return;
        }
        tracing::info!(domains = due.len(), "scheduled checks");
        for (domain, result) in due.iter().zip(self.check_all(&due, concurrency).await) {
            match result {
                Ok(recorded) => {
                    for change in &recorded.changes {
                        tracing::info!(
                            domain,
                            kind = %change.kind,
                            severity = %change.severity,
                            "{}",
                            change.message
                        );
                    }
                }
                Err(e) => tracing::warn!(domain, error = %e, "cannot record the check"),
            }
        }
    }
}

/// The report of a stored check; `None` (logged) when it cannot be read back, so that a
/// check stored by an older version starts a fresh history instead of failing.
fn stored_report(stored: &StoredCheck) -> Option<DomainReport> {
    serde_json::from_str(&stored.report_json)
        .inspect_err(|e| {
            tracing::warn!(
                domain = stored.domain,
                id = stored.id,
                error = %e,
                "the previous check cannot be read back; no changes computed"
            );
        })
        .ok()
}

/// Detects the changes between `report` and the previous stored check of its domain,
/// and stores `report` with them: how every check is recorded, whoever ran it (a
/// [`Watcher`], or the demo data's recorded checks).
pub async fn record(store: &Store, report: &DomainReport) -> Result<Recorded, WatchError> {
    if report
        .findings
        .iter()
        .any(|f| f.code == Code::DomainInvalid)
    {
        return Ok(Recorded {
            report: report.clone(),
            changes: Vec::new(),
            previous_at: None,
            check_id: None,
        });
    }
    let previous = store.latest_check(&report.domain).await?;
    let previous_at = previous.as_ref().map(|p| p.checked_at);
    let changes = previous
        .as_ref()
        .and_then(stored_report)
        .map(|before| detect_changes(&before, report))
        .unwrap_or_default();
    let id = store.save_check(&new_check(report, &changes)?).await?;
    Ok(Recorded {
        report: report.clone(),
        changes,
        previous_at,
        check_id: Some(id),
    })
}

/// The row to store for `report` and its `changes`.
pub fn new_check(report: &DomainReport, changes: &[Change]) -> Result<NewCheck, WatchError> {
    let count = |s: Severity| i64::try_from(report.count(s)).unwrap_or(i64::MAX);
    Ok(NewCheck {
        domain: report.domain.clone(),
        checked_at: report.checked_at,
        verdict: report.verdict.as_str().to_owned(),
        sts_id: report.sts_record.record.as_ref().map(|r| r.id.clone()),
        mode: report
            .policy
            .as_ref()
            .and_then(|p| p.policy.as_ref())
            .map(|p| p.mode.as_str().to_owned()),
        mx_hosts: report.mx.hosts.iter().map(|h| h.name.clone()).collect(),
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        report_json: serde_json::to_string(report)?,
        changes_json: serde_json::to_string(changes)?,
    })
}

/// The changes stored with a check.
pub fn stored_changes(stored: &StoredCheck) -> Vec<Change> {
    serde_json::from_str(&stored.changes_json).unwrap_or_default()
}
