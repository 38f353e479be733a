//! Shared test plumbing: a store on either backend, alerts opened through
//! `Store::sync_alerts`, and channel configurations pointing at the test servers.

use chrono::{DateTime, Utc};
use serde_json::json;
use tlsrpt_notify::{
    EmailConfig, Notifier, NotifyConfig, RetryConfig, Secret, SenderOptions, SmtpTls, WebhookConfig,
};
use tlsrpt_store::{AlertScope, AlertSync, NewAlert, Store, SyncOptions};

pub use tlsrpt_testkit::Backend;
pub(crate) use tlsrpt_testkit::on_both_backends;

pub const SECRET: &str = "s3cret-signing-key";
pub const DASHBOARD: &str = "https://tlsrpt.example.net/";
pub const RULE: &str = "cert-expiring";

/// A store on a fresh database of its own.
pub struct TempStore {
    _dir: tempfile::TempDir,
    pub store: Store,
}

impl TempStore {
    pub async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&backend.fresh_database_url(dir.path()))
            .await
            .unwrap();
        Self { _dir: dir, store }
    }
}

pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

pub const T0: &str = "2026-05-01T10:00:00Z";

pub fn t0_plus(seconds: i64) -> DateTime<Utc> {
    at(T0) + chrono::Duration::seconds(seconds)
}

/// The alert of an MX certificate expiring in `days`.
pub fn cert_alert(domain: &str, mx: &str, days: i64) -> NewAlert {
    NewAlert {
        domain: domain.to_owned(),
        rule: RULE.to_owned(),
        subject: mx.to_owned(),
        severity: "warning".to_owned(),
        title: format!("{mx}'s certificate expires in {days} days"),
        evidence: json!({ "days_left": days, "host": mx, "not_after": "2026-05-06T00:00:00Z" }),
    }
}

/// Records one evaluation of `domains` in which `firing` hold, queued on `channels`.
pub async fn evaluate(
    store: &Store,
    domains: &[&str],
    firing: &[NewAlert],
    channels: Vec<String>,
    now: DateTime<Utc>,
) -> AlertSync {
    let scope = AlertScope {
        domains: domains.iter().map(|d| d.to_string()).collect(),
        rules: vec![RULE.to_owned()],
    };
    let options = SyncOptions {
        channels,
        quiet_reopen: chrono::Duration::zero(),
        now,
    };
    store.sync_alerts(&scope, firing, &options).await.unwrap()
}

/// Opens a certificate alert on `domain`'s `mx` (`days` left) in an evaluation of that
/// domain at `now`, queued on `channels`; its id.
pub async fn open_cert_alert(
    store: &Store,
    domain: &str,
    mx: &str,
    days: i64,
    channels: Vec<String>,
    now: DateTime<Utc>,
) -> i64 {
    evaluate(
        store,
        &[domain],
        &[cert_alert(domain, mx, days)],
        channels,
        now,
    )
    .await
    .opened[0]
}

/// Retries after 30 s, 2 min, then 10 min, without jitter, `attempts` in all.
pub fn quick_retry(attempts: u32) -> RetryConfig {
    RetryConfig {
        backoff_seconds: vec![30, 120, 600],
        jitter: 0.0,
        max_attempts: attempts,
    }
}

pub fn webhook(name: &str, url: &str) -> WebhookConfig {
    WebhookConfig {
        name: name.to_owned(),
        url: url.to_owned(),
        secret: Some(Secret(SECRET.to_owned())),
        secret_file: None,
        timeout_seconds: 2,
        ca_file: None,
        retry: quick_retry(5),
    }
}

/// Plain SMTP to the sink on `port`.
pub fn email(port: u16) -> EmailConfig {
    EmailConfig {
        host: "127.0.0.1".to_owned(),
        port: Some(port),
        tls: SmtpTls::None,
        ca_file: None,
        username: None,
        password: None,
        password_file: None,
        from: "tlsrpt <tlsrpt@monitor.example.net>".to_owned(),
        to: vec!["ops@example.net".to_owned()],
        routes: [(
            "client.example".to_owned(),
            vec!["postmaster@client.example".to_owned()],
        )]
        .into(),
        timeout_seconds: 5,
        retry: quick_retry(5),
    }
}

pub fn notifier(
    store: &Store,
    webhook: Vec<WebhookConfig>,
    email: Option<EmailConfig>,
) -> Notifier {
    let config = NotifyConfig {
        webhook,
        email,
        sender: SenderOptions::default(),
    };
    Notifier::new(config, store.clone(), Some(DASHBOARD.to_owned())).unwrap()
}
