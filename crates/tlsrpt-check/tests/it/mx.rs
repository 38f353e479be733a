//! MX alignment and MX host scenarios (MTASTS-RULES.md §4).

use std::net::SocketAddr;

use tlsrpt_check::Severity::{Error, Info, Warning};
use tlsrpt_testkit::dns::RecordType;

use crate::support::{Cert, Respond, Scenario, Smtp, assert_findings, assert_message, pki};

fn starttls(host: &str, cert: Cert) -> Smtp {
    Smtp::StartTls(pki().leaf(host, &cert))
}

#[tokio::test]
async fn mx_outside_the_policy_is_an_error_in_enforce() {
    let mut s = Scenario::good("uncovered.test");
    s.add_mx(
        20,
        "mx2.uncovered.test",
        3,
        starttls("mx2.uncovered.test", Cert::Valid),
    );
    let report = s.run().await;
    assert_findings(&report, &[("mx-not-in-policy", Error)]);
    assert_message(
        &report,
        "mx-not-in-policy",
        &["mx2.uncovered.test", "mx1.uncovered.test"],
    );
}

#[tokio::test]
async fn mx_outside_the_policy_is_a_warning_in_testing() {
    let mut s = Scenario::good("uncoveredtesting.test");
    s.respond(Respond::policy(
        "version: STSv1\nmode: testing\nmx: mx1.uncoveredtesting.test\nmax_age: 86400\n",
    ));
    s.add_mx(
        20,
        "mx2.uncoveredtesting.test",
        3,
        starttls("mx2.uncoveredtesting.test", Cert::Valid),
    );
    let report = s.run().await;
    assert_findings(
        &report,
        &[
            ("mx-not-in-policy", Warning),
            ("policy-mode-testing", Warning),
        ],
    );
}

#[tokio::test]
async fn stale_policy_pattern_is_reported() {
    let mut s = Scenario::good("stale.test");
    s.respond(Respond::policy(
        "version: STSv1\nmode: enforce\nmx: mx1.stale.test\nmx: mx.old-provider.example\nmax_age: 604800\n",
    ));
    let report = s.run().await;
    assert_findings(&report, &[("policy-mx-unused", Warning)]);
    assert_message(
        &report,
        "policy-mx-unused",
        &["mx.old-provider.example, which no MX record uses"],
    );
}

#[tokio::test]
async fn wildcard_covers_exactly_one_label_and_is_anchored() {
    let mut s = Scenario::good("wild.test");
    s.respond(Respond::policy(
        "version: STSv1\nmode: enforce\nmx: *.wild.test\nmax_age: 604800\n",
    ));
    s.add_mx(
        20,
        "deep.mx1.wild.test",
        3,
        starttls("deep.mx1.wild.test", Cert::Valid),
    );
    s.add_mx(
        30,
        "mx1.wild.test.evil.test",
        4,
        starttls("mx1.wild.test.evil.test", Cert::Valid),
    );
    let report = s.run().await;
    assert_findings(&report, &[("mx-not-in-policy", Error)]);
    let uncovered: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.code.as_str() == "mx-not-in-policy")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(uncovered.len(), 2, "{uncovered:?}");
    assert!(uncovered[0].contains("deep.mx1.wild.test"));
    assert!(uncovered[1].contains("mx1.wild.test.evil.test"));
    assert_eq!(
        report.mx.hosts[0].policy_match.as_deref(),
        Some("*.wild.test")
    );
}

#[tokio::test]
async fn matching_ignores_case_trailing_dot_and_converts_u_labels() {
    let mut s = Scenario::empty("idn.test");
    s.zone
        .txt("_mta-sts.idn.test", "v=STSv1; id=1")
        .txt("_smtp._tls.idn.test", "v=TLSRPTv1; rua=mailto:r@idn.test");
    s.serve_policy(
        Cert::Valid,
        Respond::policy("version: STSv1\nmode: enforce\nmx: MX1.IDN.TEST\nmx: m\u{e4}il.idn.test\nmax_age: 604800\n"),
    );
    s.add_mx(
        10,
        "mx1.idn.test.",
        2,
        starttls("mx1.idn.test", Cert::Valid),
    );
    s.add_mx(
        20,
        "xn--mil-qla.idn.test",
        3,
        starttls("xn--mil-qla.idn.test", Cert::Valid),
    );
    let report = s.run().await;
    assert_findings(&report, &[("policy-mx-not-a-label", Warning)]);
    assert_message(
        &report,
        "policy-mx-not-a-label",
        &["m\u{e4}il.idn.test", "xn--mil-qla.idn.test"],
    );
    assert_eq!(
        report.mx.hosts[1].policy_match.as_deref(),
        Some("m\u{e4}il.idn.test")
    );
}

