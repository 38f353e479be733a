//! One scrape: the store's figures read at scrape time with a handful of cheap queries
//! (so they survive restarts and agree between instances sharing a database), then the
//! process's in-memory instruments.
//!
//! Per-domain families are bounded: at most `max_domains` domains get their own label,
//! the busiest first (most sessions reported over the window, then by name); the others'
//! sessions are summed under `domain="_other"`, and their gauges (times, check results)
//! are left out. Result types are a closed set: RFC 8460's, and `other`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use chrono::{DateTime, Days, Utc};
use tlsrpt_report::ResultType;
use tlsrpt_store::{CheckSummary, DomainOverview, PortfolioQuery, Store, StoreError};

use crate::telemetry::telemetry;
use crate::text::{Exposition, Kind};

/// The label value under which the domains beyond the cap are summed.
pub const OTHER_DOMAINS: &str = "_other";

/// The input outcomes of the store's ledger, each given for every source.
const OUTCOMES: [&str; 4] = ["stored", "duplicate", "rejected", "not-report"];

/// The check verdicts, each given for every checked domain (1 for the current one).
const VERDICTS: [&str; 3] = ["pass", "warn", "fail"];

/// The days the session figures cover: today and yesterday (UTC). Reports cover whole
/// UTC days and arrive during the next one, so this always holds the latest complete day.
const WINDOW_DAYS: u32 = 2;

/// What a scrape reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Domains given their own label in per-domain families.
    pub max_domains: usize,
    /// Count only trusted reports, as the dashboard does unless told otherwise.
    pub trusted_only: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_domains: 1000,
            trusted_only: true,
        }
    }
}

/// Per domain: (id of the check read, its earliest certificate expiry).
type ExpiryCache = HashMap<String, (i64, Option<i64>)>;

/// Renders scrapes of a store. Cheap to clone; clones share the certificate cache.
#[derive(Debug, Clone)]
pub struct Exporter {
    store: Store,
    settings: Settings,
    /// Per domain: the id of the latest check read, and the earliest certificate expiry
    /// in it (Unix seconds), so each check's JSON is read once, not at every scrape.
    expiry: Arc<Mutex<ExpiryCache>>,
}

/// One domain's figures over the window.
#[derive(Debug, Default)]
struct DomainFigures {
    successful: i64,
    failed: i64,
    /// Failed sessions by result type (the closed set).
    failures: BTreeMap<&'static str, i64>,
}

impl Exporter {
    pub fn new(store: Store, settings: Settings) -> Self {
        Self {
            store,
            settings,
            expiry: Arc::default(),
        }
    }

    /// The whole scrape, in the text exposition format.
    pub async fn render(&self, now: DateTime<Utc>) -> Result<String, StoreError> {
        let started = Instant::now();
        let mut out = Exposition::new();
        out.family(
            "tlsrpt_build_info",
            Kind::Gauge,
            "Always 1; the version of tlsrpt serving the metrics.",
        );
        out.sample(
            "tlsrpt_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))],
            1.0,
        );
        self.inputs(&mut out).await?;
        self.mailboxes(&mut out).await?;
        self.domains(&mut out, now).await?;
        self.alerts(&mut out).await?;
        telemetry().write_ingest(&mut out);
        out.family(
            "tlsrpt_scrape_collect_seconds",
            Kind::Gauge,
            "Time this scrape spent reading the database.",
        );
        out.sample(
            "tlsrpt_scrape_collect_seconds",
            &[],
            started.elapsed().as_secs_f64(),
        );
        Ok(out.finish())
    }

