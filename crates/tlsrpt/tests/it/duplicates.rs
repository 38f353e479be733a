//! De-duplication through the binary: the same report again, by the same or any other
//! route (.json, .json.gz, .eml, mbox, a folder), stores nothing new.

use std::path::PathBuf;

use crate::support::{
    Backend, Sandbox, Summary, gzip, on_both_backends, policy, report, report_mail, simple_report,
};

on_both_backends!(
    every_route_of_one_report_is_a_duplicate_of_the_first,
    one_run_with_every_route_stores_the_report_once,
    the_same_report_id_from_another_organization_is_another_report,
    copies_in_separate_transactions_are_duplicates_too,
    ingests_at_once_into_an_existing_database_store_each_report_once,
    ingests_at_once_into_a_new_database_all_succeed,
);

/// One report, written as .json, .json.gz, .eml and an mbox holding the mail twice.
struct Routes {
    json: PathBuf,
    gz: PathBuf,
    eml: PathBuf,
    mbox: PathBuf,
}

fn write_routes(sandbox: &Sandbox, folder: &str) -> Routes {
    let value = report(
        "Routes Inc.",
        "2026-03-01T00:00:00Z_example.com",
        "2026-03-01T00:00:00Z",
        "2026-03-01T23:59:59Z",
        vec![
            policy("sts", "example.com", 90, 3, &[("certificate-expired", 3)]),
            policy("no-policy-found", "example.net", 12, 0, &[]),
        ],
    );
    let json = serde_json::to_vec(&value).unwrap();
    let gz = gzip(&json);
    let mail = report_mail(
        &gz,
        "reporter.example!example.com!1772323200!1772409599.json.gz",
    );
    let mut mbox = Vec::new();
    for _ in 0..2 {
        mbox.extend_from_slice(b"From tlsrpt@reporter.example Sun Mar  1 12:00:00 2026\n");
        mbox.extend_from_slice(&mail);
        mbox.extend_from_slice(b"\n");
    }
    Routes {
        json: sandbox.write(&format!("{folder}/report.json"), &json),
        gz: sandbox.write(&format!("{folder}/report.json.gz"), &gz),
        eml: sandbox.write(&format!("{folder}/report.eml"), &mail),
        mbox: sandbox.write(&format!("{folder}/archive.mbox"), &mbox),
    }
}

fn every_route_of_one_report_is_a_duplicate_of_the_first(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let routes = write_routes(&sandbox, "in");
    let other = sandbox.write(
        "other.json",
        &simple_report("Other", "o-1", "example.org", 5),
    );

    let (run, summary) = sandbox.ingest_json(&[&routes.eml, &other]);
    assert_eq!(summary, Summary::new(2, 0, 0, 0), "{}", run.stderr());
    let stats_json = sandbox.stats_json(&[]);
    let stats_text = sandbox.run(["stats"]).stdout;

    for path in [&routes.json, &routes.gz, &routes.eml, &other] {
        let (run, summary) = sandbox.ingest_json(&[path]);
        assert_eq!(summary, Summary::new(0, 1, 0, 0), "{}", path.display());
        assert_eq!(run.code, 0);
    }
    // The mbox holds the mail twice: two candidates, both duplicates.
    let (_, summary) = sandbox.ingest_json(&[&routes.mbox]);
    assert_eq!(summary, Summary::new(0, 2, 0, 0));
    // The folder: .json, .json.gz, .eml and the mbox's two messages.
    let (_, summary) = sandbox.ingest_json(&[&sandbox.path("in")]);
    assert_eq!(summary, Summary::new(0, 5, 0, 0));

    assert_eq!(
        sandbox.stats_json(&[]),
        stats_json,
        "stats --json unchanged"
    );
    assert!(
        sandbox.run(["stats"]).stdout == stats_text,
        "stats text unchanged"
    );
}

