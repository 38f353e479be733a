//! The configuration example of docs/ALERTS-DELIVERY.md parses into the channel types, in
//! a file shaped like the binary's alert configuration.

use std::collections::BTreeMap;

use serde::Deserialize;
use tlsrpt_notify::{EmailConfig, RetryConfig, SmtpTls, WebhookConfig};

/// The notify part of `tlsrpt serve --alert-config`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertFile {
    dashboard_url: Option<String>,
    #[serde(default)]
    webhook: Vec<WebhookConfig>,
    #[serde(default)]
    email: Option<EmailConfig>,
}

#[test]
fn the_documented_example_parses() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/ALERTS-DELIVERY.md"
    ))
    .unwrap();
    let start = doc.find("```toml\n").expect("a TOML example") + "```toml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let file: AlertFile = toml::from_str(&doc[start..end]).unwrap();
    assert_eq!(
        file.dashboard_url.as_deref(),
        Some("https://tlsrpt.example.net")
    );
    assert_eq!(file.webhook.len(), 1);
    let hook = &file.webhook[0];
    assert_eq!(hook.channel(), "webhook:ops");
    assert_eq!(hook.retry, RetryConfig::default());
    assert_eq!(hook.timeout_seconds, 10);
    let email = file.email.unwrap();
    assert_eq!((email.tls, email.port), (SmtpTls::Starttls, Some(587)));
    assert_eq!(
        email.routes,
        BTreeMap::from([(
            "client.example".to_owned(),
            vec!["postmaster@client.example".to_owned()]
        )])
    );
}