    /// The store's ledger of inputs, per source and outcome.
    async fn inputs(&self, out: &mut Exposition) -> Result<(), StoreError> {
        let sources = self.store.source_summary().await?;
        out.family(
            "tlsrpt_inputs_total",
            Kind::Counter,
            "Report candidates recorded in the database, by source (file, mbox, maildir, \
             imap, https) and outcome (stored, duplicate, rejected, not-report).",
        );
        for s in &sources {
            let counts = [s.stored, s.duplicate, s.rejected, s.not_report];
            for (outcome, count) in OUTCOMES.iter().zip(counts) {
                out.sample(
                    "tlsrpt_inputs_total",
                    &[("source", &s.source), ("outcome", outcome)],
                    count as f64,
                );
            }
        }
        out.family(
            "tlsrpt_input_last_received_timestamp_seconds",
            Kind::Gauge,
            "When the latest input of each source was received (Unix seconds).",
        );
        for s in &sources {
            if let Some(last) = s.last_received_at {
                out.sample(
                    "tlsrpt_input_last_received_timestamp_seconds",
                    &[("source", &s.source)],
                    last as f64,
                );
            }
        }
        Ok(())
    }

    /// The sync state of each IMAP mailbox.
    async fn mailboxes(&self, out: &mut Exposition) -> Result<(), StoreError> {
        let mailboxes = self.store.mailboxes().await?;
        out.family(
            "tlsrpt_imap_last_sync_timestamp_seconds",
            Kind::Gauge,
            "When each IMAP mailbox last synced successfully (Unix seconds; 0: never).",
        );
        for m in &mailboxes {
            out.sample(
                "tlsrpt_imap_last_sync_timestamp_seconds",
                &[("mailbox", &m.mailbox)],
                m.updated_at as f64,
            );
        }
        out.family(
            "tlsrpt_imap_sync_failing",
            Kind::Gauge,
            "1 while a mailbox's last sync failed (its error is on the dashboard's sources \
             page), 0 once a sync succeeds again.",
        );
        for m in &mailboxes {
            let failing = if m.last_error.is_some() { 1.0 } else { 0.0 };
            out.sample(
                "tlsrpt_imap_sync_failing",
                &[("mailbox", &m.mailbox)],
                failing,
            );
        }
        out.family(
            "tlsrpt_imap_last_error_timestamp_seconds",
            Kind::Gauge,
            "When a mailbox's current error was recorded (Unix seconds); absent without one.",
        );
        for m in &mailboxes {
            if let Some(at) = m.last_error_at.filter(|_| m.last_error.is_some()) {
                out.sample(
                    "tlsrpt_imap_last_error_timestamp_seconds",
                    &[("mailbox", &m.mailbox)],
                    at as f64,
                );
            }
        }
        out.family(
            "tlsrpt_imap_messages_waiting",
            Kind::Gauge,
            "Messages above a mailbox's resume point at this process's last sync step.",
        );
        for (mailbox, waiting) in telemetry().imap_waiting() {
            out.sample(
                "tlsrpt_imap_messages_waiting",
                &[("mailbox", &mailbox)],
                waiting as f64,
            );
        }
        Ok(())
    }

    /// Open alerts: the rules are the alerting crate's (a closed set of kebab-case names)
    /// and severities are `info`, `warning` or `critical`.
    async fn alerts(&self, out: &mut Exposition) -> Result<(), StoreError> {
        out.family(
            "tlsrpt_alerts_open",
            Kind::Gauge,
            "Unresolved alerts by rule and severity, acknowledged and snoozed ones included.",
        );
        for count in self.store.alert_counts().await? {
            out.sample(
                "tlsrpt_alerts_open",
                &[("rule", &count.rule), ("severity", &count.severity)],
                count.open as f64,
            );
        }
        Ok(())
    }