#[tokio::test]
async fn no_mx_means_implicit_mx_said_explicitly() {
    let mut s = Scenario::empty("implicit.test");
    s.zone.txt("_mta-sts.implicit.test", "v=STSv1; id=1").txt(
        "_smtp._tls.implicit.test",
        "v=TLSRPTv1; rua=mailto:r@implicit.test",
    );
    s.serve_policy(
        Cert::Valid,
        Respond::policy("version: STSv1\nmode: enforce\nmx: implicit.test\nmax_age: 604800\n"),
    );
    let ip = s.ip(2);
    s.zone.addr("implicit.test", ip);
    s.smtp_at(
        SocketAddr::new(ip, 25),
        "implicit.test",
        starttls("implicit.test", Cert::Valid),
    );
    let report = s.run().await;
    assert_findings(&report, &[("mx-implicit", Info)]);
    assert!(report.mx.implicit);
    assert_eq!(report.mx.hosts[0].name, "implicit.test");
    assert_eq!(report.mx.hosts[0].addresses[0].starttls_offered, Some(true));
}

#[tokio::test]
async fn missing_starttls_is_an_error() {
    let mut s = Scenario::good("nostarttls.test");
    s.smtp("mx1.nostarttls.test", Smtp::NoStartTls);
    let report = s.run().await;
    assert_findings(&report, &[("mx-starttls-missing", Error)]);
    assert_message(
        &report,
        "mx-starttls-missing",
        &["mx1.nostarttls.test", "127.30."],
    );
}

#[tokio::test]
async fn unreachable_is_not_missing_starttls() {
    let mut s = Scenario::good("unreach.test");
    s.zone.remove("mx1.unreach.test", RecordType::A);
    let ip = s.ip(9);
    s.zone.addr("mx1.unreach.test", ip);
    let report = s.run().await;
    assert_findings(&report, &[("mx-unreachable", Warning)]);
    assert_message(
        &report,
        "mx-unreachable",
        &["Could not connect", "connection refused"],
    );
    assert_eq!(report.mx.hosts[0].addresses[0].starttls_offered, None);
}

#[tokio::test]
async fn silent_server_times_out_quickly() {
    let mut s = Scenario::good("silent.test");
    s.config.smtp_timeout = std::time::Duration::from_secs(1);
    s.smtp("mx1.silent.test", Smtp::Silent);
    let started = std::time::Instant::now();
    let report = s.run().await;
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    assert_findings(&report, &[("mx-smtp-error", Warning)]);
    assert_message(
        &report,
        "mx-smtp-error",
        &["no SMTP greeting", "no reply within 1 s"],
    );
}

#[tokio::test]
async fn rejecting_greeting_is_an_smtp_error() {
    let mut s = Scenario::good("reject.test");
    s.smtp("mx1.reject.test", Smtp::Reject);
    let report = s.run().await;
    assert_findings(&report, &[("mx-smtp-error", Warning)]);
    assert_message(&report, "mx-smtp-error", &["554"]);
}

#[tokio::test]
async fn refused_starttls_is_a_tls_failure() {
    let mut s = Scenario::good("tlsrefused.test");
    s.smtp("mx1.tlsrefused.test", Smtp::StartTlsRefused);
    let report = s.run().await;
    assert_findings(&report, &[("mx-tls-failed", Error)]);
    assert_message(&report, "mx-tls-failed", &["454"]);
}

#[tokio::test]
async fn self_signed_mx_certificate_is_untrusted_only() {
    let mut s = Scenario::good("mxself.test");
    s.smtp(
        "mx1.mxself.test",
        starttls("mx1.mxself.test", Cert::SelfSigned),
    );
    let report = s.run().await;
    assert_findings(&report, &[("mx-cert-untrusted", Error)]);
    assert_message(&report, "mx-cert-untrusted", &["unknown issuer"]);
}

#[tokio::test]
async fn wrong_name_mx_certificate_names_what_it_covers() {
    let mut s = Scenario::good("mxname.test");
    s.smtp(
        "mx1.mxname.test",
        starttls(
            "mx1.mxname.test",
            Cert::WrongName("mail.other.test".to_owned()),
        ),
    );
    let report = s.run().await;
    assert_findings(&report, &[("mx-cert-name-mismatch", Error)]);
    assert_message(
        &report,
        "mx-cert-name-mismatch",
        &["mx1.mxname.test is only valid for mail.other.test"],
    );
}

