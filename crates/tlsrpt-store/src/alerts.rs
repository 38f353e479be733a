//! Alerts and their outbox. The monitoring rules decide which conditions hold; the store
//! keeps one row per episode of a condition (domain, rule, subject), opens and resolves
//! them in one transaction per evaluation, and queues one notification per alert, event
//! and channel, so a lasting condition is announced once, not at every evaluation.
//!
//! The store does not know the rules: they are kebab-case names given by the caller.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::open::{Doing, Store, StoreError};

/// A condition that holds now, as reported by a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    pub domain: String,
    /// The rule's kebab-case name, e.g. `cert-expiring`.
    pub rule: String,
    /// What the condition is about within the rule (an MX host, a result type, a
    /// reporter); empty when the rule has one condition per domain.
    pub subject: String,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    /// One line for people, e.g. "mx1.example.com's certificate expires in 5 days".
    pub title: String,
    /// The figures and facts that raised it (a JSON object).
    pub evidence: serde_json::Value,
}

/// What one evaluation looked at: every condition of these rules on these domains that
/// does not hold any more is resolved. Conditions outside the scope are left alone, so an
/// evaluation after a check does not resolve the alerts of the report rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertScope {
    pub domains: Vec<String>,
    pub rules: Vec<String>,
}

/// How an evaluation's outcome is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOptions {
    /// The notification channels (configured names, e.g. `webhook:ops`, `email`); each
    /// new alert and each resolution is queued once for each.
    pub channels: Vec<String>,
    /// A condition that comes back this soon after its episode was resolved reopens that
    /// episode, without new notifications (no flapping storms).
    pub quiet_reopen: Duration,
    /// The evaluation's time.
    pub now: DateTime<Utc>,
}

/// What an evaluation changed, by alert id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AlertSync {
    /// New episodes, queued for notification.
    pub opened: Vec<i64>,
    /// Episodes resolved a short while ago whose condition came back; not notified again.
    pub reopened: Vec<i64>,
    /// Episodes whose condition no longer holds.
    pub resolved: Vec<i64>,
    /// Episodes still open, updated with the latest evidence.
    pub ongoing: Vec<i64>,
}

/// One stored alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredAlert {
    pub id: i64,
    pub domain: String,
    pub rule: String,
    pub subject: String,
    pub severity: String,
    pub title: String,
    pub evidence: serde_json::Value,
    pub opened_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub acked_at: Option<DateTime<Utc>>,
    pub acked_by: Option<String>,
    pub snoozed_until: Option<DateTime<Utc>>,
}

impl StoredAlert {
    /// Whether the condition still holds.
    pub fn is_open(&self) -> bool {
        self.resolved_at.is_none()
    }

    /// Whether someone snoozed it until after `now`.
    pub fn is_snoozed(&self, now: DateTime<Utc>) -> bool {
        self.snoozed_until.is_some_and(|until| until > now)
    }
}

/// Which alerts to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertQuery {
    /// Only this domain's.
    pub domain: Option<String>,
    /// Only those whose condition still holds.
    pub open_only: bool,
    /// At most this many, newest first.
    pub limit: i64,
}

impl Default for AlertQuery {
    fn default() -> Self {
        Self {
            domain: None,
            open_only: false,
            limit: 500,
        }
    }
}

/// Open alerts of one rule and severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertCount {
    pub rule: String,
    pub severity: String,
    pub open: i64,
}

/// A notification claimed for sending.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingDelivery {
    pub id: i64,
    /// `opened` or `resolved`.
    pub event: String,
    pub channel: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
    pub alert: StoredAlert,
}

/// Where one notification stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryStatus {
    pub id: i64,
    pub alert_id: i64,
    pub event: String,
    pub channel: String,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// When delivery was given up.
    pub failed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// `opened`: the event of a new episode.
pub const EVENT_OPENED: &str = "opened";
/// `resolved`: the event of a condition that no longer holds.
pub const EVENT_RESOLVED: &str = "resolved";

type AlertRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<i64>,
);

