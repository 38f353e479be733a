//! Forged mail cannot move a verdict (issue 8, DKIM policy): through a real Dovecot
//! mailbox, DKIM-verified reports give a domain its verdict; unsigned or badly signed mail
//! claiming to be from a big reporter, with massive failures, is stored and listed as
//! untrusted but changes neither the verdict nor its figures, unless --count-untrusted.

use chrono::{Duration, Utc};
use serde_json::Value;
use tlsrpt_testkit::dns::{BackgroundDns, Zone};
use tlsrpt_testkit::dovecot::{Dovecot, PASSWORD};

use crate::imap::{sign, sync_command_with};
use crate::support::{Backend, Sandbox, gzip, on_both_backends, policy, report, report_mail_from};

on_both_backends!(async: forged_unsigned_mail_does_not_move_the_verdict,);

const DOMAIN: &str = "victim.example";
const REPORTER: &str = "reporter-a.example";
const DAYS: i64 = 10;

/// A report mail from `from_domain` on `DOMAIN` for the day `back` days ago.
fn day_mail(org: &str, from_domain: &str, back: i64, ok: i64, failed: i64) -> Vec<u8> {
    let day = (Utc::now() - Duration::days(back)).date_naive();
    let id = format!("{org}-{day}");
    let details: &[(&str, i64)] = if failed > 0 {
        &[("certificate-expired", failed)]
    } else {
        &[]
    };
    let value = report(
        org,
        &id,
        &format!("{day}T00:00:00Z"),
        &format!("{day}T23:59:59Z"),
        vec![policy("sts", DOMAIN, ok, failed, details)],
    );
    report_mail_from(
        &gzip(&serde_json::to_vec(&value).unwrap()),
        &format!("{from_domain}!{DOMAIN}!{day}.json.gz"),
        &format!("tlsrpt@{from_domain}"),
        &format!("<{id}@{from_domain}>"),
    )
}

fn readiness(sandbox: &Sandbox, extra: &[&str]) -> Value {
    let mut args = vec!["readiness", DOMAIN, "--json"];
    args.extend(extra);
    let run = sandbox.run(args);
    assert_eq!(run.code, 0, "{}", run.stderr());
    run.json()
}

/// The criteria of an assessment by id, without `report-trust` (which names what was
/// left out, and so must change when forged reports arrive).
fn criteria_but_trust(assessment: &Value) -> Vec<Value> {
    assessment["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] != "report-trust")
        .cloned()
        .collect()
}

fn criterion<'a>(assessment: &'a Value, id: &str) -> &'a Value {
    assessment["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no criterion {id} in {assessment:#}"))
}

async fn forged_unsigned_mail_does_not_move_the_verdict(backend: Backend) {
    use base64::Engine;
    use mail_auth::common::crypto::Ed25519Key;

    let pkcs8 = Ed25519Key::generate_pkcs8().unwrap();
    let public = Ed25519Key::from_pkcs8_der(&pkcs8).unwrap().public_key();
    let record = format!(
        "v=DKIM1; k=ed25519; p={}",
        base64::engine::general_purpose::STANDARD.encode(public)
    );
    // google.com publishes a key of its own: a signature made with ours does not verify.
    let other = Ed25519Key::generate_pkcs8().unwrap();
    let other_record = format!(
        "v=DKIM1; k=ed25519; p={}",
        base64::engine::general_purpose::STANDARD
            .encode(Ed25519Key::from_pkcs8_der(&other).unwrap().public_key())
    );
    let mut zone = Zone::default();
    zone.txt(&format!("tlsrpt._domainkey.{REPORTER}"), &record)
        .txt("tlsrpt._domainkey.google.com", &other_record);
    let dns = BackgroundDns::start(zone);
    let dovecot = Dovecot::start();
    let sandbox = Sandbox::on(backend);
    let sync = || {
        let run = crate::support::run(sync_command_with(&sandbox, &dovecot, PASSWORD, dns.addr));
        assert_eq!(run.code, 0, "{}{}", run.stdout(), run.stderr());
    };

    // DKIM-verified, clean reports from one organisation: too little data to judge.
    let trusted: Vec<Vec<u8>> = (1..=DAYS)
        .map(|back| {
            sign(
                &day_mail("Reporter A", REPORTER, back, 500, 0),
                &pkcs8,
                REPORTER,
            )
        })
        .collect();
    dovecot.append("INBOX", &trusted).await;
    sync();
    let before = readiness(&sandbox, &[]);
    assert_eq!(before["verdict"], "insufficient-data", "{before:#}");
    assert_eq!(criterion(&before, "report-organisations")["status"], "fail");
    assert_eq!(criterion(&before, "report-trust")["status"], "pass");
    assert_eq!(before["projection"]["total_sessions"], DAYS * 500);

    // Forged mail "from Google" with massive failures: unsigned, or signed with a key that
    // is not Google's.
    let mut forged: Vec<Vec<u8>> = (1..=DAYS)
        .map(|back| day_mail("Google Inc.", "google.com", back, 0, 50_000))
        .collect();
    forged.push(sign(
        &day_mail("Google Inc.", "google.com", DAYS + 1, 0, 50_000),
        &pkcs8,
        "google.com",
    ));
    dovecot.append("INBOX", &forged).await;
    sync();

    // Every forged report is stored, and listed as untrusted with the reason.
    let listed = sandbox
        .run(["reports", "--json", "--domain", DOMAIN])
        .json();
    let reports = listed["reports"].as_array().unwrap();
    assert_eq!(reports.len(), trusted.len() + forged.len());
    let mut google: Vec<(String, bool)> = reports
        .iter()
        .filter(|r| r["organization_name"] == "Google Inc.")
        .map(|r| {
            (
                r["auth"].as_str().unwrap().to_owned(),
                r["trusted"].as_bool().unwrap(),
            )
        })
        .collect();
    google.sort();
    let mut expected = vec![("dkim-fail".to_owned(), false)];
    expected.extend(std::iter::repeat_n(
        ("dkim-none".to_owned(), false),
        DAYS as usize,
    ));
    assert_eq!(google, expected);
    assert!(
        reports
            .iter()
            .filter(|r| r["organization_name"] == "Reporter A")
            .all(|r| r["trusted"] == true && r["auth"] == format!("dkim-pass:{REPORTER}"))
    );

    // The verdict and its figures are unchanged; only the trust criterion says what was
    // left out.
    let after = readiness(&sandbox, &[]);
    assert_eq!(after["verdict"], before["verdict"]);
    assert_eq!(after["window"], before["window"]);
    assert_eq!(after["projection"], before["projection"]);
    assert_eq!(criteria_but_trust(&after), criteria_but_trust(&before));
    assert_eq!(after["plan"], before["plan"]);
    let trust = criterion(&after, "report-trust");
    assert_eq!(trust["status"], "warn");
    let summary = trust["summary"].as_str().unwrap();
    // The window holds the last 14 days: the forged report of DAYS + 1 days ago is in it.
    assert!(
        summary.contains(&format!("{} unauthenticated report(s)", forged.len())),
        "{summary}"
    );

    // Counting untrusted reports lets the forgery through: the test can fail.
    let counted = readiness(&sandbox, &["--count-untrusted"]);
    assert_ne!(counted["verdict"], before["verdict"], "{counted:#}");
    assert_ne!(counted["projection"], before["projection"]);
    assert_eq!(criterion(&counted, "tls-failure-rate")["status"], "fail");
}