#[tokio::test]
async fn cn_only_mx_certificate_does_not_match() {
    let mut s = Scenario::good("mxcn.test");
    s.smtp("mx1.mxcn.test", starttls("mx1.mxcn.test", Cert::CnOnly));
    let report = s.run().await;
    assert_findings(&report, &[("mx-cert-name-mismatch", Error)]);
    assert_message(
        &report,
        "mx-cert-name-mismatch",
        &["no subjectAltName DNS names", "CN=mx1.mxcn.test"],
    );
}

#[tokio::test]
async fn expired_mx_certificate_is_expired_not_untrusted() {
    let mut s = Scenario::good("mxexp.test");
    s.smtp("mx1.mxexp.test", starttls("mx1.mxexp.test", Cert::Expired));
    let report = s.run().await;
    assert_findings(&report, &[("mx-cert-expired", Error)]);
    assert_message(&report, "mx-cert-expired", &["expired on"]);
    let cert = report.mx.hosts[0].addresses[0]
        .tls
        .as_ref()
        .unwrap()
        .certificate
        .as_ref()
        .unwrap();
    assert!(cert.chain_trusted);
    assert!(cert.days_remaining < 0);
}

#[tokio::test]
async fn mx_certificate_expiring_within_14_days_is_a_warning() {
    let mut s = Scenario::good("mxsoon.test");
    s.smtp(
        "mx1.mxsoon.test",
        starttls("mx1.mxsoon.test", Cert::Expiring(5)),
    );
    let report = s.run().await;
    assert_findings(&report, &[("mx-cert-expiring", Warning)]);
    assert_message(
        &report,
        "mx-cert-expiring",
        &["mx1.mxsoon.test", "expires on"],
    );
}

#[tokio::test]
async fn every_address_is_probed_ipv4_and_ipv6() {
    let mut s = Scenario::good("dualstack.test");
    let v6: std::net::IpAddr = "::1".parse().unwrap();
    s.zone.addr("mx1.dualstack.test", v6);
    s.smtp_at(
        SocketAddr::new(v6, 25),
        "mx1.dualstack.test",
        Smtp::NoStartTls,
    );
    let report = s.run().await;
    assert_findings(&report, &[("mx-starttls-missing", Error)]);
    assert_message(&report, "mx-starttls-missing", &["::1"]);
    let probes = &report.mx.hosts[0].addresses;
    assert_eq!(probes.len(), 2);
    assert_eq!(probes[0].starttls_offered, Some(true));
    assert_eq!(probes[1].address, v6);
    assert_eq!(probes[1].starttls_offered, Some(false));
}

#[tokio::test]
async fn tlsa_records_are_info() {
    let mut s = Scenario::good("dane.test");
    s.zone.tlsa("_25._tcp.mx1.dane.test");
    let report = s.run().await;
    assert_findings(&report, &[("tlsa-present", Info)]);
    assert_eq!(report.mx.hosts[0].tlsa, Some(true));
}

#[tokio::test]
async fn mx_host_without_address_is_an_error() {
    let mut s = Scenario::good("noaddr.test");
    s.zone.mx("noaddr.test", 20, "gone.noaddr.test");
    s.respond(Respond::policy(
        "version: STSv1\nmode: enforce\nmx: *.noaddr.test\nmax_age: 604800\n",
    ));
    let report = s.run().await;
    assert_findings(&report, &[("mx-no-address", Error)]);
    assert_message(&report, "mx-no-address", &["gone.noaddr.test"]);
}

#[tokio::test]
async fn null_mx_is_reported() {
    let mut s = Scenario::good("nullmx.test");
    s.zone.remove("nullmx.test", RecordType::MX);
    s.zone.mx("nullmx.test", 0, ".");
    let report = s.run().await;
    assert_findings(&report, &[("mx-null", Info)]);
    assert!(report.mx.null_mx);
}

#[tokio::test]
async fn mx_lookup_servfail_is_temporary() {
    let mut s = Scenario::good("mxservfail.test");
    s.zone.servfail("mxservfail.test");
    let report = s.run().await;
    assert_findings(&report, &[("dns-temporary-failure", Error)]);
    assert_message(&report, "dns-temporary-failure", &["MX mxservfail.test"]);
}
