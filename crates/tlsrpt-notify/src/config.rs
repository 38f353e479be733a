//! The configuration of the notification channels, as read from the `[[webhook]]` and
//! `[email]` sections of the alert configuration file (TOML), with their defaults.
//!
//! Durations are whole seconds, in fields named `…_seconds` (as in the rules' section).
//! Secrets can be given inline or, better, as a file that is read at start; a secret's
//! `Debug` output never shows it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::NotifyError;

/// One webhook: every alert event is POSTed to `url` as signed JSON.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// The channel's name, unique among webhooks; the channel is `webhook:<name>`.
    /// Required.
    pub name: String,
    /// `http://` or `https://` URL. It is never logged (it may carry a token). Required.
    pub url: String,
    /// The HMAC-SHA256 key of `X-Tlsrpt-Signature`. Exactly one of `secret` and
    /// `secret_file` is required.
    #[serde(default)]
    pub secret: Option<Secret>,
    /// A file holding the key (trailing newline ignored), read at start.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// The longest wait for one request, connection included, in seconds. Default 10.
    #[serde(default = "default_webhook_timeout")]
    pub timeout_seconds: u64,
    /// A PEM file of extra CA certificates trusted for `https`, besides the public roots
    /// (webpki-roots). Default none.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// When to retry. Default: see [`RetryConfig`].
    #[serde(default)]
    pub retry: RetryConfig,
}

/// Email over SMTP: one message per notification, to `to` and the domain's `routes`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// The SMTP server (relay or submission server). Required.
    pub host: String,
    /// Its port. Default by `tls`: 25 for `none`, 587 for `starttls`, 465 for `tls`.
    #[serde(default)]
    pub port: Option<u16>,
    /// How the connection is protected. Default `starttls` (required, not opportunistic).
    #[serde(default)]
    pub tls: SmtpTls,
    /// A PEM file of extra CA certificates trusted for the server, besides the public
    /// roots. Default none.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The login, when the server wants one (AUTH PLAIN or LOGIN). Default none.
    #[serde(default)]
    pub username: Option<String>,
    /// The password of `username`; or use `password_file`.
    #[serde(default)]
    pub password: Option<Secret>,
    /// A file holding the password (trailing newline ignored), read at start.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// The sender, e.g. `"tlsrpt <tlsrpt@example.net>"`. Required.
    pub from: String,
    /// Recipients of every alert. Default none (then `routes` must name some).
    #[serde(default)]
    pub to: Vec<String>,
    /// Extra recipients per domain (exact policy domain, lowercase): an agency routes a
    /// client's alerts to that client. Default none.
    #[serde(default)]
    pub routes: BTreeMap<String, Vec<String>>,
    /// The longest wait for the server at each step, in seconds. Default 30.
    #[serde(default = "default_smtp_timeout")]
    pub timeout_seconds: u64,
    /// When to retry. Default: see [`RetryConfig`].
    #[serde(default)]
    pub retry: RetryConfig,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text: only for a relay on the same host or network.
    None,
    /// A plain connection upgraded with STARTTLS, which must succeed.
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, "implicit TLS").
    Tls,
}

impl SmtpTls {
    /// The usual port for this mode.
    pub fn default_port(self) -> u16 {
        match self {
            Self::None => 25,
            Self::Starttls => 587,
            Self::Tls => 465,
        }
    }
}

/// When a failed notification is tried again.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// The waits in seconds after the 1st, 2nd, … failed attempt; the last one repeats.
    /// Default `[30, 120, 600, 3600, 21600]` (30 s, 2 min, 10 min, 1 h, 6 h).
    #[serde(default = "default_backoff")]
    pub backoff_seconds: Vec<u64>,
    /// Each wait is stretched by a random share of up to this fraction, so that many
    /// failures do not retry in step. Default `0.2`.
    #[serde(default = "default_jitter")]
    pub jitter: f64,
    /// Attempts in all, the first included, before giving up. Default `6`.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            backoff_seconds: default_backoff(),
            jitter: default_jitter(),
            max_attempts: default_max_attempts(),
        }
    }
}

/// A secret given inline. Its `Debug` output never shows it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(hidden)")
    }
}

impl WebhookConfig {
    /// The channel name under which its notifications are queued.
    pub fn channel(&self) -> String {
        format!("webhook:{}", self.name)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds)
    }
}

impl EmailConfig {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds)
    }
}

/// The channel name of email notifications.
pub const EMAIL_CHANNEL: &str = "email";

/// The secret of `inline` or `file`: exactly one must be given.
pub(crate) fn read_secret(
    what: &str,
    inline: Option<&Secret>,
    file: Option<&Path>,
) -> Result<Option<String>, NotifyError> {
    match (inline, file) {
        (Some(_), Some(_)) => Err(NotifyError::Config(format!(
            "{what}: give the secret inline or as a file, not both"
        ))),
        (Some(secret), None) => Ok(Some(secret.0.clone())),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map(|s| Some(s.trim_end_matches(['\r', '\n']).to_owned()))
            .map_err(|e| {
                NotifyError::Config(format!(
                    "{what}: reading the secret file {}: {e}",
                    path.display()
                ))
            }),
        (None, None) => Ok(None),
    }
}

fn default_webhook_timeout() -> u64 {
    10
}

fn default_smtp_timeout() -> u64 {
    30
}

fn default_backoff() -> Vec<u64> {
    vec![30, 120, 600, 3600, 21_600]
}

fn default_jitter() -> f64 {
    0.2
}

fn default_max_attempts() -> u32 {
    6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_take_defaults_and_refuse_unknown_keys() {
        use serde_json::json;
        let webhook: WebhookConfig = serde_json::from_value(
            json!({ "name": "ops", "url": "https://hooks.example/x", "secret": "k" }),
        )
        .unwrap();
        assert_eq!(webhook.channel(), "webhook:ops");
        assert_eq!(webhook.timeout(), Duration::from_secs(10));
        assert_eq!(webhook.retry, RetryConfig::default());
        let email: EmailConfig = serde_json::from_value(json!({
            "host": "smtp.example", "from": "a@example.net", "to": ["b@example.net"],
            "tls": "tls", "timeout_seconds": 60,
            "retry": { "backoff_seconds": [1, 5], "max_attempts": 2 },
        }))
        .unwrap();
        assert_eq!((email.tls, email.port), (SmtpTls::Tls, None));
        assert_eq!(email.tls.default_port(), 465);
        assert_eq!(email.timeout(), Duration::from_secs(60));
        assert_eq!(email.retry.backoff_seconds, [1, 5]);
        assert_eq!((email.retry.jitter, email.retry.max_attempts), (0.2, 2));
        let unknown = serde_json::from_value::<WebhookConfig>(
            json!({ "name": "ops", "url": "http://h/", "secret": "k", "sekret": "k" }),
        );
        assert!(unknown.unwrap_err().to_string().contains("sekret"));
        let bad = serde_json::from_value::<EmailConfig>(
            json!({ "host": "h", "from": "a@b.c", "tls": "ssl" }),
        );
        assert!(bad.is_err());
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let secret = Secret("hunter2".to_owned());
        assert!(!format!("{secret:?}").contains("hunter2"));
    }
}
