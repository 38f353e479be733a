//! `_mta-sts` TXT record scenarios (MTASTS-RULES.md §1).

use tlsrpt_check::Severity::{Error, Info, Warning};
use tlsrpt_testkit::dns::RecordType;

use crate::support::{Scenario, assert_findings, assert_message};

#[tokio::test]
async fn good_domain_passes_with_sni_and_tls_noted() {
    let mut s = Scenario::good("good.test");
    let report = s.run_for("good.test").await;
    assert_findings(&report, &[]);
    assert_eq!(report.verdict, tlsrpt_check::Verdict::Pass);
    let host = s.policy_host.as_ref().unwrap();
    assert_eq!(host.sni(), vec![Some("mta-sts.good.test".to_owned())]);
    let seen = host.seen.lock().unwrap().clone();
    assert_eq!(seen[0].1, "GET /.well-known/mta-sts.txt HTTP/1.1");
    assert_eq!(
        report.sts_record.record.as_ref().unwrap().id,
        "20250101T000000"
    );
    let probe = &report.mx.hosts[0].addresses[0];
    assert_eq!(probe.starttls_offered, Some(true));
    let tls = probe.tls.as_ref().unwrap();
    assert_eq!(tls.version, "TLSv1.3");
    let cert = tls.certificate.as_ref().unwrap();
    assert!(cert.chain_trusted && cert.name_matches);
    assert_eq!(cert.san_dns, vec!["mx1.good.test".to_owned()]);
    assert_eq!(
        report.mx.hosts[0].policy_match.as_deref(),
        Some("mx1.good.test")
    );
}

#[tokio::test]
async fn missing_record_is_an_error_and_no_policy_is_fetched() {
    let mut s = Scenario::good("nosts.test");
    s.zone.remove("_mta-sts.nosts.test", RecordType::TXT);
    let report = s.run().await;
    assert_findings(&report, &[("sts-record-missing", Error)]);
    assert_message(&report, "sts-record-missing", &["_mta-sts.nosts.test"]);
    assert!(report.policy.is_none());
}

#[tokio::test]
async fn two_sts_records_mean_no_policy() {
    let mut s = Scenario::good("twosts.test");
    s.zone.txt("_mta-sts.twosts.test", "v=STSv1; id=second");
    let report = s.run().await;
    assert_findings(&report, &[("sts-record-multiple", Error)]);
    assert_message(
        &report,
        "sts-record-multiple",
        &["2 TXT records", "id=second"],
    );
}

#[tokio::test]
async fn id_longer_than_32_characters_is_invalid() {
    let mut s = Scenario::good("longid.test");
    s.zone.remove("_mta-sts.longid.test", RecordType::TXT);
    s.zone.txt(
        "_mta-sts.longid.test",
        "v=STSv1; id=123456789012345678901234567890123",
    );
    let report = s.run().await;
    assert_findings(&report, &[("sts-record-invalid", Error)]);
    assert_message(
        &report,
        "sts-record-invalid",
        &["33 characters", "at most 32"],
    );
}

#[tokio::test]
async fn unrelated_txt_records_are_info_only() {
    let mut s = Scenario::good("unrelated.test");
    s.zone
        .txt("_mta-sts.unrelated.test", "google-site-verification=abc123");
    let report = s.run().await;
    assert_findings(&report, &[("sts-record-unrelated", Info)]);
    assert_message(
        &report,
        "sts-record-unrelated",
        &["google-site-verification=abc123"],
    );
}

#[tokio::test]
async fn extension_fields_in_the_record_are_accepted() {
    let mut s = Scenario::good("stsext.test");
    s.zone.remove("_mta-sts.stsext.test", RecordType::TXT);
    s.zone
        .txt("_mta-sts.stsext.test", "v=STSv1; id=abc; x-ext=val.1;");
    let report = s.run().await;
    assert_findings(&report, &[]);
    let record = report.sts_record.record.unwrap();
    assert_eq!(
        record.extensions,
        vec![("x-ext".to_owned(), "val.1".to_owned())]
    );
}

