//! Policy fetch scenarios (MTASTS-RULES.md §2): redirects, status, size, deadline, TLS.

use std::time::{Duration, Instant};

use tlsrpt_check::Severity::{Error, Warning};
use tlsrpt_testkit::dns::RecordType;

use crate::support::{Cert, Respond, Scenario, assert_findings, assert_message, enforce_policy};

#[tokio::test]
async fn redirect_is_not_followed_and_location_is_named() {
    let mut s = Scenario::good("redirect.test");
    s.respond(Respond::status(
        "301 Moved Permanently",
        "Location: https://www.redirect.test/.well-known/mta-sts.txt\r\n",
    ));
    let mut s = s;
    let report = s.run_for("redirect.test").await;
    assert_findings(&report, &[("policy-redirect", Error)]);
    assert_message(
        &report,
        "policy-redirect",
        &[
            "301",
            "Location: https://www.redirect.test/.well-known/mta-sts.txt",
        ],
    );
    assert_eq!(
        s.policy_host.as_ref().unwrap().seen.lock().unwrap().len(),
        1,
        "exactly one request"
    );
    assert_eq!(
        report.policy.unwrap().location.as_deref(),
        Some("https://www.redirect.test/.well-known/mta-sts.txt")
    );
}

#[tokio::test]
async fn a_2xx_other_than_200_is_rejected() {
    let mut s = Scenario::good("status203.test");
    let body = enforce_policy("status203.test");
    s.respond(Respond::Raw(
        format!("HTTP/1.1 203 Non-Authoritative Information\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes(),
    ));
    let report = s.run().await;
    assert_findings(&report, &[("policy-http-status", Error)]);
    assert_message(&report, "policy-http-status", &["HTTP 203", "only 200"]);
}

#[tokio::test]
async fn not_found_is_an_http_status_error() {
    let mut s = Scenario::good("status404.test");
    s.respond(Respond::status("404 Not Found", ""));
    let report = s.run().await;
    assert_findings(&report, &[("policy-http-status", Error)]);
    assert_message(&report, "policy-http-status", &["HTTP 404"]);
}

#[tokio::test]
async fn declared_content_length_over_64k_is_too_large() {
    let mut s = Scenario::good("biglen.test");
    s.respond(Respond::Raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 70000\r\n\r\nversion: STSv1\n".to_vec()));
    let report = s.run().await;
    assert_findings(&report, &[("policy-too-large", Error)]);
    assert_message(
        &report,
        "policy-too-large",
        &["Content-Length announces 70000 bytes"],
    );
}

#[tokio::test]
async fn endless_body_is_cut_at_64k_while_streaming() {
    let mut s = Scenario::good("endless.test");
    s.respond(Respond::Endless(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n".to_vec(),
    ));
    let report = s.run().await;
    assert_findings(&report, &[("policy-too-large", Error)]);
    assert_message(&report, "policy-too-large", &["larger than 65536 bytes"]);
}

#[tokio::test]
async fn chunked_body_over_64k_is_too_large() {
    let mut s = Scenario::good("bigchunk.test");
    let mut body = enforce_policy("bigchunk.test");
    body.push_str(
        &"x-pad: yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\n".repeat(1200),
    );
    s.respond(Respond::chunked(&body, 4000));
    let report = s.run().await;
    assert_findings(&report, &[("policy-too-large", Error)]);
}

#[tokio::test]
async fn chunked_policy_is_read() {
    let mut s = Scenario::good("chunked.test");
    s.respond(Respond::chunked(&enforce_policy("chunked.test"), 7));
    let report = s.run().await;
    assert_findings(&report, &[]);
    assert!(report.policy.unwrap().policy.is_some());
}

#[tokio::test]
async fn wrong_content_type_is_only_a_warning() {
    let mut s = Scenario::good("html.test");
    s.respond(Respond::with_type(
        &enforce_policy("html.test"),
        "text/html",
    ));
    let report = s.run().await;
    assert_findings(&report, &[("policy-content-type", Warning)]);
    assert_message(&report, "policy-content-type", &["Content-Type: text/html"]);
}

#[tokio::test]
async fn overall_deadline_applies_to_a_slow_drip() {
    let mut s = Scenario::good("drip.test");
    s.config.policy_deadline = Duration::from_secs(1);
    s.respond(Respond::Drip(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n".to_vec(),
        Duration::from_millis(200),
    ));
    let started = Instant::now();
    let report = s.run().await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the deadline is overall, not per read"
    );
    assert_findings(&report, &[("policy-fetch-failed", Error)]);
    assert_message(&report, "policy-fetch-failed", &["within 1.0 s"]);
}

#[tokio::test]
async fn expired_policy_certificate_is_invalid_tls() {
    let mut s = Scenario::good("polexp.test");
    s.policy_cert(Cert::Expired);
    let report = s.run().await;
    assert_findings(&report, &[("policy-tls-invalid", Error)]);
    assert_message(
        &report,
        "policy-tls-invalid",
        &["mta-sts.polexp.test expired on"],
    );
}

#[tokio::test]
async fn policy_certificate_for_another_name_is_invalid_tls() {
    let mut s = Scenario::good("polname.test");
    s.policy_cert(Cert::WrongName("www.polname.test".to_owned()));
    let report = s.run().await;
    assert_findings(&report, &[("policy-tls-invalid", Error)]);
    assert_message(
        &report,
        "policy-tls-invalid",
        &["only valid for www.polname.test"],
    );
}

#[tokio::test]
async fn cn_only_policy_certificate_fails() {
    let mut s = Scenario::good("polcn.test");
    s.policy_cert(Cert::CnOnly);
    let report = s.run().await;
    assert_findings(&report, &[("policy-tls-invalid", Error)]);
    assert_message(
        &report,
        "policy-tls-invalid",
        &["no subjectAltName DNS names", "CN is not used"],
    );
}

#[tokio::test]
async fn self_signed_policy_certificate_is_untrusted() {
    let mut s = Scenario::good("polself.test");
    s.policy_cert(Cert::SelfSigned);
    let report = s.run().await;
    assert_findings(&report, &[("policy-tls-invalid", Error)]);
    assert_message(
        &report,
        "policy-tls-invalid",
        &["not trusted", "unknown issuer"],
    );
}

#[tokio::test]
async fn wildcard_policy_certificate_covers_the_policy_host() {
    let mut s = Scenario::good("polwild.test");
    s.policy_cert(Cert::Names(vec!["*.polwild.test".to_owned()]));
    let report = s.run().await;
    assert_findings(&report, &[]);
}

#[tokio::test]
async fn policy_host_refusing_connections_is_a_fetch_failure() {
    let mut s = Scenario::good("polrefused.test");
    s.zone.remove("mta-sts.polrefused.test", RecordType::A);
    let ip = s.ip(9);
    s.zone.addr("mta-sts.polrefused.test", ip);
    let report = s.run().await;
    assert_findings(&report, &[("policy-fetch-failed", Error)]);
    assert_message(
        &report,
        "policy-fetch-failed",
        &["127.30.", ":443 (connection refused)"],
    );
}

#[tokio::test]
async fn policy_host_without_address_is_a_fetch_failure() {
    let mut s = Scenario::good("polnx.test");
    s.zone.remove("mta-sts.polnx.test", RecordType::A);
    let report = s.run().await;
    assert_findings(&report, &[("policy-fetch-failed", Error)]);
    assert_message(
        &report,
        "policy-fetch-failed",
        &["mta-sts.polnx.test does not exist (NXDOMAIN)"],
    );
}