    /// Per-domain families: report times, recent sessions and failures, check results.
    async fn domains(&self, out: &mut Exposition, now: DateTime<Utc>) -> Result<(), StoreError> {
        let trusted_only = self.settings.trusted_only;
        let today = now.date_naive();
        let since = today
            .checked_sub_days(Days::new(u64::from(WINDOW_DAYS - 1)))
            .unwrap_or(today);
        let portfolio = self
            .store
            .portfolio(&PortfolioQuery {
                today,
                days: WINDOW_DAYS,
                trusted_only,
            })
            .await?;
        let failures = self
            .store
            .recent_failures(since, today, trusted_only)
            .await?;
        let checks = self.store.latest_check_summaries().await?;

        // The known domains: with a counted report, or checked.
        let mut figures: BTreeMap<&str, DomainFigures> = BTreeMap::new();
        let mut activity: HashMap<&str, &DomainOverview> = HashMap::new();
        for overview in &portfolio {
            if overview.last_report_start.is_none() && overview.reports == 0 {
                continue;
            }
            activity.insert(&overview.domain, overview);
            let entry = figures.entry(&overview.domain).or_default();
            for day in &overview.daily {
                entry.successful += day.successful_sessions;
                entry.failed += day.failed_sessions;
            }
        }
        for row in &failures {
            if let Some(entry) = figures.get_mut(row.domain.as_str()) {
                *entry
                    .failures
                    .entry(result_type(&row.result_type))
                    .or_default() += row.failed_sessions;
            }
        }
        for check in &checks {
            figures.entry(&check.domain).or_default();
        }

        // The busiest domains keep their label.
        let mut ranked: Vec<(&str, i64)> = figures
            .iter()
            .map(|(domain, f)| (*domain, f.successful.saturating_add(f.failed)))
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let mut labelled: Vec<&str> = ranked
            .iter()
            .take(self.settings.max_domains)
            .map(|(d, _)| *d)
            .collect();
        labelled.sort_unstable();
        let mut other = DomainFigures::default();
        for (domain, _) in ranked.iter().skip(self.settings.max_domains) {
            let f = &figures[domain];
            other.successful += f.successful;
            other.failed += f.failed;
            for (result, sessions) in &f.failures {
                *other.failures.entry(result).or_default() += sessions;
            }
        }
        let folded = ranked.len().saturating_sub(labelled.len());

        out.family(
            "tlsrpt_domains",
            Kind::Gauge,
            "Known policy domains (with a counted report, or checked).",
        );
        out.sample("tlsrpt_domains", &[], ranked.len() as f64);
        out.family(
            "tlsrpt_domains_unlabelled",
            Kind::Gauge,
            "Domains beyond --metrics-max-domains: summed under domain=\"_other\" in the \
             session families, left out of the others.",
        );
        out.sample("tlsrpt_domains_unlabelled", &[], folded as f64);

        self.report_times(out, &labelled, &activity);
        sessions(out, &labelled, &figures, folded > 0, &other);
        self.check_results(out, &labelled, &checks).await?;
        Ok(())
    }

    fn report_times(
        &self,
        out: &mut Exposition,
        labelled: &[&str],
        activity: &HashMap<&str, &DomainOverview>,
    ) {
        out.family(
            "tlsrpt_domain_last_report_received_timestamp_seconds",
            Kind::Gauge,
            "When a report on the domain was last stored (Unix seconds).",
        );
        for domain in labelled {
            if let Some(ingested) = activity.get(domain).and_then(|a| a.last_ingested_at) {
                out.sample(
                    "tlsrpt_domain_last_report_received_timestamp_seconds",
                    &[("domain", domain)],
                    ingested.timestamp() as f64,
                );
            }
        }
        out.family(
            "tlsrpt_domain_last_report_start_timestamp_seconds",
            Kind::Gauge,
            "Start of the period of the domain's latest counted report (Unix seconds).",
        );
        for domain in labelled {
            if let Some(start) = activity.get(domain).and_then(|a| a.last_report_start) {
                out.sample(
                    "tlsrpt_domain_last_report_start_timestamp_seconds",
                    &[("domain", domain)],
                    start.timestamp() as f64,
                );
            }
        }
    }

