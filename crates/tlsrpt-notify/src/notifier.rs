//! The sender loop over the store's outbox: claims the notifications that are due (with a
//! lease, so several instances can share one store), sends them concurrently but bounded,
//! and records each outcome (delivered, retried later, or given up).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tlsrpt_store::{PendingDelivery, Store};
use tokio::sync::{Notify, watch};

use crate::NotifyError;
use crate::config::{EMAIL_CHANNEL, EmailConfig, RetryConfig, WebhookConfig};
use crate::email::Email;
use crate::payload::Links;
use crate::retry::{Attempt, Failure};
use crate::webhook::Webhook;

/// Everything the notifier needs: the channels, and how the loop runs.
#[derive(Debug, Clone, Default)]
pub struct NotifyConfig {
    /// The `[[webhook]]` sections.
    pub webhook: Vec<WebhookConfig>,
    /// The `[email]` section.
    pub email: Option<EmailConfig>,
    pub sender: SenderOptions,
}

/// How the sender loop runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderOptions {
    /// The wait between passes when nothing wakes the loop. Default 15 s.
    pub poll_interval: Duration,
    /// How long a claimed notification is reserved for its sender: another instance
    /// retries it after that if the sender died. Default 5 min; must exceed the longest
    /// send.
    pub lease: Duration,
    /// The most notifications claimed per pass (the loop starts the next pass at once
    /// when a pass was full). Default 100.
    pub batch: i64,
    /// The most notifications in flight at once, also the size of each claim. Default 8.
    pub concurrency: usize,
}

impl Default for SenderOptions {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(15),
            lease: Duration::from_secs(300),
            batch: 100,
            concurrency: 8,
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Notifications claimed (each one attempt).
    pub claimed: usize,
    pub delivered: usize,
    /// Failed, to be tried again.
    pub retrying: usize,
    pub given_up: usize,
    /// Outcomes that could not be recorded (the notification is retried after its lease).
    pub unrecorded: usize,
}

/// Sends the queued alert notifications.
#[derive(Debug)]
pub struct Notifier {
    store: Store,
    dashboard_url: Option<String>,
    webhooks: BTreeMap<String, Webhook>,
    email: Option<Email>,
    options: SenderOptions,
    wake: Arc<Notify>,
}

impl Notifier {
    /// Checks the configuration, reads the secret files and the CA files. `dashboard_url`
    /// is the public base URL of the dashboard, for the links in notifications.
    pub fn new(
        config: NotifyConfig,
        store: Store,
        dashboard_url: Option<String>,
    ) -> Result<Self, NotifyError> {
        let mut webhooks = BTreeMap::new();
        for webhook in &config.webhook {
            let webhook = Webhook::new(webhook)?;
            if webhooks.contains_key(&webhook.channel) {
                return Err(NotifyError::Config(format!(
                    "two webhooks are named {}",
                    webhook.channel
                )));
            }
            webhooks.insert(webhook.channel.clone(), webhook);
        }
        let email = config.email.as_ref().map(Email::new).transpose()?;
        let options = config.sender;
        let longest = webhooks
            .values()
            .map(Webhook::timeout)
            .chain(email.iter().map(Email::deadline))
            .max()
            .unwrap_or_default();
        if options.lease <= longest {
            return Err(NotifyError::Config(format!(
                "the lease ({:?}) must exceed the longest send ({longest:?})",
                options.lease
            )));
        }
        if options.batch < 1 || options.concurrency < 1 {
            return Err(NotifyError::Config(
                "batch and concurrency must be at least 1".to_owned(),
            ));
        }
        for retry in webhooks
            .values()
            .map(|w| &w.retry)
            .chain(email.iter().map(|e| &e.retry))
        {
            check_retry(retry)?;
        }
        Ok(Self {
            store,
            dashboard_url: dashboard_url.filter(|url| !url.trim().is_empty()),
            webhooks,
            email,
            options,
            wake: Arc::new(Notify::new()),
        })
    }

    /// The configured channel names, for `SyncOptions::channels`.
    pub fn channels(&self) -> Vec<String> {
        let mut channels: Vec<String> = self.webhooks.keys().cloned().collect();
        if self.email.is_some() {
            channels.push(EMAIL_CHANNEL.to_owned());
        }
        channels
    }

