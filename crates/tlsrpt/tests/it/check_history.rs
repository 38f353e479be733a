//! `tlsrpt check` stores every check and prints the changes since the previous one;
//! `tlsrpt check --history` lists them; `tlsrpt serve` re-checks known domains on a
//! schedule. All against the closed network of the checker's scenario tests (DNS server,
//! policy host, SMTP servers on 127.30.N.x), on both database backends.

use std::ffi::OsString;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tlsrpt_testkit::dns::RecordType;

use crate::support::{Backend, Run, Sandbox, on_both_backends, simple_report};
use check_support::{Cert, Respond, Scenario, pki};

#[path = "../../../tlsrpt-check/tests/it/support/mod.rs"]
#[allow(dead_code, missing_debug_implementations)]
mod check_support;

on_both_backends!(async:
    checks_are_stored_and_changes_printed,
    serve_rechecks_known_domains_on_a_schedule,
);

/// The checker options that reach the closed network at `dns`.
fn network_args(dns: std::net::SocketAddr) -> Vec<OsString> {
    let mut args: Vec<OsString> = ["--dns-server", &dns.to_string(), "--ca-file"]
        .iter()
        .map(OsString::from)
        .collect();
    args.push(pki().ca_file.clone().into());
    args.extend(
        [
            "--allow-private-addresses",
            "--policy-timeout",
            "3",
            "--smtp-timeout",
            "2",
        ]
        .map(OsString::from),
    );
    args
}

/// Runs the binary on the sandbox's database without blocking the servers' runtime.
async fn run(sandbox: &Sandbox, args: Vec<OsString>) -> Run {
    let mut command = sandbox.command();
    command.args(args);
    tokio::task::spawn_blocking(move || crate::support::run(command))
        .await
        .unwrap()
}

async fn check(sandbox: &Sandbox, dns: std::net::SocketAddr, extra: &[&str], domain: &str) -> Run {
    let mut args = vec![OsString::from("check")];
    args.extend(network_args(dns));
    args.extend(extra.iter().map(OsString::from));
    args.push(domain.into());
    run(sandbox, args).await
}

async fn history(sandbox: &Sandbox, domain: &str) -> Vec<Value> {
    let run = run(
        sandbox,
        ["check", "--history", "--json", domain]
            .map(OsString::from)
            .to_vec(),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr());
    let json = run.json();
    assert_eq!(json["domains"][0]["domain"], domain);
    json["domains"][0]["checks"].as_array().unwrap().clone()
}

