//! Policy file scenarios (MTASTS-RULES.md §3), served by the HTTPS policy host.

use tlsrpt_check::Severity::{Error, Info, Warning};

use crate::support::{Respond, Scenario, assert_findings, assert_message};

async fn with_policy(domain: &str, body: &str) -> tlsrpt_check::DomainReport {
    let mut s = Scenario::good(domain);
    s.respond(Respond::policy(body));
    s.run().await
}

#[tokio::test]
async fn max_age_zero_is_valid_but_short() {
    let report = with_policy(
        "maxage0.test",
        "version: STSv1\nmode: enforce\nmx: mx1.maxage0.test\nmax_age: 0\n",
    )
    .await;
    assert_findings(&report, &[("policy-max-age-short", Warning)]);
    assert_eq!(report.policy.unwrap().policy.unwrap().max_age, 0);
}

#[tokio::test]
async fn mode_none_without_mx_is_valid() {
    let report = with_policy(
        "modenone.test",
        "version: STSv1\nmode: none\nmax_age: 86400\n",
    )
    .await;
    assert_findings(&report, &[("policy-mode-none", Warning)]);
}

#[tokio::test]
async fn repeated_field_first_one_wins() {
    let report = with_policy(
        "dupmode.test",
        "version: STSv1\nmode: testing\nmx: mx1.dupmode.test\nmode: enforce\nmax_age: 604800\n",
    )
    .await;
    assert_findings(
        &report,
        &[
            ("policy-duplicate-field", Warning),
            ("policy-mode-testing", Warning),
        ],
    );
    assert_message(
        &report,
        "policy-duplicate-field",
        &["line 2 `testing`", "line 4 `enforce`", "first one applies"],
    );
}

#[tokio::test]
async fn unknown_fields_are_ignored() {
    let report = with_policy(
        "unknownfield.test",
        "version: STSv1\nmode: enforce\nMax_Age: 5\nx-comment: managed by hand\nmx: mx1.unknownfield.test\nmax_age: 604800\n",
    )
    .await;
    assert_findings(&report, &[("policy-unknown-field", Info)]);
    assert_message(
        &report,
        "policy-unknown-field",
        &["Line 3", "`Max_Age`", "did you mean `max_age`"],
    );
}

#[tokio::test]
async fn mixed_line_endings_are_info() {
    let report = with_policy(
        "mixed.test",
        "version: STSv1\r\nmode: enforce\nmx: mx1.mixed.test\r\nmax_age: 604800\n",
    )
    .await;
    assert_findings(&report, &[("policy-mixed-line-endings", Info)]);
}

#[tokio::test]
async fn crlf_policy_in_any_field_order_is_valid() {
    let report = with_policy(
        "crlf.test",
        "max_age: 604800\r\nmx: mx1.crlf.test\r\nmode: enforce\r\nversion: STSv1\r\n",
    )
    .await;
    assert_findings(&report, &[]);
}

#[tokio::test]
async fn blank_line_in_the_middle_is_invalid() {
    let report = with_policy(
        "blank.test",
        "version: STSv1\nmode: enforce\n\nmx: mx1.blank.test\nmax_age: 604800\n",
    )
    .await;
    assert_findings(&report, &[("policy-invalid", Error)]);
    assert_message(&report, "policy-invalid", &["line 3 is blank"]);
}

#[tokio::test]
async fn max_age_above_one_year_is_invalid() {
    let report = with_policy(
        "maxagebig.test",
        "version: STSv1\nmode: enforce\nmx: mx1.maxagebig.test\nmax_age: 31557601\n",
    )
    .await;
    assert_findings(&report, &[("policy-invalid", Error)]);
    assert_message(&report, "policy-invalid", &["line 4", "31557601"]);
}

#[tokio::test]
async fn enforce_without_mx_is_invalid() {
    let report = with_policy(
        "nomx.test",
        "version: STSv1\nmode: enforce\nmax_age: 604800\n",
    )
    .await;
    assert_findings(&report, &[("policy-invalid", Error)]);
    assert_message(&report, "policy-invalid", &["`mx` is missing"]);
}

#[tokio::test]
async fn partial_label_wildcard_is_invalid() {
    let report = with_policy(
        "partialwild.test",
        "version: STSv1\nmode: enforce\nmx: mx*.partialwild.test\nmax_age: 604800\n",
    )
    .await;
    assert_findings(&report, &[("policy-invalid", Error)]);
    assert_message(
        &report,
        "policy-invalid",
        &["line 3", "mx*.partialwild.test", "whole left-most label"],
    );
}

#[tokio::test]
async fn trailing_dot_in_pattern_is_invalid() {
    let report = with_policy(
        "trailingdot.test",
        "version: STSv1\nmode: enforce\nmx: mx1.trailingdot.test.\nmax_age: 604800\n",
    )
    .await;
    assert_findings(&report, &[("policy-invalid", Error)]);
    assert_message(&report, "policy-invalid", &["ends with a dot"]);
}

#[tokio::test]
async fn mode_testing_is_a_warning() {
    let report = with_policy(
        "testing.test",
        "version: STSv1\nmode: testing\nmx: mx1.testing.test\nmax_age: 86400\n",
    )
    .await;
    assert_findings(&report, &[("policy-mode-testing", Warning)]);
}
