//! Queries for the dashboard and the readiness advisor: the known domains, a portfolio
//! overview of every domain over the last days, one domain's daily rollups, and, for one
//! domain and window, its failures and the policies each reporter saw.
//!
//! The portfolio and daily figures read the rollups kept at ingest (`tally`); the
//! failure and policy listings read the detail tables of one domain, bounded by the
//! (policy_domain, start_time) index. Days are UTC days of the reports' start-datetime.
//! Results are sorted here, by bytes, not by a database collation.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Serialize;

use crate::open::{Doing, Store, StoreError};
use crate::tally::TOTALS;

/// The SQL condition, on `reports r`, that its auth is trusted (see
/// [`crate::is_trusted_auth`]). A macro so that it can be `concat!`ed into query text.
macro_rules! trusted_auth {
    () => {
        "(r.auth IN ('operator', 'https-token', 'dkim-pass', 'dkim-upstream-pass') \
         OR r.auth LIKE 'dkim-pass:%' OR r.auth LIKE 'dkim-upstream-pass:%')"
    };
}
pub(crate) use trusted_auth;

/// Every domain with at least one stored report.
pub(crate) const DOMAINS_SQL: &str = "SELECT policy_domain FROM domain_activity";

/// Per domain: the latest report start (any, trusted) and the latest ingest.
pub(crate) const ACTIVITY_SQL: &str = "SELECT policy_domain, last_report_start, \
     last_trusted_report_start, last_ingested_at FROM domain_activity";

/// Per domain, over days [$1, $2] (only trusted reports if $3): its reports, and its
/// `day:successful:failed` rows joined by commas. One row per domain rather than per day
/// and domain: rows are what a driver spends most on, SQLite's in particular.
pub(crate) const PORTFOLIO_SQL: &str = "SELECT policy_domain, CAST(SUM(reports) AS BIGINT), \
     string_agg(CAST(day AS TEXT) || ':' || CAST(successful_sessions AS TEXT) || ':' \
     || CAST(failed_sessions AS TEXT), ',') FROM daily_domain_totals \
     WHERE day >= $1 AND day <= $2 AND (trusted OR NOT $3) GROUP BY policy_domain";

/// The daily rollups of domain $1 in days [$2, $3]; only trusted reports if $4.
pub(crate) const DOMAIN_DAILY_SQL: &str = "SELECT day, policy_type, reporter, result_type, \
     receiving_mx, CAST(SUM(reports) AS BIGINT), CAST(SUM(successful_sessions) AS BIGINT), \
     CAST(SUM(failed_sessions) AS BIGINT) FROM daily_rollups \
     WHERE policy_domain = $1 AND day >= $2 AND day <= $3 AND (trusted OR NOT $4) \
     GROUP BY day, policy_type, reporter, result_type, receiving_mx";

/// Failed sessions of domain $1's reports starting in [$2, $3) (Unix seconds), by
/// reporter, policy type and failure; only trusted reports if $4.
pub(crate) const FAILURE_ROWS_SQL: &str = concat!(
    "SELECT CAST(p.start_time / 86400 AS BIGINT), r.organization_name, p.policy_type, \
     d.result_type, d.receiving_mx_hostname, d.sending_mta_ip, d.failure_reason_code, \
     CAST(SUM(d.failed_session_count) AS BIGINT) \
     FROM policies p JOIN reports r ON r.id = p.report_ref \
     JOIN failure_details d ON d.policy_ref = p.id \
     WHERE p.policy_domain = $1 AND p.start_time >= $2 AND p.start_time < $3 AND (NOT $4 OR ",
    trusted_auth!(),
    ") GROUP BY CAST(p.start_time / 86400 AS BIGINT), r.organization_name, p.policy_type, \
     d.result_type, d.receiving_mx_hostname, d.sending_mta_ip, d.failure_reason_code"
);

/// The policies that reporters saw for domain $1 in reports starting in [$2, $3) (Unix
/// seconds); only trusted reports if $4.
pub(crate) const POLICIES_SEEN_SQL: &str = concat!(
    "SELECT CAST(p.start_time / 86400 AS BIGINT), r.organization_name, p.policy_type, \
     p.policy_string, p.mx_host, \
     CAST(SUM(p.successful_sessions + p.failed_sessions) AS BIGINT), \
     COUNT(DISTINCT p.report_ref), MIN(p.start_time), MAX(p.start_time) \
     FROM policies p JOIN reports r ON r.id = p.report_ref \
     WHERE p.policy_domain = $1 AND p.start_time >= $2 AND p.start_time < $3 AND (NOT $4 OR ",
    trusted_auth!(),
    ") GROUP BY CAST(p.start_time / 86400 AS BIGINT), r.organization_name, p.policy_type, \
     p.policy_string, p.mx_host"
);

