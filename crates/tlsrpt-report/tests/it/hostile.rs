//! Hostile reports (issue #8): oversized strings, a million failure details and
//! homograph domains. Each ends in a bounded rejection, or a form that cannot pass for
//! the domain it mimics, with its reason.

use tlsrpt_report::{Limits, Quirk, RejectReason, parse};

/// A one-policy report for `domain`, with `organization` and `details` spliced in.
fn report(organization: &str, domain: &str, details: &str) -> String {
    format!(
        r#"{{"organization-name":"{organization}","report-id":"hostile",
        "date-range":{{"start-datetime":"2024-05-06T00:00:00Z","end-datetime":"2024-05-06T23:59:59Z"}},
        "policies":[{{"policy":{{"policy-type":"sts","policy-domain":"{domain}",
            "policy-string":["version: STSv1","mode: enforce","mx: mx1.example.org","max_age: 604800"],
            "mx-host":["mx1.example.org"]}},
          "summary":{{"total-successful-session-count":1,"total-failure-session-count":1}},
          "failure-details":{details}}}]}}"#
    )
}

const ONE_DETAIL: &str = r#"[{"result-type":"validation-failure","failed-session-count":1}]"#;

#[test]
fn ten_megabyte_strings_in_report_fields_are_rejected_naming_the_field() {
    let huge = "A".repeat(10 << 20);
    let limit = Limits::default().max_string_bytes;
    assert_eq!(
        parse(
            report(&huge, "example.org", ONE_DETAIL).as_bytes(),
            &Limits::default()
        ),
        Err(RejectReason::StringTooLong {
            path: "organization-name".into(),
            size: 10 << 20,
            limit,
        })
    );
    let detail = format!(
        r#"[{{"result-type":"validation-failure","failed-session-count":1,"additional-information":"{huge}"}}]"#
    );
    assert_eq!(
        parse(
            report("Google Inc.", "example.org", &detail).as_bytes(),
            &Limits::default()
        )
        .unwrap_err()
        .to_string(),
        format!(
            "policies[0].failure-details[0].additional-information is a string of 10485760 \
             bytes, over the limit of {limit} bytes"
        )
    );
    // A huge key is rejected as well, its path cut short.
    let key = format!(r#"{{"{huge}":1,"organization-name":"x"}}"#);
    let reason = parse(key.as_bytes(), &Limits::default())
        .unwrap_err()
        .to_string();
    assert!(
        reason.starts_with(&format!(
            "{}… is a string of 10485760 bytes",
            "A".repeat(32)
        )),
        "{}",
        &reason[..200.min(reason.len())]
    );
    // A string at the limit is accepted.
    let at_limit = "B".repeat(limit);
    let r = parse(
        report(&at_limit, "example.org", ONE_DETAIL).as_bytes(),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(r.organization_name.len(), limit);
}

#[test]
fn one_million_failure_details_are_rejected() {
    let details = format!("[{}]", vec!["{}"; 1_000_000].join(","));
    let json = report("Google Inc.", "example.org", &details);
    assert!(json.len() < Limits::default().max_bytes);
    assert_eq!(
        parse(json.as_bytes(), &Limits::default())
            .unwrap_err()
            .to_string(),
        "failure-details: 1000000 entries exceed the limit of 100000"
    );
}

#[test]
fn homograph_policy_domain_is_kept_as_its_a_label() {
    // "pаypal.com" with a Cyrillic а (U+0430): it must not be stored as text that
    // reads "paypal.com".
    let r = parse(
        report("Google Inc.", "p\u{430}ypal.com", ONE_DETAIL).as_bytes(),
        &Limits::default(),
    )
    .unwrap();
    let domain = &r.policies[0].policy.policy_domain;
    assert_eq!(domain, "xn--pypal-4ve.com");
    assert_ne!(domain, "paypal.com");
    assert!(r.quirks.contains(&Quirk::PolicyDomainNormalised {
        policy: 0,
        original: "p\u{430}ypal.com".into(),
    }));
    // Full-width Latin letters map to plain ASCII under UTS #46, as a resolver would.
    let r = parse(
        report("Google Inc.", "\u{ff25}xample.org", ONE_DETAIL).as_bytes(),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(r.policies[0].policy.policy_domain, "example.org");
}

#[test]
fn policy_domain_that_is_no_domain_name_is_rejected() {
    assert_eq!(
        parse(
            report("Google Inc.", "exa\u{200b}\u{fffd}mple.org", ONE_DETAIL).as_bytes(),
            &Limits::default()
        )
        .unwrap_err()
        .to_string()
        .split(": ")
        .next(),
        Some("policies[0].policy.policy-domain is not a domain name")
    );
    assert_eq!(
        parse(
            report("Google Inc.", "\u{ad}", ONE_DETAIL).as_bytes(),
            &Limits::default()
        )
        .unwrap_err()
        .to_string(),
        r#"policies[0].policy.policy-domain is not a domain name: "\u{ad}": the name maps to nothing"#
    );
}
