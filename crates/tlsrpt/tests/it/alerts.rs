//! Alerts end to end: `tlsrpt serve --alert-config` notices a report stored by another
//! process (`tlsrpt ingest`) and opens an alert, which it sends once to a real webhook
//! receiver (signed) and a real SMTP sink, and which `tlsrpt alerts` lists, shows,
//! acknowledges and snoozes; `alerts evaluate`, `deliver` and `rules` work without a server.

use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::Value;
use tlsrpt_testkit::smtp::SmtpSink;
use tlsrpt_testkit::webhook::WebhookReceiver;

use crate::https::spawn_listening;
use crate::support::{Backend, Sandbox, on_both_backends, policy, report};

on_both_backends!(serve_raises_an_alert_for_an_ingested_report);

/// The shipped example configuration reads as a whole (rules and channels), and a typo is
/// an error that names it.
#[test]
fn the_example_configuration_is_valid() {
    let sandbox = Sandbox::on(Backend::Sqlite);
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/alerts.example.toml"
    );
    let rules = sandbox.run(["alerts", "rules", "--alert-config", example]);
    assert_eq!(rules.code, 0, "{}", rules.stderr());
    assert!(
        rules.stdout().contains("cert_warning_days = 21"),
        "{}",
        rules.stdout()
    );
    let typo = sandbox.write("typo.toml", b"[[webhook]]\nname = \"ops\"\nurll = \"x\"\n");
    let refused = sandbox.run([
        std::ffi::OsStr::new("alerts"),
        "rules".as_ref(),
        "--alert-config".as_ref(),
        typo.as_os_str(),
    ]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr().contains("unknown field `urll`"),
        "{}",
        refused.stderr()
    );
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve_raises_an_alert_for_an_ingested_report(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    // The receivers run on a runtime of their own, beside the processes under test.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let webhook = runtime.block_on(WebhookReceiver::start());
    let smtp = runtime.block_on(SmtpSink::start());
    let config = sandbox.write(
        "alerts.toml",
        format!(
            "dashboard_url = \"https://tlsrpt.example.net\"\n\n\
             [rules]\npoll_seconds = 1\n\n[domains.\"quiet.example\"]\ndisabled = [\"ready-for-enforce\"]\n\n\
             [[webhook]]\nname = \"ops\"\nurl = \"{}\"\nsecret = \"s3cret\"\n\n\
             [email]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n\
             from = \"tlsrpt <tlsrpt@monitor.example.net>\"\nto = [\"ops@example.net\"]\n",
            webhook.url(),
            smtp.port()
        )
        .as_bytes(),
    );
    let mut command = sandbox.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--check-interval", "0"])
        .arg("--alert-config")
        .arg(&config);
    let (child, _port) = spawn_listening(command);
    let mut server = Server(child);

    // Yesterday, half of spike.example's sessions failed; it has no baseline yet.
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).date_naive();
    let body = report(
        "Google Inc.",
        "spike-1",
        &format!("{yesterday}T00:00:00Z"),
        &format!("{yesterday}T23:59:59Z"),
        vec![policy(
            "sts",
            "spike.example",
            500,
            500,
            &[("certificate-expired", 500)],
        )],
    );
    let file = sandbox.write("spike.json", &serde_json::to_vec(&body).unwrap());
    let ingested = sandbox.run([std::ffi::OsStr::new("ingest"), file.as_os_str()]);
    assert_eq!(ingested.code, 0, "{}", ingested.stderr());

    let deadline = Instant::now() + Duration::from_secs(30);
    let alerts = loop {
        let listed = sandbox.run(["alerts", "list", "--json"]);
        assert_eq!(listed.code, 0, "{}", listed.stderr());
        let alerts = listed.json()["alerts"].as_array().unwrap().clone();
        if !alerts.is_empty() {
            break alerts;
        }
        assert!(Instant::now() < deadline, "no alert within 30 s");
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let alert = &alerts[0];
    eprintln!(
        "{} [{}]: {}",
        alert["rule"], alert["severity"], alert["title"]
    );
    assert_eq!(alert["rule"], "failure-rate-rise");
    assert_eq!(alert["domain"], "spike.example");
    assert_eq!(
        alert["title"],
        "spike.example: 50.0% of sessions failed in the last day (500 of 1000), above 5.00% (no 14-day baseline yet)"
    );
    assert_eq!(alert["evidence"]["last_day"]["failed_sessions"], 500);

    // Sent once to each channel: a signed webhook and a mail, with the dashboard link.
    let deadline = Instant::now() + Duration::from_secs(30);
    while webhook.requests().is_empty() || smtp.messages().is_empty() {
        assert!(Instant::now() < deadline, "no notification within 30 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    let post = &webhook.requests()[0];
    let signed = tlsrpt_notify::verify_signature(
        b"s3cret",
        post.header("x-tlsrpt-timestamp").unwrap().parse().unwrap(),
        &post.body,
        post.header("x-tlsrpt-signature").unwrap(),
    );
    assert!(
        signed,
        "the webhook's signature verifies with the shared secret"
    );
    let payload = post.json();
    eprintln!("webhook payload: {payload}");
    assert_eq!(payload["event"], "opened");
    assert_eq!(payload["alert"]["title"], alert["title"]);
    assert_eq!(
        payload["links"]["alert"],
        format!("https://tlsrpt.example.net/alerts/{}", alert["id"])
    );
    let mail = &smtp.messages()[0];
    eprintln!("mail subject: {:?}", mail.header("subject"));
    assert_eq!(mail.rcpt_to, ["ops@example.net"]);
    assert!(
        mail.header("subject")
            .unwrap()
            .contains("spike.example: 50.0% of sessions failed"),
        "{:?}",
        mail.header("subject")
    );
    assert!(mail.text().contains("https://tlsrpt.example.net/alerts/"));

    let id = alert["id"].as_i64().unwrap().to_string();
    let ack = sandbox.run(["alerts", "ack", &id, "--by", "oncall"]);
    assert_eq!(
        ack.stdout().trim(),
        format!("alert #{id} acknowledged by oncall")
    );
    let snooze = sandbox.run(["alerts", "snooze", &id, "--for", "2h"]);
    assert_eq!(snooze.code, 0, "{}", snooze.stderr());
    let shown = sandbox.run(["alerts", "show", &id, "--json"]).json();
    assert_eq!(shown["alert"]["acked_by"], "oncall");
    assert!(shown["alert"]["snoozed_until"].is_string());
    let text = sandbox.run(["alerts", "list"]).stdout();
    assert!(
        text.contains("open, acked, snoozed") && text.contains("failure-rate-rise"),
        "{text}"
    );
    let missing = sandbox.run(["alerts", "ack", "999999"]);
    assert_eq!(
        (missing.code, missing.stderr().trim()),
        (1, "error: no alert #999999")
    );

    // One pass by hand agrees: the same condition, still open, nothing new.
    let pass: Value = sandbox
        .run([
            std::ffi::OsStr::new("alerts"),
            "--alert-config".as_ref(),
            config.as_os_str(),
            "evaluate".as_ref(),
            "--json".as_ref(),
        ])
        .json();
    assert_eq!(
        pass["sync"]["ongoing"].as_array().unwrap().len(),
        1,
        "{pass}"
    );
    assert_eq!(pass["sync"]["opened"].as_array().unwrap().len(), 0);
    // A lasting condition is not announced again, by the server or by hand.
    let deliver = sandbox.run([
        std::ffi::OsStr::new("alerts"),
        "--alert-config".as_ref(),
        config.as_os_str(),
        "deliver".as_ref(),
    ]);
    assert_eq!(
        deliver.stdout().trim(),
        "0 notification(s) sent: 0 delivered, 0 to retry, 0 given up",
        "{}",
        deliver.stderr()
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!((webhook.requests().len(), smtp.messages().len()), (1, 1));
    let shown = sandbox.run(["alerts", "show", &id, "--json"]).json();
    let delivered: Vec<&Value> = shown["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["delivered_at"].is_string())
        .collect();
    assert_eq!(delivered.len(), 2, "{shown}");
    let rules = sandbox.run([
        std::ffi::OsStr::new("alerts"),
        "rules".as_ref(),
        "--alert-config".as_ref(),
        config.as_os_str(),
    ]);
    let rules = rules.stdout();
    assert!(rules.contains("poll_seconds = 1"), "{rules}");
    assert!(rules.contains("failure_rate_factor = 3.0"), "{rules}");
    assert!(rules.contains("[domains.\"quiet.example\"]"), "{rules}");

    // SIGTERM stops the server, alert loop included.
    let pid = server.0.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(server.0.wait().unwrap().success());
}