    /// The latest check of each labelled domain.
    async fn check_results(
        &self,
        out: &mut Exposition,
        labelled: &[&str],
        checks: &[CheckSummary],
    ) -> Result<(), StoreError> {
        let by_domain: HashMap<&str, &CheckSummary> =
            checks.iter().map(|c| (c.domain.as_str(), c)).collect();
        let latest: Vec<&CheckSummary> = labelled
            .iter()
            .filter_map(|d| by_domain.get(d).copied())
            .collect();
        let expiry = self.certificate_expiry(&latest).await?;

        per_check(
            out,
            "tlsrpt_check_timestamp_seconds",
            "When the domain's latest live check ran (Unix seconds).",
            &latest,
            |c| c.checked_at as f64,
        );
        out.family(
            "tlsrpt_check_verdict",
            Kind::Gauge,
            "The latest check's verdict: 1 for the current one of pass, warn, fail.",
        );
        for c in &latest {
            for verdict in VERDICTS {
                let current = if c.verdict == verdict { 1.0 } else { 0.0 };
                out.sample(
                    "tlsrpt_check_verdict",
                    &[("domain", &c.domain), ("verdict", verdict)],
                    current,
                );
            }
        }
        per_check(
            out,
            "tlsrpt_check_errors",
            "Error-level findings of the domain's latest check.",
            &latest,
            |c| c.errors as f64,
        );
        per_check(
            out,
            "tlsrpt_check_warnings",
            "Warning-level findings of the domain's latest check.",
            &latest,
            |c| c.warnings as f64,
        );
        out.family(
            "tlsrpt_check_certificate_expiry_timestamp_seconds",
            Kind::Gauge,
            "Earliest expiry (notAfter, Unix seconds) of the certificates the latest check \
             saw on the domain's MX hosts and policy host; days left: (value - time()) / 86400.",
        );
        for c in &latest {
            if let Some(Some(not_after)) = expiry.get(c.domain.as_str()) {
                out.sample(
                    "tlsrpt_check_certificate_expiry_timestamp_seconds",
                    &[("domain", &c.domain)],
                    *not_after as f64,
                );
            }
        }
        Ok(())
    }

    /// The earliest certificate expiry of each given check, read from its JSON only when
    /// the check is new to this exporter.
    async fn certificate_expiry(
        &self,
        latest: &[&CheckSummary],
    ) -> Result<HashMap<String, Option<i64>>, StoreError> {
        let cached = self
            .expiry
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut fresh = HashMap::with_capacity(latest.len());
        for check in latest {
            let not_after = match cached.get(&check.domain) {
                Some(&(id, not_after)) if id == check.id => not_after,
                _ => self
                    .store
                    .check_report_json(check.id)
                    .await?
                    .and_then(|json| earliest_not_after(&json)),
            };
            fresh.insert(check.domain.clone(), (check.id, not_after));
        }
        let result = fresh.iter().map(|(d, (_, n))| (d.clone(), *n)).collect();
        *self.expiry.lock().unwrap_or_else(PoisonError::into_inner) = fresh;
        Ok(result)
    }
}

/// A gauge family with one sample per checked domain.
fn per_check(
    out: &mut Exposition,
    name: &str,
    help: &str,
    latest: &[&CheckSummary],
    value: impl Fn(&CheckSummary) -> f64,
) {
    out.family(name, Kind::Gauge, help);
    for c in latest {
        out.sample(name, &[("domain", &c.domain)], value(c));
    }
}