/// Untrusted reports and their sessions for domain $1 in days [$2, $3].
pub(crate) const UNTRUSTED_SQL: &str = "SELECT CAST(COALESCE(SUM(reports), 0) AS BIGINT), \
     CAST(COALESCE(SUM(successful_sessions + failed_sessions), 0) AS BIGINT) \
     FROM daily_domain_totals \
     WHERE policy_domain = $1 AND day >= $2 AND day <= $3 AND NOT trusted";

/// The portfolio's window: the `days` days ending with `today` (UTC), all domains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortfolioQuery {
    /// The last day of the window, included.
    pub today: NaiveDate,
    /// How many days the window covers (30 for the dashboard); 0 gives empty `daily`.
    pub days: u32,
    /// Count only trusted reports (see [`crate::Auth::is_trusted`]).
    pub trusted_only: bool,
}

/// One domain's window: days `since` to `until`, both included (UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupQuery {
    /// The policy domain (compared in its normalised form: trimmed, lowercase, without a
    /// trailing dot).
    pub domain: String,
    pub since: NaiveDate,
    pub until: NaiveDate,
    /// Count only trusted reports (see [`crate::Auth::is_trusted`]).
    pub trusted_only: bool,
}

/// Sessions of one domain on one day, over all reporters and policy types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayTotals {
    pub day: NaiveDate,
    pub successful_sessions: i64,
    pub failed_sessions: i64,
}

/// Summed sessions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SessionTotals {
    pub successful_sessions: i64,
    pub failed_sessions: i64,
}

impl SessionTotals {
    /// Successful plus failed sessions.
    pub fn sessions(&self) -> i64 {
        self.successful_sessions
            .saturating_add(self.failed_sessions)
    }
}

/// One domain in the portfolio overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainOverview {
    pub domain: String,
    /// One entry per day of the window, oldest first, zeros included.
    pub daily: Vec<DayTotals>,
    /// Distinct reports (trusted only if asked) with a policy for the domain in the window.
    pub reports: i64,
    /// The latest start-datetime of any report for the domain (of a trusted one if
    /// `trusted_only`), whenever it was; `None` if there is none.
    pub last_report_start: Option<DateTime<Utc>>,
    /// When a report for the domain was last stored (trusted or not).
    pub last_ingested_at: Option<DateTime<Utc>>,
}

impl DomainOverview {
    /// The sums over the last `days` days of the window (all of it if it is shorter).
    pub fn last_days(&self, days: usize) -> SessionTotals {
        let from = self.daily.len().saturating_sub(days);
        self.daily[from..]
            .iter()
            .fold(SessionTotals::default(), |sum, day| SessionTotals {
                successful_sessions: sum
                    .successful_sessions
                    .saturating_add(day.successful_sessions),
                failed_sessions: sum.failed_sessions.saturating_add(day.failed_sessions),
            })
    }

    /// The sums over the whole window.
    pub fn totals(&self) -> SessionTotals {
        self.last_days(self.daily.len())
    }
}

/// One rollup row of a domain: a day, policy type and reporter's session totals
/// (`result_type` is `None`), or its failed sessions of one result type and receiving MX.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DailyRollup {
    pub day: NaiveDate,
    pub policy_type: String,
    /// The organization-name of the reports.
    pub reporter: String,
    /// `None` for the session-totals row; the failure result type otherwise (an empty
    /// result-type is rolled up as `(empty)`).
    pub result_type: Option<String>,
    /// The failure details' receiving-mx-hostname; `None` when unknown and for totals.
    pub receiving_mx: Option<String>,
    /// Distinct reports.
    pub reports: i64,
    /// Sum of total-successful-session-count (0 on failure rows).
    pub successful_sessions: i64,
    /// Totals row: sum of total-failure-session-count; failure row: sum of the details'
    /// failed-session-count.
    pub failed_sessions: i64,
}