type DeliveryRow = (
    i64,
    i64,
    String,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

const ALERT_COLUMNS: &str = "id, domain, rule, subject, severity, title, evidence, opened_at, \
                             last_seen_at, resolved_at, acked_at, acked_by, snoozed_until";

const DELIVERY_COLUMNS: &str = "id, alert_id, event, channel, attempts, created_at, \
                                next_attempt_at, delivered_at, failed_at, last_error";

fn time(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

fn alert_from(row: AlertRow) -> StoredAlert {
    let (
        id,
        domain,
        rule,
        subject,
        severity,
        title,
        evidence,
        opened,
        seen,
        resolved,
        acked,
        by,
        snoozed,
    ) = row;
    StoredAlert {
        id,
        domain,
        rule,
        subject,
        severity,
        title,
        evidence: serde_json::from_str(&evidence).unwrap_or(serde_json::Value::Null),
        opened_at: time(opened),
        last_seen_at: time(seen),
        resolved_at: resolved.map(time),
        acked_at: acked.map(time),
        acked_by: by,
        snoozed_until: snoozed.map(time),
    }
}

fn delivery_from(row: DeliveryRow) -> DeliveryStatus {
    let (id, alert_id, event, channel, attempts, created, next, delivered, failed, error) = row;
    DeliveryStatus {
        id,
        alert_id,
        event,
        channel,
        attempts,
        created_at: time(created),
        next_attempt_at: time(next),
        delivered_at: delivered.map(time),
        failed_at: failed.map(time),
        last_error: error,
    }
}

fn normalize(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// The key of a condition.
type Condition = (String, String, String);

impl Store {
    /// Records one evaluation: the conditions in `firing` hold now, every other condition
    /// of `scope` does not. New conditions open an alert queued on every channel; open ones
    /// get the latest evidence; open ones in scope that no longer hold are resolved and
    /// their resolution queued, unless snoozed. Each alert is notified at most once per
    /// event and channel. One transaction: concurrent evaluations cannot open a condition
    /// twice.
    pub async fn sync_alerts(
        &self,
        scope: &AlertScope,
        firing: &[NewAlert],
        options: &SyncOptions,
    ) -> Result<AlertSync, StoreError> {
        let mut firing: Vec<NewAlert> = firing
            .iter()
            .cloned()
            .map(|mut alert| {
                alert.domain = normalize(&alert.domain);
                alert
            })
            .collect();
        // Sorted and unique, so that concurrent writers touch rows in the same order.
        firing.sort_by_key(key);
        firing.dedup_by(|a, b| key(a) == key(b));
        let scope = AlertScope {
            domains: scope.domains.iter().map(|d| normalize(d)).collect(),
            rules: scope.rules.clone(),
        };
        on_backend!(self, sync(&scope, &firing, options))
    }

    /// Alerts, newest first.
    pub async fn alerts(&self, query: &AlertQuery) -> Result<Vec<StoredAlert>, StoreError> {
        let domain = query.domain.as_deref().map(normalize);
        Ok(
            on_backend!(self, list(domain.as_deref(), query.open_only, query.limit))?
                .into_iter()
                .map(alert_from)
                .collect(),
        )
    }

    /// One alert.
    pub async fn alert(&self, id: i64) -> Result<Option<StoredAlert>, StoreError> {
        Ok(on_backend!(self, one(id))?.map(alert_from))
    }

    /// Marks an alert as seen by `by`; false when there is no such alert.
    pub async fn acknowledge_alert(
        &self,
        id: i64,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        on_backend!(self, acknowledge(id, by, now.timestamp()))
    }

    /// Snoozes an alert until `until` (`None` wakes it); false when there is no such alert.
    pub async fn snooze_alert(
        &self,
        id: i64,
        until: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        on_backend!(self, snooze(id, until.map(|t| t.timestamp())))
    }

    /// Open alerts by rule and severity, sorted.
    pub async fn alert_counts(&self) -> Result<Vec<AlertCount>, StoreError> {
        let mut counts: Vec<AlertCount> = on_backend!(self, counts())?
            .into_iter()
            .map(|(rule, severity, open)| AlertCount {
                rule,
                severity,
                open,
            })
            .collect();
        counts.sort_by(|a, b| (&a.rule, &a.severity).cmp(&(&b.rule, &b.severity)));
        Ok(counts)
    }

    /// Claims up to `limit` notifications due at `now`, oldest first, each counted as one
    /// more attempt. A claimed notification is not due again before `now + lease`, so
    /// several instances never send the same one at once, and one whose sender died is
    /// retried after the lease.
    pub async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<PendingDelivery>, StoreError> {
        let until = (now + lease).timestamp();
        let mut claimed = Vec::new();
        for (row, alert) in on_backend!(self, due(now.timestamp(), limit))? {
            let status = delivery_from(row);
            if on_backend!(
                self,
                claim(status.id, status.next_attempt_at.timestamp(), until)
            )? {
                claimed.push(PendingDelivery {
                    id: status.id,
                    event: status.event,
                    channel: status.channel,
                    attempts: status.attempts + 1,
                    alert: alert_from(alert),
                });
            }
        }
        Ok(claimed)
    }

    /// Records a notification as delivered.
    pub async fn delivery_succeeded(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        on_backend!(self, delivered(id, now.timestamp()))
    }

    /// Records a failed attempt: tried again at `retry_at`, or given up when `None`.
    pub async fn delivery_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (next, failed) = match retry_at {
            Some(at) => (Some(at.timestamp()), None),
            None => (None, Some(now.timestamp())),
        };
        on_backend!(self, failed(id, error, next, failed))
    }

    /// The notifications of an alert, oldest first.
    pub async fn deliveries(&self, alert_id: i64) -> Result<Vec<DeliveryStatus>, StoreError> {
        Ok(on_backend!(self, deliveries_of(alert_id))?
            .into_iter()
            .map(delivery_from)
            .collect())
    }
}

fn key(alert: &NewAlert) -> Condition {
    (
        alert.domain.clone(),
        alert.rule.clone(),
        alert.subject.clone(),
    )
}

per_backend! {
    pub(super) async fn sync(
        pool: &sqlx::Pool<Db>,
        scope: &AlertScope,
        firing: &[NewAlert],
        options: &SyncOptions,
    ) -> Result<AlertSync, StoreError> {
        let now = options.now.timestamp();
        let mut tx = pool.begin().await.doing("starting a transaction")?;
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE resolved_at IS NULL");
        let open: BTreeMap<Condition, StoredAlert> =
            sqlx::query_as::<_, AlertRow>(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut *tx)
                .await
                .doing("reading open alerts")?
                .into_iter()
                .map(alert_from)
                .map(|a| ((a.domain.clone(), a.rule.clone(), a.subject.clone()), a))
                .collect();
        let mut outcome = AlertSync::default();
        let mut holding = BTreeSet::new();
        for alert in firing {
            let condition = key(alert);
            let evidence = alert.evidence.to_string();
            holding.insert(condition.clone());
            if let Some(existing) = open.get(&condition) {
                sqlx::query(
                    "UPDATE alerts SET last_seen_at = $1, severity = $2, title = $3, \
                     evidence = $4 WHERE id = $5",
                )
                .bind(now)
                .bind(&alert.severity)
                .bind(&alert.title)
                .bind(&evidence)
                .bind(existing.id)
                .execute(&mut *tx)
                .await
                .doing("updating an open alert")?;
                outcome.ongoing.push(existing.id);
                continue;
            }
            let recent: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM alerts WHERE domain = $1 AND rule = $2 AND subject = $3 \
                 AND resolved_at >= $4 ORDER BY resolved_at DESC, id DESC LIMIT 1",
            )
            .bind(&alert.domain)
            .bind(&alert.rule)
            .bind(&alert.subject)
            .bind(now - options.quiet_reopen.num_seconds())
            .fetch_optional(&mut *tx)
            .await
            .doing("looking for a recently resolved alert")?;
            if let Some(id) = recent {
                sqlx::query(
                    "UPDATE alerts SET resolved_at = NULL, last_seen_at = $1, severity = $2, \
                     title = $3, evidence = $4 WHERE id = $5",
                )
                .bind(now)
                .bind(&alert.severity)
                .bind(&alert.title)
                .bind(&evidence)
                .bind(id)
                .execute(&mut *tx)
                .await
                .doing("reopening an alert")?;
                outcome.reopened.push(id);
                continue;
            }
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO alerts (domain, rule, subject, severity, title, evidence, \
                 opened_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                 ON CONFLICT (domain, rule, subject) WHERE resolved_at IS NULL DO NOTHING \
                 RETURNING id",
            )
            .bind(&alert.domain)
            .bind(&alert.rule)
            .bind(&alert.subject)
            .bind(&alert.severity)
            .bind(&alert.title)
            .bind(&evidence)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .doing("opening an alert")?;
            // None: another instance opened the same condition a moment ago.
            if let Some(id) = id {
                queue(&mut tx, id, EVENT_OPENED, &options.channels, now).await?;
                outcome.opened.push(id);
            }
        }
        let domains: BTreeSet<&str> = scope.domains.iter().map(String::as_str).collect();
        let rules: BTreeSet<&str> = scope.rules.iter().map(String::as_str).collect();
        for (condition, alert) in &open {
            if holding.contains(condition)
                || !domains.contains(alert.domain.as_str())
                || !rules.contains(alert.rule.as_str())
            {
                continue;
            }
            sqlx::query("UPDATE alerts SET resolved_at = $1 WHERE id = $2 AND resolved_at IS NULL")
                .bind(now)
                .bind(alert.id)
                .execute(&mut *tx)
                .await
                .doing("resolving an alert")?;
            if !alert.is_snoozed(options.now) {
                queue(&mut tx, alert.id, EVENT_RESOLVED, &options.channels, now).await?;
            }
            outcome.resolved.push(alert.id);
        }
        tx.commit().await.doing("committing alerts")?;
        Ok(outcome)
    }

    async fn queue(
        tx: &mut sqlx::Transaction<'_, Db>,
        alert_id: i64,
        event: &str,
        channels: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        for channel in channels {
            sqlx::query(
                "INSERT INTO alert_deliveries (alert_id, event, channel, created_at, \
                 next_attempt_at) VALUES ($1, $2, $3, $4, $4) \
                 ON CONFLICT (alert_id, event, channel) DO NOTHING",
            )
            .bind(alert_id)
            .bind(event)
            .bind(channel)
            .bind(now)
            .execute(&mut **tx)
            .await
            .doing("queueing a notification")?;
        }
        Ok(())
    }

    pub(super) async fn list(
        pool: &sqlx::Pool<Db>,
        domain: Option<&str>,
        open_only: bool,
        limit: i64,
    ) -> Result<Vec<AlertRow>, StoreError> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts \
             WHERE ($1 IS NULL OR domain = $1) AND (NOT $2 OR resolved_at IS NULL) \
             ORDER BY opened_at DESC, id DESC LIMIT $3"
        );
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(domain)
            .bind(open_only)
            .bind(limit)
            .fetch_all(pool)
            .await
            .doing("listing alerts")
    }

    pub(super) async fn one(pool: &sqlx::Pool<Db>, id: i64) -> Result<Option<AlertRow>, StoreError> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1");
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(pool)
            .await
            .doing("reading an alert")
    }

    pub(super) async fn acknowledge(
        pool: &sqlx::Pool<Db>,
        id: i64,
        by: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query("UPDATE alerts SET acked_at = $1, acked_by = $2 WHERE id = $3")
            .bind(now)
            .bind(by)
            .bind(id)
            .execute(pool)
            .await
            .doing("acknowledging an alert")?
            .rows_affected()
            == 1)
    }

    pub(super) async fn snooze(
        pool: &sqlx::Pool<Db>,
        id: i64,
        until: Option<i64>,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query("UPDATE alerts SET snoozed_until = $1 WHERE id = $2")
            .bind(until)
            .bind(id)
            .execute(pool)
            .await
            .doing("snoozing an alert")?
            .rows_affected()
            == 1)
    }

    pub(super) async fn counts(
        pool: &sqlx::Pool<Db>,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        sqlx::query_as(
            "SELECT rule, severity, CAST(COUNT(*) AS BIGINT) FROM alerts \
             WHERE resolved_at IS NULL GROUP BY rule, severity",
        )
        .fetch_all(pool)
        .await
        .doing("counting open alerts")
    }

    pub(super) async fn due(
        pool: &sqlx::Pool<Db>,
        now: i64,
        limit: i64,
    ) -> Result<Vec<(DeliveryRow, AlertRow)>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM alert_deliveries \
             WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, id LIMIT $2"
        );
        let rows: Vec<DeliveryRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await
            .doing("reading due notifications")?;
        let mut due = Vec::with_capacity(rows.len());
        for row in rows {
            if let Some(alert) = one(pool, row.1).await? {
                due.push((row, alert));
            }
        }
        Ok(due)
    }

    pub(super) async fn claim(
        pool: &sqlx::Pool<Db>,
        id: i64,
        seen_next: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "UPDATE alert_deliveries SET next_attempt_at = $1, attempts = attempts + 1 \
             WHERE id = $2 AND next_attempt_at = $3 AND delivered_at IS NULL \
             AND failed_at IS NULL",
        )
        .bind(until)
        .bind(id)
        .bind(seen_next)
        .execute(pool)
        .await
        .doing("claiming a notification")?
        .rows_affected()
            == 1)
    }

    pub(super) async fn delivered(pool: &sqlx::Pool<Db>, id: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE alert_deliveries SET delivered_at = $1, last_error = NULL WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(pool)
            .await
            .doing("recording a delivered notification")?;
        Ok(())
    }

    pub(super) async fn failed(
        pool: &sqlx::Pool<Db>,
        id: i64,
        error: &str,
        next: Option<i64>,
        failed: Option<i64>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE alert_deliveries SET last_error = $1, \
             next_attempt_at = COALESCE($2, next_attempt_at), failed_at = $3 WHERE id = $4",
        )
        .bind(error)
        .bind(next)
        .bind(failed)
        .bind(id)
        .execute(pool)
        .await
        .doing("recording a failed notification")?;
        Ok(())
    }

    pub(super) async fn deliveries_of(
        pool: &sqlx::Pool<Db>,
        alert_id: i64,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM alert_deliveries WHERE alert_id = $1 ORDER BY id"
        );
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(alert_id)
            .fetch_all(pool)
            .await
            .doing("reading an alert's notifications")
    }
}
