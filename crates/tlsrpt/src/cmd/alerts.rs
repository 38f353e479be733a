//! `tlsrpt alerts`: list, show, acknowledge and snooze the alerts the rules raised,
//! evaluate the rules once, and print the effective rules; and the alert configuration
//! file shared with `tlsrpt serve --alert-config`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::Utc;
use serde::Deserialize;
use tlsrpt_alert::{AlertRules, DomainOverride, Evaluator, RulesConfig};
use tlsrpt_notify::{EmailConfig, Notifier, NotifyConfig, SenderOptions, WebhookConfig};
use tlsrpt_store::{AlertQuery, Store, StoredAlert};

use crate::cli::{AlertsArgs, AlertsCommand};
use crate::output::{print_line, terminal_safe};

/// The alert configuration file (TOML). Every section is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertConfigFile {
    /// The dashboard's address, for links in notifications. Default none.
    #[serde(default)]
    pub dashboard_url: Option<String>,
    /// The rules' thresholds for every domain; defaults for what is left out.
    #[serde(default)]
    pub rules: RulesConfig,
    /// Per-domain overrides, by domain name.
    #[serde(default)]
    pub domains: BTreeMap<String, DomainOverride>,
    /// Webhooks that receive every new alert and resolution (signed JSON); see
    /// docs/ALERTS-DELIVERY.md. Default none.
    #[serde(default)]
    pub webhook: Vec<WebhookConfig>,
    /// Email over SMTP to the configured recipients. Default none.
    #[serde(default)]
    pub email: Option<EmailConfig>,
}

impl AlertConfigFile {
    /// Reads `path`, or the defaults without one.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the alert configuration {}", path.display()))?;
        toml::from_str(&text)
            .with_context(|| format!("invalid alert configuration {}", path.display()))
    }

    /// The checked rules.
    pub fn rules(&self) -> anyhow::Result<AlertRules> {
        AlertRules::new(self.rules.clone(), self.domains.clone())
            .map_err(|e| anyhow::anyhow!("invalid alert configuration: {e}"))
    }

    /// The sender of the queued notifications, or `None` when no channel is configured.
    pub fn notifier(&self, store: &Store) -> anyhow::Result<Option<Notifier>> {
        if self.webhook.is_empty() && self.email.is_none() {
            return Ok(None);
        }
        let config = NotifyConfig {
            webhook: self.webhook.clone(),
            email: self.email.clone(),
            sender: SenderOptions::default(),
        };
        Notifier::new(config, store.clone(), self.dashboard_url.clone())
            .map(Some)
            .context("invalid alert notification settings")
    }

    /// An evaluator of these rules on `store`, queueing notifications on the channels of
    /// `notifier` and waking it when it has something to send.
    pub fn evaluator(
        &self,
        store: &Store,
        notifier: Option<&Notifier>,
    ) -> anyhow::Result<Evaluator> {
        let evaluator = Evaluator::new(store.clone(), self.rules()?);
        Ok(match notifier {
            Some(notifier) => evaluator
                .with_channels(notifier.channels())
                .with_waker(notifier.waker()),
            None => evaluator,
        })
    }
}