/// Failed sessions of one domain, summed per reporter, policy type and failure detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureRow {
    /// The UTC day of the reports' start.
    pub day: NaiveDate,
    pub reporter: String,
    pub policy_type: String,
    pub result_type: String,
    pub receiving_mx_hostname: Option<String>,
    pub sending_mta_ip: Option<String>,
    pub failure_reason_code: Option<String>,
    /// Sum of failed-session-count.
    pub failed_sessions: i64,
}

/// A policy as one reporter saw it for one domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicySeen {
    /// The UTC day of the reports' start.
    pub day: NaiveDate,
    pub reporter: String,
    pub policy_type: String,
    /// The policy-string lines, as reported.
    pub policy_string: Vec<String>,
    /// The mx-host entries, as reported.
    pub mx_host: Vec<String>,
    /// Successful plus failed sessions under this policy.
    pub sessions: i64,
    /// Distinct reports that carried it.
    pub reports: i64,
    /// The earliest and latest start-datetime of those reports.
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// What was left out because it is not trusted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UntrustedSummary {
    /// Untrusted reports with a policy for the domain.
    pub reports: i64,
    /// Their successful plus failed sessions.
    pub sessions: i64,
}

/// Days since the Unix epoch of `date`.
pub(crate) fn day_number(date: NaiveDate) -> i64 {
    date.signed_duration_since(NaiveDate::default()).num_days()
}

/// The date `day` days after the Unix epoch.
fn date_of(day: i64) -> NaiveDate {
    let epoch = NaiveDate::default();
    match u64::try_from(day) {
        Ok(n) => epoch.checked_add_days(Days::new(n)),
        Err(_) => epoch.checked_sub_days(Days::new(day.unsigned_abs())),
    }
    .unwrap_or(epoch)
}

/// The Unix time of the start of `day`, saturating.
pub(crate) fn day_start(day: i64) -> i64 {
    day.saturating_mul(86_400)
}

fn time_of(unix_seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix_seconds, 0).unwrap_or_default()
}

/// A domain as stored: trimmed, lowercase, without a trailing dot.
pub(crate) fn normalise_domain(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// A JSON array of strings as stored in `policies`.
fn json_list(text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("a stored policy list {text:?}: {e}")))
}

/// The (day, successful, failed) items of a `day:successful:failed,…` list.
fn day_sums(list: &str) -> Result<Vec<(i64, i64, i64)>, StoreError> {
    list.split(',')
        .map(|item| {
            let mut numbers = item.split(':').map(str::parse::<i64>);
            match (
                numbers.next(),
                numbers.next(),
                numbers.next(),
                numbers.next(),
            ) {
                (Some(Ok(day)), Some(Ok(successful)), Some(Ok(failed)), None) => {
                    Ok((day, successful, failed))
                }
                _ => Err(StoreError::Corrupt(format!("a daily sum {item:?}"))),
            }
        })
        .collect()
}

/// (domain, last report start, last trusted report start, last ingest).
type ActivityRow = (String, i64, Option<i64>, i64);
/// (domain, reports, `day:successful:failed` list).
type PortfolioRow = (String, i64, String);
/// (day, policy type, reporter, result type, receiving MX, reports, successful, failed).
type DailyRow = (i64, String, String, String, String, i64, i64, i64);
/// FailureRow's fields, in order.
type FailureTuple = (
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
);
/// (day, reporter, type, policy_string, mx_host, sessions, reports, first, last).
type PolicyTuple = (i64, String, String, String, String, i64, i64, i64, i64);

impl Store {
    /// Every policy domain with a stored report, sorted by bytes.
    pub async fn domains(&self) -> Result<Vec<String>, StoreError> {
        let mut domains = on_backend!(self, domains())?;
        domains.sort_unstable();
        Ok(domains)
    }