    /// Wakes [`run`](Self::run) at once: call `notify_one()` after an evaluation queued
    /// notifications (`AlertSync::opened` or `resolved` not empty).
    pub fn waker(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// Sends what is due until `stop` turns true (or its sender goes away): one pass at
    /// start, then one whenever woken, or every `poll_interval`.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            let full = match self.deliver_due(Utc::now()).await {
                Ok(summary) => {
                    if summary.claimed > 0 {
                        tracing::info!(
                            claimed = summary.claimed,
                            delivered = summary.delivered,
                            retrying = summary.retrying,
                            given_up = summary.given_up,
                            "alert notifications sent"
                        );
                    }
                    i64::try_from(summary.claimed).unwrap_or(i64::MAX) >= self.options.batch
                }
                Err(e) => {
                    tracing::error!(error = %e, "sending alert notifications");
                    false
                }
            };
            if full {
                continue;
            }
            tokio::select! {
                changed = stop.changed() => if changed.is_err() { return },
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.options.poll_interval) => {}
            }
        }
    }

    /// One pass: claims what is due at `now`, sends it, records the outcomes. Claims go
    /// by groups of `concurrency`, each sent at once before the next is claimed, so a claim
    /// never waits behind others for longer than one send: the lease only has to exceed
    /// the longest send. Later groups are claimed at `now` plus the time spent so far; the
    /// pass ends when nothing more is due or `batch` were claimed.
    pub async fn deliver_due(&self, now: DateTime<Utc>) -> Result<Summary, NotifyError> {
        let lease = chrono::Duration::from_std(self.options.lease)
            .map_err(|e| NotifyError::Config(format!("lease: {e}")))?;
        let started = std::time::Instant::now();
        let group = i64::try_from(self.options.concurrency).unwrap_or(i64::MAX);
        let mut summary = Summary::default();
        let mut claimed_so_far: i64 = 0;
        while claimed_so_far < self.options.batch {
            let wanted = group.min(self.options.batch - claimed_so_far);
            let at = now + chrono::Duration::from_std(started.elapsed()).unwrap_or_default();
            let claimed = self.store.claim_deliveries(at, lease, wanted).await?;
            if claimed.is_empty() {
                break;
            }
            claimed_so_far += i64::try_from(claimed.len()).unwrap_or(i64::MAX);
            summary.claimed += claimed.len();
            let sends = claimed
                .into_iter()
                .map(|delivery| self.deliver(delivery, at));
            for outcome in futures_util::future::join_all(sends).await {
                match outcome {
                    Outcome::Delivered => summary.delivered += 1,
                    Outcome::Retrying => summary.retrying += 1,
                    Outcome::GivenUp => summary.given_up += 1,
                    Outcome::Unrecorded => summary.unrecorded += 1,
                }
            }
        }
        Ok(summary)
    }

    /// Sends one notification and records the outcome.
    async fn deliver(&self, delivery: PendingDelivery, now: DateTime<Utc>) -> Outcome {
        let links = Links::new(self.dashboard_url.as_deref(), &delivery.alert);
        let (attempt, retry) = if let Some(webhook) = self.webhooks.get(&delivery.channel) {
            (webhook.send(&delivery, links, now).await, &webhook.retry)
        } else if let Some(email) = self
            .email
            .as_ref()
            .filter(|_| delivery.channel == EMAIL_CHANNEL)
        {
            (email.send(&delivery, links, now).await, &email.retry)
        } else {
            let error = format!(
                "the channel {} is not configured any more",
                delivery.channel
            );
            (Attempt::GiveUp(error), &RetryConfig::default())
        };
        let failure = match attempt {
            Attempt::Delivered => None,
            Attempt::Retry { error, after } => {
                Some(retry.failure(delivery.attempts, error, after, now))
            }
            Attempt::GiveUp(error) => Some(Failure {
                error,
                retry_at: None,
            }),
        };
        let (id, alert, channel) = (delivery.id, delivery.alert.id, delivery.channel.as_str());
        let recorded = match &failure {
            None => {
                tracing::info!(delivery = id, alert, channel, "delivered");
                self.store.delivery_succeeded(id, now).await
            }
            Some(failure) => {
                tracing::warn!(
                    delivery = id,
                    alert,
                    channel,
                    attempt = delivery.attempts,
                    retry_at = ?failure.retry_at,
                    error = %failure.error,
                    "alert notification failed"
                );
                self.store
                    .delivery_failed(id, &failure.error, failure.retry_at, now)
                    .await
            }
        };
        match (recorded, failure) {
            (Err(e), _) => {
                tracing::error!(delivery = id, error = %e, "recording a notification");
                Outcome::Unrecorded
            }
            (Ok(()), None) => Outcome::Delivered,
            (Ok(()), Some(Failure { retry_at: None, .. })) => Outcome::GivenUp,
            (Ok(()), Some(_)) => Outcome::Retrying,
        }
    }
}

enum Outcome {
    Delivered,
    Retrying,
    GivenUp,
    Unrecorded,
}

fn check_retry(retry: &RetryConfig) -> Result<(), NotifyError> {
    if retry.max_attempts < 1
        || retry.backoff_seconds.is_empty()
        || !(0.0..=1.0).contains(&retry.jitter)
    {
        return Err(NotifyError::Config(
            "retry: max_attempts must be at least 1, backoff_seconds not empty, jitter within 0..=1"
                .to_owned(),
        ));
    }
    Ok(())
}
