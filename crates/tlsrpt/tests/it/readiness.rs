//! `tlsrpt readiness` and `tlsrpt export readiness` from the command line, over reports
//! ingested with the binary and no live check (offline): the verdict never pretends.

use chrono::{Duration, Utc};
use serde_json::Value;

use crate::support::{Backend, Sandbox, policy, report};

crate::support::on_both_backends!(
    readiness_without_a_live_check_is_never_ready,
    exports_cover_every_domain_and_neutralise_formulas,
);

/// Ingests a clean report per day for the last `days` days from two organisations.
fn ingest_clean_days(sandbox: &Sandbox, domain: &str, days: i64) {
    let mut paths = Vec::new();
    for back in 1..=days {
        let day = (Utc::now() - Duration::days(back)).date_naive();
        for org in ["Google Inc.", "=cmd|' /C calc'!A0"] {
            let value = report(
                org,
                &format!("{org}-{domain}-{day}"),
                &format!("{day}T00:00:00Z"),
                &format!("{day}T23:59:59Z"),
                vec![policy("sts", domain, 200, 0, &[])],
            );
            let name = format!("r/{}-{back}-{}.json", domain, paths.len());
            paths.push(sandbox.write(&name, &serde_json::to_vec(&value).unwrap()));
        }
    }
    let mut args = vec![std::ffi::OsString::from("ingest")];
    args.extend(paths.iter().map(|p| p.clone().into_os_string()));
    let run = sandbox.run(args);
    assert_eq!(run.code, 0, "{}", run.stderr());
}

fn readiness_without_a_live_check_is_never_ready(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    ingest_clean_days(&sandbox, "clean.example", 20);

    let run = sandbox.run(["readiness", "clean.example", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr());
    let json: Value = run.json();
    for key in [
        "domain",
        "verdict",
        "window",
        "criteria",
        "projection",
        "plan",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    assert_eq!(json["domain"], "clean.example");
    assert_ne!(json["verdict"], "ready", "no live check: never ready");
    assert_eq!(json["live_check"]["status"], "missing");
    // The window ends today, which has no report yet: 13 of its 14 days have some.
    assert_eq!(json["projection"]["total_sessions"], 13 * 2 * 200);
    assert_eq!(json["window"]["days"], 14);
    let live = json["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "live-check")
        .unwrap();
    assert_ne!(live["status"], "pass");

    // A wider window counts more days.
    let wide = sandbox.run([
        "readiness",
        "clean.example",
        "--json",
        "--window-days",
        "20",
    ]);
    assert_eq!(wide.json()["projection"]["total_sessions"], 19 * 2 * 200);

    let text = sandbox.run(["readiness", "clean.example"]);
    assert_eq!(text.code, 0);
    assert!(text.stdout().contains("# MTA-STS readiness: clean.example"));
    assert!(text.stdout().contains("live-check"));
}

fn exports_cover_every_domain_and_neutralise_formulas(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    ingest_clean_days(&sandbox, "one.example", 3);
    ingest_clean_days(&sandbox, "two.example", 3);

    let csv = sandbox.path("all.csv");
    let run = sandbox.run([
        "export".as_ref(),
        "readiness".as_ref(),
        "--all".as_ref(),
        "--format".as_ref(),
        "csv".as_ref(),
        "-o".as_ref(),
        csv.as_os_str(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr());
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.contains("one.example") && text.contains("two.example"));
    assert!(
        !text.contains(",=cmd"),
        "a formula cell was not neutralised: {text}"
    );

    let json = sandbox.run([
        "export",
        "readiness",
        "--domain",
        "two.example",
        "--format",
        "json",
    ]);
    assert_eq!(json.code, 0, "{}", json.stderr());
    let list: Value = json.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["domain"], "two.example");

    let html = sandbox.run(["export", "readiness", "--all", "--format", "html"]);
    assert!(html.stdout().contains("<html") && !html.stdout().contains("<script"));

    let usage = sandbox.run(["export", "readiness", "--format", "md"]);
    assert_eq!(usage.code, 2, "neither --domain nor --all is a usage error");
}