    /// Every known domain (sorted by bytes) with its sessions per day over the window,
    /// its reports in the window, and when it last had a report. Two queries in all.
    pub async fn portfolio(
        &self,
        query: &PortfolioQuery,
    ) -> Result<Vec<DomainOverview>, StoreError> {
        let until = day_number(query.today);
        let since = until - i64::from(query.days) + 1;
        let (activity, days) = on_backend!(self, portfolio(since, until, query.trusted_only))?;
        let empty: Vec<DayTotals> = (since..=until)
            .map(|day| DayTotals {
                day: date_of(day),
                successful_sessions: 0,
                failed_sessions: 0,
            })
            .collect();
        let mut overviews: BTreeMap<String, DomainOverview> = BTreeMap::new();
        let new_overview = |domain: &str| DomainOverview {
            domain: domain.to_owned(),
            daily: empty.clone(),
            reports: 0,
            last_report_start: None,
            last_ingested_at: None,
        };
        for (domain, last, last_trusted, ingested) in activity {
            let mut overview = new_overview(&domain);
            overview.last_report_start = if query.trusted_only {
                last_trusted.map(time_of)
            } else {
                Some(time_of(last))
            };
            overview.last_ingested_at = Some(time_of(ingested));
            overviews.insert(domain, overview);
        }
        for (domain, reports, days) in days {
            let overview = overviews
                .entry(domain)
                .or_insert_with_key(|d| new_overview(d));
            overview.reports += reports;
            for (day, successful, failed) in day_sums(&days)? {
                if let Some(slot) = usize::try_from(day - since)
                    .ok()
                    .and_then(|i| overview.daily.get_mut(i))
                {
                    slot.successful_sessions += successful;
                    slot.failed_sessions += failed;
                }
            }
        }
        Ok(overviews.into_values().collect())
    }

    /// One domain's rollup rows in the window, trusted and untrusted reports merged
    /// unless `trusted_only`; sorted by day, policy type, reporter, then totals before
    /// failures by result type and MX.
    pub async fn domain_daily(&self, query: &RollupQuery) -> Result<Vec<DailyRollup>, StoreError> {
        let domain = normalise_domain(&query.domain);
        let rows = on_backend!(
            self,
            domain_daily(
                &domain,
                day_number(query.since),
                day_number(query.until),
                query.trusted_only
            )
        )?;
        let present = |s: String| (!s.is_empty()).then_some(s);
        let mut rollups: Vec<DailyRollup> = rows
            .into_iter()
            .map(
                |(day, policy_type, reporter, result_type, mx, reports, successful, failed)| {
                    DailyRollup {
                        day: date_of(day),
                        policy_type,
                        reporter,
                        result_type: (result_type != TOTALS).then_some(result_type),
                        receiving_mx: present(mx),
                        reports,
                        successful_sessions: successful,
                        failed_sessions: failed,
                    }
                },
            )
            .collect();
        rollups.sort_unstable_by(|a, b| {
            (
                a.day,
                &a.policy_type,
                &a.reporter,
                &a.result_type,
                &a.receiving_mx,
            )
                .cmp(&(
                    b.day,
                    &b.policy_type,
                    &b.reporter,
                    &b.result_type,
                    &b.receiving_mx,
                ))
        });
        Ok(rollups)
    }

    /// One domain's failed sessions in the window, from the failure details, summed per
    /// (reporter, policy type, result type, receiving MX, sending MTA IP, failure reason
    /// code) and sorted by those.
    pub async fn failure_rows(&self, query: &RollupQuery) -> Result<Vec<FailureRow>, StoreError> {
        let (domain, from, to) = detail_window(query);
        let mut rows: Vec<FailureTuple> =
            on_backend!(self, failure_rows(&domain, from, to, query.trusted_only))?;
        rows.sort_unstable();
        Ok(rows
            .into_iter()
            .map(
                |(day, reporter, policy_type, result_type, mx, ip, code, failed_sessions)| {
                    FailureRow {
                        day: date_of(day),
                        reporter,
                        policy_type,
                        result_type,
                        receiving_mx_hostname: mx,
                        sending_mta_ip: ip,
                        failure_reason_code: code,
                        failed_sessions,
                    }
                },
            )
            .collect())
    }

    /// The policies each reporter saw for one domain in the window, with the sessions and
    /// reports under each and when it was first and last seen; sorted by reporter, policy
    /// type, policy string and MX hosts.
    pub async fn policies_seen(&self, query: &RollupQuery) -> Result<Vec<PolicySeen>, StoreError> {
        let (domain, from, to) = detail_window(query);
        let rows: Vec<PolicyTuple> =
            on_backend!(self, policies_seen(&domain, from, to, query.trusted_only))?;
        let mut seen = rows
            .into_iter()
            .map(
                |(
                    day,
                    reporter,
                    policy_type,
                    policy_string,
                    mx_host,
                    sessions,
                    reports,
                    first,
                    last,
                )| {
                    Ok(PolicySeen {
                        day: date_of(day),
                        reporter,
                        policy_type,
                        policy_string: json_list(&policy_string)?,
                        mx_host: json_list(&mx_host)?,
                        sessions,
                        reports,
                        first_seen: time_of(first),
                        last_seen: time_of(last),
                    })
                },
            )
            .collect::<Result<Vec<_>, StoreError>>()?;
        seen.sort_unstable_by(|a, b| {
            (
                &a.day,
                &a.reporter,
                &a.policy_type,
                &a.policy_string,
                &a.mx_host,
            )
                .cmp(&(
                    &b.day,
                    &b.reporter,
                    &b.policy_type,
                    &b.policy_string,
                    &b.mx_host,
                ))
        });
        Ok(seen)
    }

