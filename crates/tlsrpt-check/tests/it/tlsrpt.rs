//! `_smtp._tls` TLS-RPT record scenarios (MTASTS-RULES.md §5).

use tlsrpt_check::Severity::{Error, Warning};
use tlsrpt_testkit::dns::RecordType;

use crate::support::{Scenario, assert_findings, assert_message};

async fn with_tlsrpt(domain: &str, records: &[&str]) -> tlsrpt_check::DomainReport {
    let mut s = Scenario::good(domain);
    let name = format!("_smtp._tls.{domain}");
    s.zone.remove(&name, RecordType::TXT);
    for record in records {
        s.zone.txt(&name, record);
    }
    s.run().await
}

#[tokio::test]
async fn missing_record_is_a_warning() {
    let report = with_tlsrpt("norpt.test", &[]).await;
    assert_findings(&report, &[("tlsrpt-record-missing", Warning)]);
    assert_message(&report, "tlsrpt-record-missing", &["_smtp._tls.norpt.test"]);
}

#[tokio::test]
async fn address_without_mailto_is_named() {
    let report = with_tlsrpt(
        "nomailto.test",
        &["v=TLSRPTv1; rua=postmaster@nomailto.test"],
    )
    .await;
    assert_findings(&report, &[("tlsrpt-record-invalid", Error)]);
    assert_message(
        &report,
        "tlsrpt-record-invalid",
        &["postmaster@nomailto.test", "without the mailto: scheme"],
    );
}

#[tokio::test]
async fn dmarc_style_size_limit_is_invalid() {
    let report = with_tlsrpt("bang.test", &["v=TLSRPTv1; rua=mailto:r@bang.test!10m"]).await;
    assert_findings(&report, &[("tlsrpt-record-invalid", Error)]);
    assert_message(&report, "tlsrpt-record-invalid", &["`!`", "%21"]);
}

#[tokio::test]
async fn repeated_rua_https_and_extensions_are_valid() {
    let report = with_tlsrpt(
        "rua2.test",
        &["v=TLSRPTv1; rua=mailto:a@rua2.test,https://reports.rua2.test/tlsrpt; rua=mailto:b@rua2.test; x-ext=1"],
    )
    .await;
    assert_findings(&report, &[]);
    assert_eq!(report.tlsrpt.record.unwrap().rua.len(), 3);
}

#[tokio::test]
async fn http_scheme_is_invalid() {
    let report = with_tlsrpt(
        "httprua.test",
        &["v=TLSRPTv1; rua=http://reports.httprua.test/"],
    )
    .await;
    assert_findings(&report, &[("tlsrpt-record-invalid", Error)]);
    assert_message(&report, "tlsrpt-record-invalid", &["mailto: and https:"]);
}

#[tokio::test]
async fn two_records_are_not_a_tlsrpt_policy() {
    let report = with_tlsrpt(
        "tworpt.test",
        &[
            "v=TLSRPTv1; rua=mailto:a@tworpt.test",
            "v=TLSRPTv1; rua=mailto:b@tworpt.test",
        ],
    )
    .await;
    assert_findings(&report, &[("tlsrpt-record-multiple", Error)]);
}

#[tokio::test]
async fn legacy_name_is_named() {
    let mut s = Scenario::good("legacy.test");
    s.zone.remove("_smtp._tls.legacy.test", RecordType::TXT);
    s.zone.txt(
        "_smtp-tlsrpt.legacy.test",
        "v=TLSRPTv1; rua=mailto:r@legacy.test",
    );
    let report = s.run().await;
    assert_findings(
        &report,
        &[
            ("tlsrpt-record-missing", Warning),
            ("tlsrpt-record-misplaced", Warning),
        ],
    );
    assert_message(
        &report,
        "tlsrpt-record-misplaced",
        &["_smtp-tlsrpt.legacy.test", "_smtp._tls.legacy.test"],
    );
}

#[tokio::test]
async fn record_at_the_mta_sts_name_is_named() {
    let mut s = Scenario::good("wrongplace.test");
    s.zone.remove("_smtp._tls.wrongplace.test", RecordType::TXT);
    s.zone.txt(
        "_mta-sts.wrongplace.test",
        "v=TLSRPTv1; rua=mailto:r@wrongplace.test",
    );
    let report = s.run().await;
    assert_findings(
        &report,
        &[
            ("tlsrpt-record-missing", Warning),
            ("tlsrpt-record-misplaced", Warning),
            ("sts-record-unrelated", tlsrpt_check::Severity::Info),
        ],
    );
    assert_message(
        &report,
        "tlsrpt-record-misplaced",
        &["published at _mta-sts.wrongplace.test"],
    );
}

#[tokio::test]
async fn servfail_on_tlsrpt_is_temporary() {
    let mut s = Scenario::good("rptservfail.test");
    s.zone.servfail("_smtp._tls.rptservfail.test");
    let report = s.run().await;
    assert_findings(&report, &[("dns-temporary-failure", Error)]);
}