#[tokio::test]
async fn multi_string_txt_is_concatenated_without_separator() {
    let mut s = Scenario::good("multistr.test");
    s.zone.remove("_mta-sts.multistr.test", RecordType::TXT);
    s.zone
        .txt_strings("_mta-sts.multistr.test", &["v=STSv1; id=2025", "0101"]);
    let report = s.run().await;
    assert_findings(&report, &[]);
    assert_eq!(report.sts_record.record.unwrap().id, "20250101");
}

#[tokio::test]
async fn cname_delegation_of_the_record_works() {
    let mut s = Scenario::good("cname.test");
    s.zone.remove("_mta-sts.cname.test", RecordType::TXT);
    s.zone
        .cname("_mta-sts.cname.test", "_mta-sts.provider.test");
    s.zone
        .txt("_mta-sts.provider.test", "v=STSv1; id=delegated");
    let report = s.run().await;
    assert_findings(&report, &[]);
    assert_eq!(report.sts_record.record.unwrap().id, "delegated");
}

#[tokio::test]
async fn servfail_is_temporary_not_missing() {
    let mut s = Scenario::good("servfail.test");
    s.zone.servfail("_mta-sts.servfail.test");
    let report = s.run().await;
    assert_findings(&report, &[("dns-temporary-failure", Error)]);
    assert_message(
        &report,
        "dns-temporary-failure",
        &[
            "TXT _mta-sts.servfail.test",
            "not the same as the record being absent",
        ],
    );
    assert!(report.sts_record.dns_error.is_some());
}

#[tokio::test]
async fn timeout_is_temporary_not_missing() {
    let mut s = Scenario::good("dnstimeout.test");
    s.zone.silent("_mta-sts.dnstimeout.test");
    let started = std::time::Instant::now();
    let report = s.run().await;
    assert_findings(&report, &[("dns-temporary-failure", Error)]);
    assert_message(
        &report,
        "dns-temporary-failure",
        &["_mta-sts.dnstimeout.test"],
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[tokio::test]
async fn no_fallback_to_the_parent_domain() {
    let mut s = Scenario::good("parent.test");
    let sub = "sub.parent.test";
    s.zone.mx(sub, 10, "mx1.parent.test").txt(
        &format!("_smtp._tls.{sub}"),
        "v=TLSRPTv1; rua=mailto:r@parent.test",
    );
    let report = s.run_for(sub).await;
    assert_findings(&report, &[("sts-record-missing", Error)]);
    assert_message(&report, "sts-record-missing", &["_mta-sts.sub.parent.test"]);
}

#[tokio::test]
async fn version_tag_is_case_sensitive() {
    let mut s = Scenario::good("case.test");
    s.zone.remove("_mta-sts.case.test", RecordType::TXT);
    s.zone.txt("_mta-sts.case.test", "V=STSv1; id=abc");
    let report = s.run().await;
    assert_findings(
        &report,
        &[
            ("sts-record-missing", Error),
            ("sts-record-unrelated", Info),
        ],
    );
    assert_message(
        &report,
        "sts-record-missing",
        &["case-sensitive", "V=STSv1; id=abc"],
    );
}

#[tokio::test]
async fn record_at_the_apex_is_named_as_misplaced() {
    let mut s = Scenario::good("apex.test");
    s.zone.remove("_mta-sts.apex.test", RecordType::TXT);
    s.zone.txt("apex.test", "v=STSv1; id=abc");
    let report = s.run().await;
    assert_findings(
        &report,
        &[
            ("sts-record-missing", Error),
            ("sts-record-misplaced", Warning),
        ],
    );
    assert_message(
        &report,
        "sts-record-misplaced",
        &["published at apex.test", "_mta-sts.apex.test"],
    );
}

#[tokio::test]
async fn non_ascii_record_is_invalid() {
    let mut s = Scenario::good("ascii.test");
    s.zone.remove("_mta-sts.ascii.test", RecordType::TXT);
    s.zone.txt_bytes(
        "_mta-sts.ascii.test",
        "v=STSv1; id=abc; x=\u{e9}t\u{e9}".as_bytes(),
    );
    let report = s.run().await;
    // The record is unusable, but the policy behind it is still fetched and fine.
    assert_findings(&report, &[("sts-record-invalid", Error)]);
    assert_message(&report, "sts-record-invalid", &["US-ASCII"]);
}
