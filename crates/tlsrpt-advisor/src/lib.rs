//! The glue between the store and the readiness advisor: reads one domain's rows and its
//! latest live check into an [`Evidence`], and assesses it. Every surface (pages, API,
//! CLI, exports) gets its verdicts from here, so they always agree.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use tlsrpt_check::DomainReport;
use tlsrpt_readiness::{Assessment, Evidence, Excluded, FailureRow, PolicySeen, ReporterDay};
use tlsrpt_report::ResultType;
use tlsrpt_store::{CachedAssessment, DomainOverview, RollupQuery, Store, StoreError, StoredCheck};

/// Which reports count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Trust {
    /// Only reports someone vouches for (DKIM-verified mail, token-authenticated HTTPS
    /// posts, operator imports): the default, so forged reports cannot move a verdict.
    #[default]
    Trusted,
    /// Every stored report, for an operator who knows their mailbox is clean.
    All,
}

/// The stored evidence of `domain` as of `now`, from the earliest day the advisor may
/// look at, with its latest live check.
pub async fn gather(
    store: &Store,
    domain: &str,
    now: DateTime<Utc>,
    thresholds: &tlsrpt_readiness::Thresholds,
    trust: Trust,
) -> Result<Evidence, StoreError> {
    let mut evidence = Evidence::new(domain, now);
    let query = RollupQuery {
        domain: evidence.domain.clone(),
        since: thresholds.earliest_day(now),
        until: now.date_naive(),
        trusted_only: trust == Trust::Trusted,
    };
    for row in store.domain_daily(&query).await? {
        if row.result_type.is_none() {
            evidence.reporter_days.push(ReporterDay {
                day: row.day,
                organization: row.reporter,
                reports: to_u64(row.reports),
                successful_sessions: to_u64(row.successful_sessions),
                failed_sessions: to_u64(row.failed_sessions),
            });
        }
    }
    for row in store.failure_rows(&query).await? {
        evidence.failures.push(FailureRow {
            day: row.day,
            organization: row.reporter,
            policy_type: row.policy_type,
            result_type: ResultType::from_wire(&row.result_type),
            receiving_mx: row.receiving_mx_hostname,
            sending_ip: row.sending_mta_ip,
            failure_reason_code: row.failure_reason_code,
            sessions: to_u64(row.failed_sessions),
        });
    }
    for row in store.policies_seen(&query).await? {
        evidence.policies_seen.push(PolicySeen {
            day: row.day,
            organization: row.reporter,
            policy_type: row.policy_type,
            policy_string: row.policy_string,
            mx_host: row.mx_host,
            sessions: to_u64(row.sessions),
        });
    }
    if trust == Trust::Trusted {
        let untrusted = store
            .untrusted_summary(&evidence.domain, query.since, query.until)
            .await?;
        evidence.excluded = Excluded {
            untrusted_reports: to_u64(untrusted.reports),
            untrusted_sessions: to_u64(untrusted.sessions),
        };
    }
    evidence.live_check = store
        .latest_check(&evidence.domain)
        .await?
        .and_then(|check| live_report(&check));
    Ok(evidence)
}

/// The assessment of `domain` as of `now`.
pub async fn assess(
    store: &Store,
    domain: &str,
    now: DateTime<Utc>,
    thresholds: &tlsrpt_readiness::Thresholds,
    trust: Trust,
) -> Result<Assessment, StoreError> {
    let evidence = gather(store, domain, now, thresholds, trust).await?;
    Ok(tlsrpt_readiness::assess(&evidence, thresholds))
}

/// The assessments of every known domain (reports or checks), in byte order.
pub async fn assess_all(
    store: &Store,
    now: DateTime<Utc>,
    thresholds: &tlsrpt_readiness::Thresholds,
    trust: Trust,
) -> Result<Vec<Assessment>, StoreError> {
    let mut assessments = Vec::new();
    for domain in store.known_domains().await? {
        assessments.push(assess(store, &domain, now, thresholds, trust).await?);
    }
    Ok(assessments)
}

/// What a domain's cached verdict depends on, besides the clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct Inputs {
    /// When its latest report was stored.
    pub last_ingested_at: Option<DateTime<Utc>>,
    /// When its latest live check ran.
    pub last_checked_at: Option<DateTime<Utc>>,
}