/// Sessions and failures over the window, per labelled domain and `_other`.
fn sessions(
    out: &mut Exposition,
    labelled: &[&str],
    figures: &BTreeMap<&str, DomainFigures>,
    any_other: bool,
    other: &DomainFigures,
) {
    let rows: Vec<(&str, &DomainFigures)> = labelled
        .iter()
        .map(|d| (*d, &figures[d]))
        .chain(any_other.then_some((OTHER_DOMAINS, other)))
        .collect();
    out.family(
        "tlsrpt_reported_sessions",
        Kind::Gauge,
        "Sessions in counted reports whose period started today or yesterday (UTC), by \
         policy domain and result (successful, failed).",
    );
    for (domain, f) in &rows {
        for (result, sessions) in [("successful", f.successful), ("failed", f.failed)] {
            out.sample(
                "tlsrpt_reported_sessions",
                &[("domain", domain), ("result", result)],
                sessions as f64,
            );
        }
    }
    out.family(
        "tlsrpt_reported_failed_sessions",
        Kind::Gauge,
        "Failed sessions in counted reports whose period started today or yesterday (UTC), \
         by policy domain and RFC 8460 result type (unknown types as \"other\").",
    );
    for (domain, f) in &rows {
        for (result_type, sessions) in &f.failures {
            out.sample(
                "tlsrpt_reported_failed_sessions",
                &[("domain", domain), ("result_type", result_type)],
                *sessions as f64,
            );
        }
    }
}

/// A result type of the closed set: RFC 8460's, or `other`.
fn result_type(stored: &str) -> &'static str {
    match ResultType::from_wire(stored) {
        ResultType::StarttlsNotSupported => "starttls-not-supported",
        ResultType::CertificateHostMismatch => "certificate-host-mismatch",
        ResultType::CertificateExpired => "certificate-expired",
        ResultType::CertificateNotTrusted => "certificate-not-trusted",
        ResultType::ValidationFailure => "validation-failure",
        ResultType::TlsaInvalid => "tlsa-invalid",
        ResultType::DnssecInvalid => "dnssec-invalid",
        ResultType::DaneRequired => "dane-required",
        ResultType::StsPolicyFetchError => "sts-policy-fetch-error",
        ResultType::StsPolicyInvalid => "sts-policy-invalid",
        ResultType::StsWebpkiInvalid => "sts-webpki-invalid",
        ResultType::Other(_) => "other",
    }
}

/// The earliest `not_after` of any certificate in a stored check (the policy host's and
/// every MX address's TLS session), as Unix seconds.
fn earliest_not_after(json: &str) -> Option<i64> {
    fn walk(value: &serde_json::Value, earliest: &mut Option<i64>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(not_after) = map
                    .get("certificate")
                    .and_then(|c| c.get("not_after"))
                    .and_then(|n| n.as_str())
                    .and_then(|n| DateTime::parse_from_rfc3339(n).ok())
                {
                    let at = not_after.timestamp();
                    *earliest = Some(earliest.map_or(at, |e| e.min(at)));
                }
                map.values().for_each(|v| walk(v, earliest));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, earliest)),
            _ => {}
        }
    }
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    let mut earliest = None;
    walk(&value, &mut earliest);
    earliest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_empty_result_types_are_other() {
        assert_eq!(result_type("certificate-expired"), "certificate-expired");
        assert_eq!(result_type("sts-webpki-invalid"), "sts-webpki-invalid");
        assert_eq!(result_type("(empty)"), "other");
        assert_eq!(result_type("made-up-by-a-reporter"), "other");
    }

    #[test]
    fn the_earliest_certificate_of_a_check_is_found_anywhere_in_it() {
        let json = r#"{
            "policy": {"tls": {"certificate": {"not_after": "2027-01-01T00:00:00Z"}}},
            "mx": {"hosts": [
                {"addresses": [{"tls": {"certificate": {"not_after": "2026-12-01T00:00:00Z"}}},
                               {"tls": null}]},
                {"addresses": [{"tls": {"certificate": {"not_after": "bad"}}}]}
            ]}
        }"#;
        let expected = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
            .unwrap()
            .timestamp();
        assert_eq!(earliest_not_after(json), Some(expected));
        assert_eq!(earliest_not_after(r#"{"mx": {"hosts": []}}"#), None);
        assert_eq!(earliest_not_after("not json"), None);
    }
}
