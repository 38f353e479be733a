//! The configurable thresholds of the advisor, with conservative defaults: a false "ready"
//! breaks someone's inbound mail, a false "not ready" only costs a few days.

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Every number the advisor compares against. The crate README explains each one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Thresholds {
    /// Days of reports weighed, ending today (UTC). Default 14.
    pub window_days: u32,
    /// The window widens, one day at a time, until reports from `min_organisations`
    /// distinct organisations fall inside it, but never beyond this many days. Default 60.
    pub max_window_days: u32,
    /// Days of the window that must have at least one report. Default 7.
    pub min_days_with_reports: u32,
    /// Distinct reporting organisations needed in the window. Default 2.
    pub min_organisations: u32,
    /// Sessions needed in the window. Default 100.
    pub min_sessions: u64,
    /// Largest share of sessions with TLS-negotiation failures against the current MX
    /// hosts, as a fraction (0.001 is 0.1 %). Default 0.001.
    pub max_failure_rate: f64,
    /// The last this many days of the window must have reports and no TLS-negotiation
    /// failure at all. Default 3.
    pub clean_recent_days: u32,
    /// A live check older than this many hours is stale. Default 24.
    pub live_check_max_age_hours: u32,
    /// The `max_age` (seconds) the plan publishes with `mode: enforce`, unless the current
    /// policy's is longer. Default 604800 (one week).
    pub enforce_max_age: u64,
    /// The `max_age` (seconds) recommended once enforce has run cleanly. Default 1209600.
    pub stable_max_age: u64,
    /// Extra days, beyond `enforce_max_age`, that every MX certificate should still be
    /// valid for; closer expiry is a warning. Default 14.
    pub cert_expiry_margin_days: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            window_days: 14,
            max_window_days: 60,
            min_days_with_reports: 7,
            min_organisations: 2,
            min_sessions: 100,
            max_failure_rate: 0.001,
            clean_recent_days: 3,
            live_check_max_age_hours: 24,
            enforce_max_age: 604_800,
            stable_max_age: 1_209_600,
            cert_expiry_margin_days: 14,
        }
    }
}

impl Thresholds {
    /// The first day whose rows the advisor may use: the store needs to load nothing older.
    pub fn earliest_day(&self, now: DateTime<Utc>) -> NaiveDate {
        let today = now.date_naive();
        let span = self.window_days.max(self.max_window_days).max(1) - 1;
        today
            .checked_sub_days(Days::new(u64::from(span)))
            .unwrap_or(NaiveDate::MIN)
    }
}