/// What each known domain's verdict depends on, from the portfolio overview and the
/// latest checks.
pub fn inputs_of<'a>(
    overviews: impl IntoIterator<Item = &'a DomainOverview>,
    checks: impl IntoIterator<Item = &'a StoredCheck>,
) -> BTreeMap<String, Inputs> {
    let mut inputs: BTreeMap<String, Inputs> = BTreeMap::new();
    for overview in overviews {
        inputs
            .entry(overview.domain.clone())
            .or_default()
            .last_ingested_at = overview.last_ingested_at;
    }
    for check in checks {
        inputs
            .entry(check.domain.clone())
            .or_default()
            .last_checked_at = Some(check.checked_at);
    }
    inputs
}

/// Brings every known domain's cached verdict up to date; returns how many domains are
/// known. `tlsrpt serve` runs it in the background so the portfolio page rarely has to.
pub async fn refresh(
    store: &Store,
    now: DateTime<Utc>,
    thresholds: &tlsrpt_readiness::Thresholds,
    trust: Trust,
) -> Result<usize, StoreError> {
    let overviews = store
        .portfolio(&tlsrpt_store::PortfolioQuery {
            today: now.date_naive(),
            days: 1,
            trusted_only: trust == Trust::Trusted,
        })
        .await?;
    let checks = store.latest_checks().await?;
    let inputs = inputs_of(&overviews, &checks);
    verdicts(store, &inputs, now, thresholds, trust).await?;
    Ok(inputs.len())
}

/// The verdict of every domain in `domains`, from the cache where it is still valid and
/// assessed afresh (and cached) where it is not. An entry is stale once a report or a
/// check arrived after it, once a new UTC day moved the window, or once the live check it
/// relied on grew too old to count.
pub async fn verdicts(
    store: &Store,
    domains: &BTreeMap<String, Inputs>,
    now: DateTime<Utc>,
    thresholds: &tlsrpt_readiness::Thresholds,
    trust: Trust,
) -> Result<BTreeMap<String, CachedAssessment>, StoreError> {
    let trusted_only = trust == Trust::Trusted;
    let mut cached: BTreeMap<String, CachedAssessment> = store
        .cached_assessments(trusted_only)
        .await?
        .into_iter()
        .map(|c| (c.domain.clone(), c))
        .collect();
    let midnight = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(now, |t| t.and_utc());
    let check_life = chrono::Duration::hours(i64::from(thresholds.live_check_max_age_hours));
    let stale = |entry: &CachedAssessment, inputs: &Inputs| {
        let at = entry.computed_at;
        let expired_check = inputs
            .last_checked_at
            .map(|checked| checked + check_life)
            .is_some_and(|expiry| expiry <= now && at < expiry);
        // A time from the future (a clock that was ahead, an imported timestamp) cannot
        // be newer than a verdict computed now: it must not make every view recompute.
        let newer = |t: DateTime<Utc>| t <= now && at <= t;
        at < midnight
            || inputs.last_ingested_at.is_some_and(newer)
            || inputs.last_checked_at.is_some_and(newer)
            || expired_check
    };
    let mut fresh = Vec::new();
    for (domain, inputs) in domains {
        if cached
            .get(domain)
            .is_some_and(|entry| !stale(entry, inputs))
        {
            continue;
        }
        let assessment = assess(store, domain, now, thresholds, trust).await?;
        let entry = CachedAssessment {
            domain: domain.clone(),
            trusted_only,
            verdict: assessment.verdict.as_str().to_owned(),
            headline: assessment.headline,
            // Whole seconds, as stored: an input stored later in this second is newer.
            computed_at: DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now),
        };
        fresh.push(entry.clone());
        cached.insert(domain.clone(), entry);
    }
    store.save_assessments(&fresh).await?;
    cached.retain(|domain, _| domains.contains_key(domain));
    Ok(cached)
}

/// The checker's report stored with a check; `None` (with a log line) when it no longer
/// reads, for example after a downgrade.
pub fn live_report(check: &StoredCheck) -> Option<DomainReport> {
    serde_json::from_str(&check.report_json)
        .map_err(
            |e| tracing::warn!(domain = %check.domain, "a stored check does not read back: {e}"),
        )
        .ok()
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
