//! The rules' configuration: defaults for every domain ([`RulesConfig`]) and per-domain
//! overrides ([`DomainOverride`]), merged into the settings one domain is judged by.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::rule::Rule;

/// The thresholds every domain is judged by, unless overridden, and the rules turned off.
/// Every field has a default; a TOML `[rules]` section gives only what it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RulesConfig {
    /// Days of reports before the last day that make the baseline. Default 14.
    pub baseline_days: u32,
    /// failure-rate-rise: the last day's failure rate must exceed this many times the
    /// baseline's. Default 3.0.
    pub failure_rate_factor: f64,
    /// failure-rate-rise: and the last day must have at least this many failed sessions.
    /// Default 100.
    pub min_failed_sessions: u64,
    /// failure-rate-rise: the rate (0 to 1) a domain without a baseline is judged
    /// against. Default 0.05 (5 %).
    pub absolute_failure_rate: f64,
    /// A baseline of fewer sessions than this is no baseline: failure-rate-rise uses the
    /// absolute rate, and new-result-type and new-failing-mx stay quiet (everything
    /// would be "new"). Default 1000.
    pub min_baseline_sessions: u64,
    /// new-result-type, new-failing-mx: the failed sessions the last day must have of
    /// the new result type or on the new MX. Default 10.
    pub min_new_failures: u64,
    /// cert-expiring: a certificate expiring within this many days raises a warning.
    /// Default 14.
    pub cert_warning_days: i64,
    /// cert-expiring: within this many days (or expired) it is critical. Default 3.
    pub cert_critical_days: i64,
    /// reporter-silent: a reporter counts as daily when it sent reports on at least
    /// this many of the `baseline_days` days up to its last report. Default 12.
    pub reporter_daily_days: u32,
    /// reporter-silent: days without a report (up to yesterday) before a daily reporter
    /// counts as silent. Default 2.
    pub reporter_silent_days: u32,
    /// Rules turned off for every domain (kebab-case names). Default none.
    pub disabled: Vec<String>,
    /// A condition that comes back within this many minutes of its resolution reopens
    /// the same alert without new notifications. Default 360 (6 hours).
    pub quiet_reopen_minutes: u32,
    /// `tlsrpt serve`: seconds between looks for new reports and checks to evaluate.
    /// Default 10.
    pub poll_seconds: u64,
    /// `tlsrpt serve`: minutes between evaluations of every rule on every domain (the
    /// time-based conditions: silent reporters, certificate countdowns). Default 60.
    pub full_evaluation_minutes: u64,
}

impl Default for RulesConfig {
    fn default() -> Self {
        Self {
            baseline_days: 14,
            failure_rate_factor: 3.0,
            min_failed_sessions: 100,
            absolute_failure_rate: 0.05,
            min_baseline_sessions: 1000,
            min_new_failures: 10,
            cert_warning_days: 14,
            cert_critical_days: 3,
            reporter_daily_days: 12,
            reporter_silent_days: 2,
            disabled: Vec::new(),
            quiet_reopen_minutes: 360,
            poll_seconds: 10,
            full_evaluation_minutes: 60,
        }
    }
}

/// What one domain changes from [`RulesConfig`]; every field is optional. Given as a
/// TOML table `[domains."example.com"]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DomainOverride {
    /// See [`RulesConfig::baseline_days`].
    pub baseline_days: Option<u32>,
    /// See [`RulesConfig::failure_rate_factor`].
    pub failure_rate_factor: Option<f64>,
    /// See [`RulesConfig::min_failed_sessions`].
    pub min_failed_sessions: Option<u64>,
    /// See [`RulesConfig::absolute_failure_rate`].
    pub absolute_failure_rate: Option<f64>,
    /// See [`RulesConfig::min_baseline_sessions`].
    pub min_baseline_sessions: Option<u64>,
    /// See [`RulesConfig::min_new_failures`].
    pub min_new_failures: Option<u64>,
    /// See [`RulesConfig::cert_warning_days`].
    pub cert_warning_days: Option<i64>,
    /// See [`RulesConfig::cert_critical_days`].
    pub cert_critical_days: Option<i64>,
    /// See [`RulesConfig::reporter_daily_days`].
    pub reporter_daily_days: Option<u32>,
    /// See [`RulesConfig::reporter_silent_days`].
    pub reporter_silent_days: Option<u32>,
    /// Rules also turned off for this domain. Default none.
    pub disabled: Vec<String>,
    /// Rules turned back on for this domain although [`RulesConfig::disabled`] lists
    /// them. Default none.
    pub enabled: Vec<String>,
}

/// The settings one domain is judged by: the defaults with its override applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainRules {
    /// The thresholds (its `disabled` is the merged list).
    pub settings: RulesConfig,
}

