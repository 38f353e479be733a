//! Delivery of alert notifications (issue #9): the store queues one notification per
//! alert, event and channel (`Store::sync_alerts`); the [`Notifier`] sends them, as signed
//! JSON to webhooks and as email over SMTP, retrying passing failures with backoff.
//!
//! Channel names are `webhook:<name>` and `email`. The payload, signature, retry schedule
//! and email format are documented in docs/ALERTS-DELIVERY.md.

mod config;
mod email;
pub mod message;
mod notifier;
pub mod payload;
mod retry;
mod webhook;

pub use config::{EMAIL_CHANNEL, EmailConfig, RetryConfig, Secret, SmtpTls, WebhookConfig};
pub use notifier::{Notifier, NotifyConfig, SenderOptions, Summary};
pub use payload::{Links, Payload, SCHEMA, signature, verify_signature};

/// Why the notifier could not start or run a pass. Never holds a secret or a webhook URL.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("alert delivery configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] tlsrpt_store::StoreError),
}
