//! Evaluation: reads each domain's evidence from the store (rollups of trusted reports,
//! the latest live check, the cached verdict), runs the rules, and records the outcome
//! with [`Store::sync_alerts`] in exactly the scope evaluated: the domains and the rules
//! of the families that ran, so an evaluation after a check never resolves report alerts.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tlsrpt_advisor::{Inputs, Trust};
use tlsrpt_check::Change;
use tlsrpt_readiness::Thresholds;
use tlsrpt_store::{
    AlertScope, AlertSync, NewAlert, PortfolioQuery, RollupQuery, Store, StoreError, StoredCheck,
    SyncOptions,
};
use tokio::sync::Notify;

use crate::checks::{self, CheckEvidence, LastRecord};
use crate::config::{AlertRules, DomainRules, RulesConfig, normalise};
use crate::reports::{self, ReportEvidence, new_alert};
use crate::rule::{Family, Rule};

/// A report rule's function.
type ReportRule = fn(&ReportEvidence, &RulesConfig) -> Vec<NewAlert>;
/// A check rule's function.
type CheckRule = fn(&CheckEvidence, &RulesConfig) -> Vec<NewAlert>;

/// How far back the history is searched for the last check that had an `_mta-sts` record.
const RECORD_HISTORY: i64 = 200;

/// Evaluates the rules against a store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Evaluator {
    store: Store,
    rules: AlertRules,
    channels: Vec<String>,
    thresholds: Thresholds,
    /// Woken when an evaluation queued notifications, so the sender does not wait for its
    /// next poll.
    waker: Option<Arc<Notify>>,
}

/// What one evaluation did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Evaluation {
    /// The domains evaluated.
    pub domains: Vec<String>,
    /// The rules evaluated (disabled ones included: their alerts resolve).
    pub rules: Vec<String>,
    /// The conditions that hold.
    pub firing: Vec<NewAlert>,
    /// What changed in the store.
    pub sync: AlertSync,
}

impl Evaluator {
    /// An evaluator of `rules` on `store`, queueing notifications on no channel.
    pub fn new(store: Store, rules: AlertRules) -> Self {
        Self {
            store,
            rules,
            channels: Vec::new(),
            thresholds: Thresholds::default(),
            waker: None,
        }
    }

    /// Wakes `waker` (the notification sender's) whenever an evaluation opens or resolves
    /// an alert.
    pub fn with_waker(mut self, waker: Arc<Notify>) -> Self {
        self.waker = Some(waker);
        self
    }

    /// Queues each new alert and each resolution on these channels (`webhook:NAME`,
    /// `email`).
    pub fn with_channels(mut self, channels: Vec<String>) -> Self {
        self.channels = channels;
        self
    }

    /// Judges readiness (ready-for-enforce) with these thresholds instead of the default.
    pub fn with_thresholds(mut self, thresholds: Thresholds) -> Self {
        self.thresholds = thresholds;
        self
    }