impl DomainRules {
    /// Whether `rule` runs for this domain.
    pub fn enabled(&self, rule: Rule) -> bool {
        !self.settings.disabled.iter().any(|r| r == rule.as_str())
    }
}

/// The rules' whole configuration: defaults and per-domain overrides (domain names are
/// compared lowercase, without a trailing dot).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AlertRules {
    pub rules: RulesConfig,
    pub domains: BTreeMap<String, DomainOverride>,
}

impl AlertRules {
    /// The configuration, checked: every rule name must exist and every figure make
    /// sense.
    pub fn new(
        rules: RulesConfig,
        domains: BTreeMap<String, DomainOverride>,
    ) -> Result<Self, String> {
        check_names("[rules] disabled", &rules.disabled)?;
        check_settings("[rules]", &rules)?;
        let mut normalised = BTreeMap::new();
        for (domain, over) in domains {
            let section = format!("[domains.{domain:?}]");
            check_names(&format!("{section} disabled"), &over.disabled)?;
            check_names(&format!("{section} enabled"), &over.enabled)?;
            check_settings(&section, &merge(&rules, &over))?;
            normalised.insert(normalise(&domain), over);
        }
        Ok(Self {
            rules,
            domains: normalised,
        })
    }

    /// The settings of `domain`.
    pub fn for_domain(&self, domain: &str) -> DomainRules {
        let settings = match self.domains.get(&normalise(domain)) {
            Some(over) => merge(&self.rules, over),
            None => self.rules.clone(),
        };
        DomainRules { settings }
    }
}

fn merge(rules: &RulesConfig, over: &DomainOverride) -> RulesConfig {
    let mut disabled: Vec<String> = rules
        .disabled
        .iter()
        .filter(|r| !over.enabled.contains(r))
        .chain(&over.disabled)
        .cloned()
        .collect();
    disabled.sort();
    disabled.dedup();
    RulesConfig {
        baseline_days: over.baseline_days.unwrap_or(rules.baseline_days),
        failure_rate_factor: over
            .failure_rate_factor
            .unwrap_or(rules.failure_rate_factor),
        min_failed_sessions: over
            .min_failed_sessions
            .unwrap_or(rules.min_failed_sessions),
        absolute_failure_rate: over
            .absolute_failure_rate
            .unwrap_or(rules.absolute_failure_rate),
        min_baseline_sessions: over
            .min_baseline_sessions
            .unwrap_or(rules.min_baseline_sessions),
        min_new_failures: over.min_new_failures.unwrap_or(rules.min_new_failures),
        cert_warning_days: over.cert_warning_days.unwrap_or(rules.cert_warning_days),
        cert_critical_days: over.cert_critical_days.unwrap_or(rules.cert_critical_days),
        reporter_daily_days: over
            .reporter_daily_days
            .unwrap_or(rules.reporter_daily_days),
        reporter_silent_days: over
            .reporter_silent_days
            .unwrap_or(rules.reporter_silent_days),
        disabled,
        ..rules.clone()
    }
}

fn check_names(section: &str, names: &[String]) -> Result<(), String> {
    match names.iter().find(|n| Rule::from_name(n).is_none()) {
        Some(unknown) => Err(format!(
            "{section}: unknown rule {unknown:?}; the rules are {}",
            Rule::ALL.map(Rule::as_str).join(", ")
        )),
        None => Ok(()),
    }
}

fn check_settings(section: &str, s: &RulesConfig) -> Result<(), String> {
    let problem = if !(1..=60).contains(&s.baseline_days) {
        Some("baseline_days must be between 1 and 60")
    } else if !(s.failure_rate_factor.is_finite() && s.failure_rate_factor >= 1.0) {
        Some("failure_rate_factor must be a number of at least 1")
    } else if !(s.absolute_failure_rate.is_finite()
        && (0.0..=1.0).contains(&s.absolute_failure_rate))
    {
        Some("absolute_failure_rate must be between 0 and 1")
    } else if s.cert_critical_days > s.cert_warning_days {
        Some("cert_critical_days must not exceed cert_warning_days")
    } else if s.reporter_daily_days > s.baseline_days {
        Some("reporter_daily_days must not exceed baseline_days")
    } else if s.reporter_silent_days == 0 || s.reporter_silent_days > MAX_SILENT_DAYS {
        Some("reporter_silent_days must be between 1 and 30")
    } else if s.poll_seconds == 0 || s.full_evaluation_minutes == 0 {
        Some("poll_seconds and full_evaluation_minutes must be at least 1")
    } else {
        None
    };
    problem.map_or(Ok(()), |p| Err(format!("{section}: {p}")))
}

/// The longest silence reporter-silent reports: reporters silent for longer drop out of
/// the window read, and their alert resolves.
pub(crate) const MAX_SILENT_DAYS: u32 = 30;

pub(crate) fn normalise(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}