pub async fn run(store: &Store, args: AlertsArgs) -> anyhow::Result<ExitCode> {
    let config = AlertConfigFile::load(args.alert_config.as_deref())?;
    let now = Utc::now();
    match args.command {
        AlertsCommand::List { all, domain, json } => {
            let alerts = store
                .alerts(&AlertQuery {
                    domain,
                    open_only: !all,
                    ..AlertQuery::default()
                })
                .await?;
            if json {
                print_line(&serde_json::to_string(
                    &serde_json::json!({ "alerts": alerts }),
                )?)?;
            } else if alerts.is_empty() {
                print_line(if all { "no alerts" } else { "no open alerts" })?;
            } else {
                for alert in &alerts {
                    print_line(&terminal_safe(&summary(alert, now)))?;
                }
            }
        }
        AlertsCommand::Show { id, json } => {
            let alert = one(store, id).await?;
            let deliveries = store.deliveries(id).await?;
            if json {
                print_line(&serde_json::to_string(
                    &serde_json::json!({ "alert": alert, "deliveries": deliveries }),
                )?)?;
            } else {
                let mut text = summary(&alert, now);
                let time = |t: Option<chrono::DateTime<Utc>>| {
                    t.map_or("-".to_owned(), |t| {
                        t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
                    })
                };
                text.push_str(&format!(
                    "\n  opened {}, last seen {}, resolved {}\n  acknowledged {}{}\n  snoozed until {}\n  evidence: {}",
                    time(Some(alert.opened_at)),
                    time(Some(alert.last_seen_at)),
                    time(alert.resolved_at),
                    time(alert.acked_at),
                    alert.acked_by.as_deref().map(|b| format!(" by {b}")).unwrap_or_default(),
                    time(alert.snoozed_until),
                    serde_json::to_string_pretty(&alert.evidence)?.replace('\n', "\n  "),
                ));
                for d in &deliveries {
                    let state = if d.delivered_at.is_some() {
                        "delivered".to_owned()
                    } else if d.failed_at.is_some() {
                        "given up".to_owned()
                    } else {
                        format!("pending, next attempt {}", time(Some(d.next_attempt_at)))
                    };
                    text.push_str(&format!(
                        "\n  notification {} to {}: {state} after {} attempt(s){}",
                        d.event,
                        d.channel,
                        d.attempts,
                        d.last_error
                            .as_deref()
                            .map(|e| format!(" ({e})"))
                            .unwrap_or_default()
                    ));
                }
                print_line(&terminal_safe(&text))?;
            }
        }
        AlertsCommand::Ack { id, by } => {
            let by = by
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "cli".to_owned());
            if !store.acknowledge_alert(id, &by, now).await? {
                bail!("no alert #{id}");
            }
            print_line(&terminal_safe(&format!("alert #{id} acknowledged by {by}")))?;
        }
        AlertsCommand::Snooze {
            id,
            for_,
            until,
            wake,
        } => {
            let until = if wake {
                None
            } else {
                until.or(for_.map(|d| now + d))
            };
            if !store.snooze_alert(id, until).await? {
                bail!("no alert #{id}");
            }
            print_line(&match until {
                Some(t) => format!(
                    "alert #{id} snoozed until {}",
                    t.format("%Y-%m-%d %H:%M UTC")
                ),
                None => format!("alert #{id} is awake"),
            })?;
        }
        AlertsCommand::Deliver { json } => {
            let Some(notifier) = config.notifier(store)? else {
                bail!(
                    "no notification channel is configured: add [[webhook]] or [email] to --alert-config"
                );
            };
            let summary = notifier.deliver_due(now).await?;
            if json {
                print_line(&serde_json::to_string(&summary)?)?;
            } else {
                print_line(&format!(
                    "{} notification(s) sent: {} delivered, {} to retry, {} given up",
                    summary.claimed, summary.delivered, summary.retrying, summary.given_up
                ))?;
            }
        }
        AlertsCommand::Evaluate { json } => {
            let notifier = config.notifier(store)?;
            let evaluation = config
                .evaluator(store, notifier.as_ref())?
                .evaluate_all(now)
                .await?;
            if json {
                print_line(&serde_json::to_string(&evaluation)?)?;
            } else {
                let s = &evaluation.sync;
                print_line(&format!(
                    "evaluated {} domain(s): {} condition(s) hold; {} opened, {} reopened, {} resolved, {} ongoing",
                    evaluation.domains.len(),
                    evaluation.firing.len(),
                    s.opened.len(),
                    s.reopened.len(),
                    s.resolved.len(),
                    s.ongoing.len()
                ))?;
            }
        }
        AlertsCommand::Rules => {
            let rules = config.rules()?;
            let effective: BTreeMap<&String, RulesConfig> = rules
                .domains
                .keys()
                .map(|d| (d, rules.for_domain(d).settings))
                .collect();
            #[derive(serde::Serialize)]
            struct Effective<'a> {
                #[serde(skip_serializing_if = "Option::is_none")]
                dashboard_url: Option<&'a str>,
                rules: &'a RulesConfig,
                domains: BTreeMap<&'a String, RulesConfig>,
            }
            let text = toml::to_string(&Effective {
                dashboard_url: config.dashboard_url.as_deref(),
                rules: &rules.rules,
                domains: effective,
            })
            .context("cannot print the rules")?;
            print_line(&terminal_safe(text.trim_end()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn one(store: &Store, id: i64) -> anyhow::Result<StoredAlert> {
    match store.alert(id).await? {
        Some(alert) => Ok(alert),
        None => bail!("no alert #{id}"),
    }
}

/// One line: id, severity, state, when, the rule and the title.
fn summary(alert: &StoredAlert, now: chrono::DateTime<Utc>) -> String {
    let mut state = if alert.is_open() { "open" } else { "resolved" }.to_owned();
    if alert.acked_at.is_some() {
        state.push_str(", acked");
    }
    if alert.is_snoozed(now) {
        state.push_str(", snoozed");
    }
    format!(
        "#{:<5} {:<8} {:<16} {}  {:<20} {}",
        alert.id,
        alert.severity,
        state,
        alert.opened_at.format("%Y-%m-%d %H:%M"),
        alert.rule,
        alert.title
    )
}
