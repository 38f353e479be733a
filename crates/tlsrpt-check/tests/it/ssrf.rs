//! SSRF guard scenarios (MTASTS-RULES.md §2): without the explicit option, loopback and
//! private targets are refused before any connection.

use tlsrpt_check::Severity::Error;

use crate::support::{Scenario, assert_findings, assert_message};

#[tokio::test]
async fn loopback_targets_are_refused_without_the_option() {
    let mut s = Scenario::good("ssrf.test");
    s.config.allow_private_addresses = false;
    let report = s.run_for("ssrf.test").await;
    assert_findings(&report, &[("address-not-public", Error)]);
    let refused: Vec<&str> = report.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert_message(
        &report,
        "address-not-public",
        &["mta-sts.ssrf.test resolves to 127.30.", "loopback"],
    );
    assert!(refused[1].contains("mx1.ssrf.test"));
    assert!(
        s.policy_host
            .as_ref()
            .unwrap()
            .seen
            .lock()
            .unwrap()
            .is_empty(),
        "no connection was made"
    );
    assert!(report.mx.hosts[0].addresses[0].skipped.is_some());
}