fn kinds(changes: &Value) -> Vec<String> {
    changes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn checks_are_stored_and_changes_printed(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let domain = format!("cli-hist-{backend:?}.test").to_ascii_lowercase();
    let mut s = Scenario::good(&domain);
    let network = s.start().await;

    // First check: stored, nothing to compare with; every report key is still there.
    let first = check(&sandbox, network.dns.addr, &["--json"], &domain).await;
    assert_eq!(first.code, 0, "{}{}", first.stdout(), first.stderr());
    let report = &first.json()[0];
    for key in [
        "domain",
        "checked_at",
        "verdict",
        "sts_record",
        "policy",
        "mx",
        "tlsrpt",
        "findings",
    ] {
        assert!(report.get(key).is_some(), "{key} in {report}");
    }
    assert_eq!(report["changes"], Value::Array(Vec::new()));
    assert_eq!(report["previous_check_at"], Value::Null);

    // The operator rotates the id and goes back to testing.
    drop(network);
    s.policy_host = None;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sts = format!("_mta-sts.{domain}");
    s.zone
        .remove(&sts, RecordType::TXT)
        .txt(&sts, "v=STSv1; id=2");
    s.serve_policy(
        Cert::Valid,
        Respond::policy(&format!(
            "version: STSv1\nmode: testing\nmx: mx1.{domain}\nmax_age: 604800\n"
        )),
    );
    let network = s.start().await;
    let second = check(&sandbox, network.dns.addr, &[], &domain).await;
    assert_eq!(second.code, 0, "{}{}", second.stdout(), second.stderr());
    let text = second.stdout();
    assert!(text.contains("  Changes since "), "{text}");
    assert!(
        text.contains("    info    sts-id-rotated: The policy id at _mta-sts.")
            && text.contains("[20250101T000000 -> 2]"),
        "{text}"
    );
    assert!(
        text.contains("    warning mode-changed: The policy mode changed from enforce to testing"),
        "{text}"
    );

    // Nothing changed since; --no-save stores nothing.
    let third = check(&sandbox, network.dns.addr, &["--json"], &domain).await;
    assert_eq!(third.json()[0]["changes"], Value::Array(Vec::new()));
    assert!(third.json()[0]["previous_check_at"].is_string());
    let unsaved = check(
        &sandbox,
        network.dns.addr,
        &["--json", "--no-save"],
        &domain,
    )
    .await;
    assert_eq!(unsaved.code, 0);
    assert_eq!(unsaved.json()[0]["previous_check_at"], Value::Null);

    let checks = history(&sandbox, &domain).await;
    assert_eq!(checks.len(), 3, "{checks:#?}");
    assert_eq!(checks[0]["mode"], "testing");
    assert_eq!(checks[0]["sts_id"], "2");
    assert_eq!(kinds(&checks[0]["changes"]), Vec::<String>::new());
    assert_eq!(
        kinds(&checks[1]["changes"]),
        ["verdict-changed", "sts-id-rotated", "mode-changed"]
    );
    assert_eq!(checks[2]["mode"], "enforce");
    assert_eq!(checks[2]["verdict"], "pass");
    assert_eq!(checks[2]["mx_hosts"][0], format!("mx1.{domain}"));

    let text = run(
        &sandbox,
        ["check", "--history", &domain].map(OsString::from).to_vec(),
    )
    .await;
    assert_eq!(text.code, 0);
    let out = text.stdout();
    assert!(out.starts_with(&format!("{domain}:\n")), "{out}");
    assert_eq!(out.matches(" UTC  ").count(), 3, "{out}");
    assert!(out.contains("      warning mode-changed:"), "{out}");

    // Without a domain: the latest check of every checked domain.
    let all = run(
        &sandbox,
        ["check", "--history", "--json"]
            .map(OsString::from)
            .to_vec(),
    )
    .await;
    assert_eq!(all.code, 0, "{}", all.stderr());
    let all = all.json();
    assert_eq!(all["domains"].as_array().unwrap().len(), 1, "{all}");
    assert_eq!(all["domains"][0]["checks"][0]["id"], checks[0]["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checking_never_fails_because_of_storage() {
    let sandbox = Sandbox::new();
    let not_a_dir = sandbox.write("file", b"x");
    let mut s = Scenario::good("cli-nostore.test");
    let network = s.start().await;
    let mut args = vec![
        OsString::from("--database-url"),
        not_a_dir.join("tlsrpt.db").into(),
    ];
    args.push("check".into());
    args.extend(network_args(network.dns.addr));
    args.push("cli-nostore.test".into());
    let mut command = crate::support::bare_command();
    command.args(args);
    let run = tokio::task::spawn_blocking(move || crate::support::run(command))
        .await
        .unwrap();
    assert_eq!(run.code, 0, "{}", run.stderr());
    assert!(
        run.stdout().starts_with("cli-nostore.test: PASS"),
        "{}",
        run.stdout()
    );
    assert!(!run.stdout().contains("Changes since"));
    assert!(
        run.stderr().contains("warning: the results are not stored"),
        "{}",
        run.stderr()
    );
}

async fn serve_rechecks_known_domains_on_a_schedule(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let domain = format!("cli-sched-{backend:?}.test").to_ascii_lowercase();
    let mut s = Scenario::good(&domain);
    let network = s.start().await;
    // The domain is known from a report the operator imported; it was never checked.
    let report = sandbox.write("report.json", &simple_report("Reporter", "r-1", &domain, 5));
    let ingest = run(&sandbox, vec!["ingest".into(), report.into()]).await;
    assert_eq!(ingest.code, 0, "{}", ingest.stderr());

    let mut command = sandbox.command();
    command
        .args(["serve", "--check-interval", "1"])
        .args(network_args(network.dns.addr))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    let started = Instant::now();
    let checks = loop {
        let checks = history(&sandbox, &domain).await;
        if checks.len() >= 2 || started.elapsed() > Duration::from_secs(30) {
            break checks;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let term = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(
        checks.len() >= 2,
        "the schedule stored {} checks in 30 s",
        checks.len()
    );
    assert!(checks.iter().all(|c| c["verdict"] == "pass"), "{checks:#?}");
    assert_eq!(status.code(), Some(0), "serve stops cleanly on SIGTERM");
}
