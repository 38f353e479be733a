//! Messages signed with a test Ed25519 key whose public key is published in an in-process
//! DNS server: pass, tampering, misalignment, missing keys, DNS failure, no signature, and
//! a trusted upstream Authentication-Results.

use base64::Engine;
use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use tlsrpt_dkim::{DkimConfig, DkimVerifier, MailAuth};
use tlsrpt_testkit::dns::{DnsServer, Zone};

const MESSAGE: &str = "From: TLS Reporting <noreply-smtp-tls-reporting@reporter.example>\r\n\
To: tlsrpt@example.com\r\n\
Subject: Report Domain: example.com Submitter: reporter.example Report-ID: <r-1>\r\n\
Date: Mon, 02 Mar 2026 00:00:00 +0000\r\n\
Message-ID: <r-1@reporter.example>\r\n\
TLS-Report-Domain: example.com\r\n\
TLS-Report-Submitter: reporter.example\r\n\
\r\n\
This is an aggregate TLS report.\r\n";

/// A fresh Ed25519 key and the DKIM TXT record that publishes it.
struct Key {
    pkcs8: Vec<u8>,
    record: String,
}

fn key() -> Key {
    let pkcs8 = Ed25519Key::generate_pkcs8().unwrap();
    let key = Ed25519Key::from_pkcs8_der(&pkcs8).unwrap();
    let public = base64::engine::general_purpose::STANDARD.encode(key.public_key());
    Key {
        pkcs8,
        record: format!("v=DKIM1; k=ed25519; p={public}"),
    }
}

fn sign(key: &Key, domain: &str, message: &str) -> String {
    let signature = DkimSigner::from_key(Ed25519Key::from_pkcs8_der(&key.pkcs8).unwrap())
        .domain(domain)
        .selector("tlsrpt2026")
        .headers([
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "TLS-Report-Domain",
        ])
        .sign(message.as_bytes())
        .unwrap();
    format!("{}{message}", signature.to_header())
}

async fn start(zone: Zone, trusted: Option<&str>) -> (DnsServer, DkimVerifier) {
    let dns = DnsServer::start(zone).await;
    let verifier = DkimVerifier::new(DkimConfig {
        dns_server: Some(dns.addr),
        trusted_authserv_id: trusted.map(str::to_owned),
    })
    .unwrap();
    (dns, verifier)
}

#[tokio::test]
async fn a_signature_by_the_from_domain_passes() {
    let key = key();
    let mut zone = Zone::default();
    zone.txt("tlsrpt2026._domainkey.reporter.example", &key.record);
    let (_dns, verifier) = start(zone, None).await;
    let signed = sign(&key, "reporter.example", MESSAGE);
    assert_eq!(
        verifier.verify(signed.as_bytes()).await,
        MailAuth::Pass {
            domain: "reporter.example".into()
        }
    );
}

#[tokio::test]
async fn a_tampered_body_fails() {
    let key = key();
    let mut zone = Zone::default();
    zone.txt("tlsrpt2026._domainkey.reporter.example", &key.record);
    let (_dns, verifier) = start(zone, None).await;
    let signed = sign(&key, "reporter.example", MESSAGE).replace("aggregate", "forged");
    let result = verifier.verify(signed.as_bytes()).await;
    let MailAuth::Fail { reason } = &result else {
        panic!("expected a failure, got {result:?}");
    };
    assert!(reason.contains("by reporter.example"), "{reason}");
    assert!(!result.is_trusted());
}

#[tokio::test]
async fn a_valid_signature_by_another_domain_is_not_aligned() {
    let key = key();
    let mut zone = Zone::default();
    zone.txt("tlsrpt2026._domainkey.evil.example", &key.record);
    let (_dns, verifier) = start(zone, None).await;
    let signed = sign(&key, "evil.example", MESSAGE);
    assert_eq!(
        verifier.verify(signed.as_bytes()).await,
        MailAuth::Fail {
            reason: "a valid signature by evil.example, which is not the From domain \
                     reporter.example or a parent of it"
                .into()
        }
    );
}

#[tokio::test]
async fn a_missing_key_fails_and_a_dns_failure_is_temporary() {
    let key = key();
    let signed = sign(&key, "reporter.example", MESSAGE);
    let (_dns, verifier) = start(Zone::default(), None).await;
    assert!(matches!(
        verifier.verify(signed.as_bytes()).await,
        MailAuth::Fail { .. }
    ));

    let mut zone = Zone::default();
    zone.servfail("tlsrpt2026._domainkey.reporter.example");
    let (_dns, verifier) = start(zone, None).await;
    assert!(matches!(
        verifier.verify(signed.as_bytes()).await,
        MailAuth::TempError { .. }
    ));
}

#[tokio::test]
async fn an_unsigned_message_has_no_dkim() {
    let (_dns, verifier) = start(Zone::default(), None).await;
    assert_eq!(verifier.verify(MESSAGE.as_bytes()).await, MailAuth::None);
}

#[tokio::test]
async fn a_trusted_upstream_pass_is_accepted_without_a_key() {
    let (_dns, verifier) = start(Zone::default(), Some("mx.example.com")).await;
    let message = format!(
        "Authentication-Results: mx.example.com; dkim=pass header.d=reporter.example\r\n{MESSAGE}"
    );
    assert_eq!(
        verifier.verify(message.as_bytes()).await,
        MailAuth::UpstreamPass {
            domain: "reporter.example".into(),
            authserv_id: "mx.example.com".into()
        }
    );
    // The same header from an authserv-id that is not trusted changes nothing.
    let (_dns, untrusting) = start(Zone::default(), Some("other.example")).await;
    assert_eq!(untrusting.verify(message.as_bytes()).await, MailAuth::None);
}