    /// The configuration.
    pub fn rules(&self) -> &AlertRules {
        &self.rules
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The report rules and ready-for-enforce on `domains`, e.g. after an ingest.
    pub async fn evaluate_domains(
        &self,
        domains: &[String],
        now: DateTime<Utc>,
    ) -> Result<Evaluation, StoreError> {
        let domains = domains.iter().map(|d| normalise(d)).collect();
        self.evaluate(domains, &[Family::Reports, Family::Verdict], None, now)
            .await
    }

    /// The check rules and ready-for-enforce on `domain`, e.g. after a check.
    pub async fn evaluate_check(
        &self,
        domain: &str,
        now: DateTime<Utc>,
    ) -> Result<Evaluation, StoreError> {
        self.evaluate(
            vec![normalise(domain)],
            &[Family::Check, Family::Verdict],
            None,
            now,
        )
        .await
    }

    /// Every rule on every known domain (checked, or with trusted reports): also what
    /// only time changes (silent reporters, certificate countdowns, cached policies).
    pub async fn evaluate_all(&self, now: DateTime<Utc>) -> Result<Evaluation, StoreError> {
        let latest: BTreeMap<String, StoredCheck> = self
            .store
            .latest_checks()
            .await?
            .into_iter()
            .map(|c| (c.domain.clone(), c))
            .collect();
        let domains = self.store.known_domains().await?;
        self.evaluate(
            domains,
            &[Family::Reports, Family::Check, Family::Verdict],
            Some(latest),
            now,
        )
        .await
    }

    async fn evaluate(
        &self,
        mut domains: Vec<String>,
        families: &[Family],
        latest: Option<BTreeMap<String, StoredCheck>>,
        now: DateTime<Utc>,
    ) -> Result<Evaluation, StoreError> {
        domains.sort();
        domains.dedup();
        domains.retain(|d| !d.is_empty());
        let mut firing = Vec::new();
        let mut checked_at = BTreeMap::new();
        for domain in &domains {
            let rules = self.rules.for_domain(domain);
            if families.contains(&Family::Reports) {
                firing.extend(self.report_rules(domain, &rules, now).await?);
            }
            let check = match &latest {
                Some(latest) => latest.get(domain).cloned(),
                None => self.store.latest_check(domain).await?,
            };
            if let Some(check) = &check {
                checked_at.insert(domain.clone(), check.checked_at);
            }
            if families.contains(&Family::Check)
                && let Some(check) = &check
            {
                firing.extend(self.check_rules(check, &rules, now).await?);
            }
        }
        if families.contains(&Family::Verdict) {
            firing.extend(self.verdict_rule(&domains, &checked_at, now).await?);
        }
        let rules: Vec<String> = Rule::of(families)
            .into_iter()
            .map(|r| r.as_str().to_owned())
            .collect();
        let scope = AlertScope {
            domains: domains.clone(),
            rules: rules.clone(),
        };
        let options = SyncOptions {
            channels: self.channels.clone(),
            quiet_reopen: Duration::minutes(i64::from(self.rules.rules.quiet_reopen_minutes)),
            now,
        };
        let sync = self.store.sync_alerts(&scope, &firing, &options).await?;
        if let Some(waker) = &self.waker
            && !(sync.opened.is_empty() && sync.resolved.is_empty())
        {
            waker.notify_one();
        }
        Ok(Evaluation {
            domains,
            rules,
            firing,
            sync,
        })
    }

    async fn report_rules(
        &self,
        domain: &str,
        rules: &DomainRules,
        now: DateTime<Utc>,
    ) -> Result<Vec<NewAlert>, StoreError> {
        let today = now.date_naive();
        let s = &rules.settings;
        let evidence = ReportEvidence {
            domain: domain.to_owned(),
            today,
            rollups: self
                .store
                .domain_daily(&RollupQuery {
                    domain: domain.to_owned(),
                    since: ReportEvidence::first_day(today, s),
                    until: today,
                    // Forged reports must neither raise nor clear an alert.
                    trusted_only: true,
                })
                .await?,
        };
        let run: [(Rule, ReportRule); 4] = [
            (Rule::FailureRateRise, reports::failure_rate_rise),
            (Rule::NewResultType, reports::new_result_type),
            (Rule::NewFailingMx, reports::new_failing_mx),
            (Rule::ReporterSilent, reports::reporter_silent),
        ];
        Ok(run
            .into_iter()
            .filter(|(rule, _)| rules.enabled(*rule))
            .flat_map(|(_, f)| f(&evidence, s))
            .collect())
    }

    async fn check_rules(
        &self,
        check: &StoredCheck,
        rules: &DomainRules,
        now: DateTime<Utc>,
    ) -> Result<Vec<NewAlert>, StoreError> {
        let Some(report) = tlsrpt_advisor::live_report(check) else {
            return Ok(Vec::new());
        };
        let changes: Vec<Change> = serde_json::from_str(&check.changes_json).unwrap_or_default();
        let last_record = if report.sts_record.record.is_none() {
            self.last_record(&check.domain).await?
        } else {
            None
        };
        let evidence = CheckEvidence {
            now,
            report,
            changes,
            last_record,
        };
        let run: [(Rule, CheckRule); 5] = [
            (Rule::PolicyFetchFailing, checks::policy_fetch_failing),
            (Rule::MxDrift, checks::mx_drift),
            (Rule::CertExpiring, checks::cert_expiring),
            (Rule::PolicyChanged, checks::policy_changed),
            (Rule::StsRecordGone, checks::sts_record_gone),
        ];
        Ok(run
            .into_iter()
            .filter(|(rule, _)| rules.enabled(*rule))
            .flat_map(|(_, f)| f(&evidence, &rules.settings))
            .collect())
    }

    /// What `domain`'s check history says senders may have cached.
    async fn last_record(&self, domain: &str) -> Result<Option<LastRecord>, StoreError> {
        let history = self.store.check_history(domain, RECORD_HISTORY).await?;
        let reports: Vec<_> = history
            .iter()
            .filter_map(tlsrpt_advisor::live_report)
            .collect();
        Ok(LastRecord::from_history(&reports))
    }

    /// ready-for-enforce, from the verdicts cached by the advisor (assessed afresh where
    /// stale), trusted reports only.
    async fn verdict_rule(
        &self,
        domains: &[String],
        checked_at: &BTreeMap<String, DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Vec<NewAlert>, StoreError> {
        let wanted: Vec<&String> = domains
            .iter()
            .filter(|d| self.rules.for_domain(d).enabled(Rule::ReadyForEnforce))
            .collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let activity: BTreeMap<String, Option<DateTime<Utc>>> = self
            .store
            .portfolio(&PortfolioQuery {
                today: now.date_naive(),
                days: 0,
                trusted_only: true,
            })
            .await?
            .into_iter()
            .map(|o| (o.domain, o.last_ingested_at))
            .collect();
        let inputs: BTreeMap<String, Inputs> = wanted
            .into_iter()
            .map(|d| {
                let inputs = Inputs {
                    last_ingested_at: activity.get(d).copied().flatten(),
                    last_checked_at: checked_at.get(d).copied(),
                };
                (d.clone(), inputs)
            })
            .collect();
        let verdicts =
            tlsrpt_advisor::verdicts(&self.store, &inputs, now, &self.thresholds, Trust::Trusted)
                .await?;
        Ok(verdicts
            .into_values()
            .filter(|v| v.verdict == tlsrpt_readiness::Verdict::Ready.as_str())
            .map(|v| {
                new_alert(
                    &v.domain,
                    Rule::ReadyForEnforce,
                    "",
                    "info",
                    // The advisor's headline names the domain and the evidence.
                    v.headline.clone(),
                    serde_json::json!({
                        "verdict": v.verdict,
                        "headline": v.headline,
                        "assessed_at": v.computed_at,
                    }),
                )
            })
            .collect())
    }
}