fn one_run_with_every_route_stores_the_report_once(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let routes = write_routes(&sandbox, "in");
    let (run, summary) =
        sandbox.ingest_json(&[&routes.gz, &routes.json, &routes.eml, &routes.mbox]);
    assert_eq!(summary, Summary::new(1, 4, 0, 0), "{}", run.stderr());

    // Sessions are counted once, not once per copy.
    let stats: serde_json::Value = serde_json::from_str(&sandbox.stats_json(&[])).unwrap();
    let domains = stats["domains"].as_array().unwrap();
    assert_eq!(domains.len(), 2);
    assert_eq!(domains[0]["policy_domain"], "example.com");
    assert_eq!(domains[0]["reports"], 1);
    assert_eq!(domains[0]["successful_sessions"], 90);
    assert_eq!(domains[0]["failed_sessions"], 3);
    assert_eq!(domains[1]["policy_domain"], "example.net");
    assert_eq!(domains[1]["successful_sessions"], 12);
}

fn the_same_report_id_from_another_organization_is_another_report(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let a = sandbox.write(
        "a.json",
        &simple_report("Reporter A", "same-id", "example.com", 10),
    );
    let b = sandbox.write(
        "b.json",
        &simple_report("Reporter B", "same-id", "example.com", 20),
    );
    let (_, summary) = sandbox.ingest_json(&[&a, &b]);
    assert_eq!(summary, Summary::new(2, 0, 0, 0));
    let stats: serde_json::Value = serde_json::from_str(&sandbox.stats_json(&[])).unwrap();
    assert_eq!(stats["domains"][0]["reports"], 2);
    assert_eq!(stats["domains"][0]["successful_sessions"], 30);
}

fn copies_in_separate_transactions_are_duplicates_too(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let routes = write_routes(&sandbox, "in");
    let mut command = sandbox.command();
    command
        .args(["ingest", "--json", "--batch-size", "1"])
        .args([&routes.gz, &routes.json, &routes.eml, &routes.mbox]);
    let run = crate::support::run(command);
    assert_eq!(
        Summary::parse(&run.stdout()),
        Summary::new(1, 4, 0, 0),
        "{}",
        run.stderr()
    );
}

/// Runs `count` ingests of the sandbox's `in` folder at the same time; their summaries.
fn ingest_at_once(sandbox: &Sandbox, count: usize) -> Vec<Summary> {
    let children: Vec<_> = (0..count)
        .map(|_| {
            let mut command = sandbox.command();
            command
                .args(["ingest", "--json", "--batch-size", "7"])
                .arg(sandbox.path("in"))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            command.spawn().unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(0), "{stderr}");
            Summary::parse(&String::from_utf8(output.stdout).unwrap())
        })
        .collect()
}

fn write_many(sandbox: &Sandbox, n: u64) {
    for i in 0..n {
        sandbox.write(
            &format!("in/{i:03}.json"),
            &simple_report("Parallel", &format!("p{i}"), "example.com", 1),
        );
    }
}

fn assert_stored_once(sandbox: &Sandbox, summaries: &[Summary], n: u64) {
    let stored: u64 = summaries.iter().map(|s| s.stored).sum();
    let duplicates: u64 = summaries.iter().map(|s| s.duplicates).sum();
    assert_eq!((stored, duplicates), (n, n * (summaries.len() as u64 - 1)));
    let stats: serde_json::Value = serde_json::from_str(&sandbox.stats_json(&[])).unwrap();
    assert_eq!(stats["domains"][0]["reports"], n);
}

fn ingests_at_once_into_an_existing_database_store_each_report_once(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    write_many(&sandbox, 300);
    // Create the database first.
    assert_eq!(sandbox.run(["stats"]).code, 0);
    let summaries = ingest_at_once(&sandbox, 2);
    assert_stored_once(&sandbox, &summaries, 300);
}

fn ingests_at_once_into_a_new_database_all_succeed(backend: Backend) {
    // Cron jobs starting together on a database that does not exist yet (SQLite) or has
    // no schema yet (PostgreSQL): each must create or find the schema, not fail on the
    // other's migration. The race is narrow: several rounds, each on a new database.
    for _ in 0..5 {
        let sandbox = Sandbox::on(backend);
        write_many(&sandbox, 20);
        let summaries = ingest_at_once(&sandbox, 4);
        assert_stored_once(&sandbox, &summaries, 20);
    }
}