    /// The untrusted reports with a policy for `domain` that started in days `since` to
    /// `until` (UTC, included), and their sessions: what trusted-only figures leave out.
    pub async fn untrusted_summary(
        &self,
        domain: &str,
        since: NaiveDate,
        until: NaiveDate,
    ) -> Result<UntrustedSummary, StoreError> {
        let domain = normalise_domain(domain);
        let (reports, sessions) = on_backend!(
            self,
            untrusted(&domain, day_number(since), day_number(until))
        )?;
        Ok(UntrustedSummary { reports, sessions })
    }
}

/// The normalised domain and the window as Unix seconds [from, to).
fn detail_window(query: &RollupQuery) -> (String, i64, i64) {
    (
        normalise_domain(&query.domain),
        day_start(day_number(query.since)),
        day_start(day_number(query.until) + 1),
    )
}

per_backend! {
    pub(super) async fn domains(pool: &sqlx::Pool<Db>) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(DOMAINS_SQL)
            .fetch_all(pool)
            .await
            .doing("listing the domains")
    }

    pub(super) async fn portfolio(
        pool: &sqlx::Pool<Db>,
        since: i64,
        until: i64,
        trusted_only: bool,
    ) -> Result<(Vec<ActivityRow>, Vec<PortfolioRow>), StoreError> {
        let activity = sqlx::query_as(ACTIVITY_SQL)
            .fetch_all(pool)
            .await
            .doing("reading the domains' activity")?;
        let days = if since <= until {
            sqlx::query_as(PORTFOLIO_SQL)
                .bind(since)
                .bind(until)
                .bind(trusted_only)
                .fetch_all(pool)
                .await
                .doing("summing sessions per domain and day")?
        } else {
            Vec::new()
        };
        Ok((activity, days))
    }

    pub(super) async fn domain_daily(
        pool: &sqlx::Pool<Db>,
        domain: &str,
        since: i64,
        until: i64,
        trusted_only: bool,
    ) -> Result<Vec<DailyRow>, StoreError> {
        sqlx::query_as(DOMAIN_DAILY_SQL)
            .bind(domain)
            .bind(since)
            .bind(until)
            .bind(trusted_only)
            .fetch_all(pool)
            .await
            .doing("reading a domain's daily rollups")
    }

    pub(super) async fn failure_rows(
        pool: &sqlx::Pool<Db>,
        domain: &str,
        from: i64,
        to: i64,
        trusted_only: bool,
    ) -> Result<Vec<FailureTuple>, StoreError> {
        sqlx::query_as(FAILURE_ROWS_SQL)
            .bind(domain)
            .bind(from)
            .bind(to)
            .bind(trusted_only)
            .fetch_all(pool)
            .await
            .doing("summing a domain's failure details")
    }

    pub(super) async fn policies_seen(
        pool: &sqlx::Pool<Db>,
        domain: &str,
        from: i64,
        to: i64,
        trusted_only: bool,
    ) -> Result<Vec<PolicyTuple>, StoreError> {
        sqlx::query_as(POLICIES_SEEN_SQL)
            .bind(domain)
            .bind(from)
            .bind(to)
            .bind(trusted_only)
            .fetch_all(pool)
            .await
            .doing("listing the policies reporters saw")
    }

    pub(super) async fn untrusted(
        pool: &sqlx::Pool<Db>,
        domain: &str,
        since: i64,
        until: i64,
    ) -> Result<(i64, i64), StoreError> {
        sqlx::query_as(UNTRUSTED_SQL)
            .bind(domain)
            .bind(since)
            .bind(until)
            .fetch_one(pool)
            .await
            .doing("counting untrusted reports")
    }
}
