//! The configuration: the shipped example parses, overrides apply per domain, and
//! mistakes are refused with the section named.

use std::collections::BTreeMap;

use serde::Deserialize;
use tlsrpt_alert::{AlertRules, DomainOverride, Rule, RulesConfig};

/// The rules' part of `tlsrpt serve --alert-config` (the binary adds the notify sections).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    #[allow(dead_code)]
    dashboard_url: Option<String>,
    #[serde(default)]
    rules: RulesConfig,
    #[serde(default)]
    domains: BTreeMap<String, DomainOverride>,
}

#[test]
fn the_example_file_parses_and_overrides_apply() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/alerts.example.toml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    // The example also configures notifications; keep only the rules' sections.
    let mut value: toml::Table = toml::from_str(&text).unwrap();
    value.retain(|k, _| matches!(k, "dashboard_url" | "rules" | "domains"));
    let file: File = value.try_into().unwrap();
    let rules = AlertRules::new(file.rules, file.domains).unwrap();
    assert_eq!(rules.rules.failure_rate_factor, 3.0);
    assert_eq!(rules.rules.cert_warning_days, 21);
    let testing = rules.for_domain("Testing.Example.");
    assert!(!testing.enabled(Rule::ReadyForEnforce));
    assert!(testing.enabled(Rule::FailureRateRise));
    assert_eq!(testing.settings.min_failed_sessions, 20);
    let big = rules.for_domain("big.example");
    assert_eq!(big.settings.failure_rate_factor, 5.0);
    assert!(big.enabled(Rule::ReadyForEnforce));
    let other = rules.for_domain("other.example");
    assert_eq!(other.settings, rules.rules);
}

#[test]
fn defaults_fill_an_empty_file() {
    let file: File = toml::from_str("").unwrap();
    assert_eq!(file.rules, RulesConfig::default());
    assert_eq!(RulesConfig::default().baseline_days, 14);
    assert_eq!(RulesConfig::default().min_failed_sessions, 100);
}

#[test]
fn mistakes_are_refused() {
    let unknown_field = toml::from_str::<File>("[rules]\nfailure_rate = 2\n");
    assert!(
        unknown_field
            .unwrap_err()
            .to_string()
            .contains("unknown field")
    );
    let err = AlertRules::new(
        RulesConfig {
            disabled: vec!["no-such-rule".into()],
            ..RulesConfig::default()
        },
        BTreeMap::new(),
    )
    .unwrap_err();
    assert!(
        err.starts_with("[rules] disabled: unknown rule \"no-such-rule\""),
        "{err}"
    );
    let bad = DomainOverride {
        cert_critical_days: Some(30),
        ..DomainOverride::default()
    };
    let err = AlertRules::new(
        RulesConfig::default(),
        BTreeMap::from([("a.example".into(), bad)]),
    )
    .unwrap_err();
    assert_eq!(
        err,
        "[domains.\"a.example\"]: cert_critical_days must not exceed cert_warning_days"
    );
}
