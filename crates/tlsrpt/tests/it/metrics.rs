//! `GET /metrics` of a real `tlsrpt serve`: reports arrive as files and through the HTTPS
//! endpoint, then a scrape over HTTP must say exactly what happened, pass `promtool check
//! metrics` (Prometheus's own parser and linter), need the dashboard's login when one is
//! set, and keep no more than `--metrics-max-domains` domain labels. The demo instance's
//! scrape must carry every metric the shipped Grafana dashboard queries, and an IMAP
//! watcher's the health of its mailbox.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::Utc;
use tlsrpt_corpus::{Corpus, Format};
use tlsrpt_imap::TlsMode;
use tlsrpt_testkit::dovecot::{Dovecot, PASSWORD, USER};

use crate::support::{Backend, Reply, Sandbox, on_both_backends, policy, report};

const DASHBOARD_TOKEN: &str = "metrics-scrape-token";
const B_TOKEN: &str = "b-example-token-0123456789";
const C_TOKEN: &str = "c-example-token-0123456789";

/// A running `tlsrpt serve`, killed on drop, with the addresses it printed.
struct Serve {
    child: Child,
    /// `host:port` of each "… on http://host:port" line, by what precedes it.
    addresses: Vec<(String, String)>,
    /// The stderr lines read before serving began.
    preamble: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// Starts `tlsrpt serve ARGS` and waits for one "… on http://…" line per `expect`.
    fn start(sandbox: &Sandbox, args: &[&str], expect: &[&str]) -> Self {
        let mut child = sandbox
            .command()
            .arg("serve")
            .args(args)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut addresses = Vec::new();
        let mut preamble = String::new();
        while addresses.len() < expect.len() {
            let mut line = String::new();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "serve exited before serving: {preamble}"
            );
            preamble.push_str(&line);
            if let Some((what, url)) = line.trim().split_once(" on http://") {
                let what = expect.iter().find(|e| what.ends_with(*e));
                if let Some(what) = what {
                    let host = url.trim_end_matches("/metrics").to_owned();
                    addresses.push(((*what).to_owned(), host));
                }
            }
        }
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        Self {
            child,
            addresses,
            preamble,
        }
    }

    fn address(&self, what: &str) -> &str {
        &self
            .addresses
            .iter()
            .find(|(w, _)| w == what)
            .unwrap_or_else(|| panic!("no {what} address in {:?}", self.addresses))
            .1
    }
}

/// One HTTP/1.1 request; returns the status and the body.
fn http(address: &str, request: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    let head = format!(
        "{request}\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let reply = Reply::parse(&response);
    (reply.status, reply.body)
}

fn post_report(address: &str, token: &str, content_type: &str, body: &[u8]) -> u16 {
    let request = format!("POST /tlsrpt/{token} HTTP/1.1\r\nContent-Type: {content_type}");
    http(address, &request, body).0
}

/// `GET /metrics` with an optional `Authorization` value.
fn scrape(address: &str, authorization: Option<&str>) -> (u16, String) {
    let request = match authorization {
        Some(value) => format!("GET /metrics HTTP/1.1\r\nAuthorization: {value}"),
        None => "GET /metrics HTTP/1.1".to_owned(),
    };
    http(address, &request, b"")
}

/// The value of the sample written exactly as `series` (name and labels).
fn value(scrape: &str, series: &str) -> Option<f64> {
    scrape.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?.strip_prefix(' ')?;
        Some(rest.parse().unwrap())
    })
}

fn expect(scrape: &str, series: &str, expected: f64) {
    assert_eq!(
        value(scrape, series),
        Some(expected),
        "{series} in:\n{scrape}"
    );
}

/// Every metric the scrape declares (`# TYPE`, even with no sample yet) or has a sample of
/// (a histogram's `_bucket`, `_sum`, `_count`).
fn names(scrape: &str) -> BTreeSet<String> {
    scrape
        .lines()
        .filter_map(|l| match l.strip_prefix("# TYPE ") {
            Some(declared) => declared.split(' ').next(),
            None if l.starts_with('#') => None,
            None => l.split(['{', ' ']).next(),
        })
        .map(str::to_owned)
        .collect()
}

/// Prometheus's own parser and linter must find nothing to say.
fn promtool_accepts(scrape: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian package prometheus) must be installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(scrape.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics: {}{}\n{scrape}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A one-policy report for `domain` on today's date.
fn todays_report(org: &str, id: &str, domain: &str, ok: i64, failures: &[(&str, i64)]) -> Vec<u8> {
    let today = Utc::now().date_naive();
    let failed = failures.iter().map(|(_, n)| n).sum();
    let value = report(
        org,
        id,
        &format!("{today}T00:00:00Z"),
        &format!("{today}T23:59:59Z"),
        vec![policy("sts", domain, ok, failed, failures)],
    );
    serde_json::to_vec(&value).unwrap()
}

fn the_scrape_says_what_was_ingested(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    // Files: a.example stored, the same report again (duplicate), and a broken one.
    let a = todays_report(
        "Org A",
        "a-1",
        "a.example",
        100,
        &[("starttls-not-supported", 5), ("made-up-by-a-reporter", 2)],
    );
    let files = [
        sandbox.write("in/a.json", &a),
        sandbox.write("in/a-again.json", &a),
        sandbox.write("in/broken.json", br#"{"organization-name": "Org A"}"#),
    ];
    let run = sandbox.run([OsStr::new("ingest"), files[0].as_os_str()]);
    assert_eq!(run.code, 0, "{}", run.stderr());
    let run = sandbox.run([
        OsStr::new("ingest"),
        files[1].as_os_str(),
        files[2].as_os_str(),
    ]);
    assert_eq!(run.code, 2, "a duplicate and a rejection: {}", run.stderr());

    let server = Serve::start(
        &sandbox,
        &[
            "--listen",
            "127.0.0.1:0",
            "--report-token",
            &format!("b.example={B_TOKEN}"),
            "--report-token",
            &format!("c.example={C_TOKEN}"),
            "--dashboard",
            "127.0.0.1:0",
            "--dashboard-token",
            DASHBOARD_TOKEN,
            "--metrics-listen",
            "127.0.0.1:0",
            "--metrics-max-domains",
            "2",
            "--check-interval",
            "0",
        ],
        &["listening", "dashboard", "metrics"],
    );
    let endpoint = server.address("listening");
    let json = "application/tlsrpt+json";
    let b = todays_report("Org B", "b-1", "b.example", 50, &[]);
    assert_eq!(post_report(endpoint, B_TOKEN, json, &b), 200);
    assert_eq!(post_report(endpoint, B_TOKEN, json, &b), 200, "a duplicate");
    let c = todays_report("Org C", "c-1", "c.example", 10, &[]);
    assert_eq!(post_report(endpoint, C_TOKEN, json, &c), 200);
    let broken = br#"{"organization-name": "Org B"}"#;
    assert_eq!(post_report(endpoint, B_TOKEN, json, broken), 400);
    assert_eq!(post_report(endpoint, B_TOKEN, "text/plain", &b), 415);
    assert_eq!(
        post_report(endpoint, "not-a-token-at-all-xx", json, &b),
        403
    );

    // Both places serving /metrics want the dashboard's login.
    let bearer = format!("Bearer {DASHBOARD_TOKEN}");
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("prometheus:{DASHBOARD_TOKEN}"))
    );
    for place in ["dashboard", "metrics"] {
        let address = server.address(place);
        assert_eq!(scrape(address, None).0, 401, "{place}");
        assert_eq!(scrape(address, Some("Bearer wrong")).0, 401, "{place}");
        assert_eq!(scrape(address, Some(&basic)).0, 200, "{place}");
    }
    let (status, text) = scrape(server.address("metrics"), Some(&bearer));
    assert_eq!(status, 200, "{text}");
    promtool_accepts(&text);

    // The ledger of inputs, per source and outcome.
    for (source, outcome, count) in [
        ("file", "stored", 1.0),
        ("file", "duplicate", 1.0),
        ("file", "rejected", 1.0),
        ("file", "not-report", 0.0),
        ("https", "stored", 2.0),
        ("https", "duplicate", 1.0),
        ("https", "rejected", 1.0),
        ("https", "not-report", 0.0),
    ] {
        let series = format!("tlsrpt_inputs_total{{source=\"{source}\",outcome=\"{outcome}\"}}");
        expect(&text, &series, count);
    }
    // The endpoint's answers, refusals before the store included, and the latency of
    // the three accepted posts.
    for (code, count) in [("200", 3.0), ("400", 1.0), ("403", 1.0), ("415", 1.0)] {
        let series = format!("tlsrpt_https_responses_total{{code=\"{code}\"}}");
        expect(&text, &series, count);
    }
    expect(
        &text,
        "tlsrpt_ingest_duration_seconds_count{source=\"https\"}",
        3.0,
    );
    expect(
        &text,
        "tlsrpt_ingest_duration_seconds_bucket{source=\"https\",le=\"+Inf\"}",
        3.0,
    );
    expect(
        &text,
        "tlsrpt_ingest_duration_seconds_count{source=\"imap\"}",
        0.0,
    );

    // Three domains, two labels: the busiest keep theirs, c.example is summed as _other.
    expect(&text, "tlsrpt_domains", 3.0);
    expect(&text, "tlsrpt_domains_unlabelled", 1.0);
    for (domain, result, sessions) in [
        ("a.example", "successful", 100.0),
        ("a.example", "failed", 7.0),
        ("b.example", "successful", 50.0),
        ("b.example", "failed", 0.0),
        ("_other", "successful", 10.0),
        ("_other", "failed", 0.0),
    ] {
        let series = format!("tlsrpt_reported_sessions{{domain=\"{domain}\",result=\"{result}\"}}");
        expect(&text, &series, sessions);
    }
    assert!(!text.contains("c.example"), "{text}");
    expect(
        &text,
        "tlsrpt_reported_failed_sessions{domain=\"a.example\",result_type=\"starttls-not-supported\"}",
        5.0,
    );
    expect(
        &text,
        "tlsrpt_reported_failed_sessions{domain=\"a.example\",result_type=\"other\"}",
        2.0,
    );
    let today = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp() as f64;
    for domain in ["a.example", "b.example"] {
        let series =
            format!("tlsrpt_domain_last_report_start_timestamp_seconds{{domain=\"{domain}\"}}");
        expect(&text, &series, today);
        let series =
            format!("tlsrpt_domain_last_report_received_timestamp_seconds{{domain=\"{domain}\"}}");
        let received = value(&text, &series).unwrap();
        assert!(
            (Utc::now().timestamp() as f64 - received).abs() < 600.0,
            "{series}"
        );
    }

    // The same figures from the dashboard's listener, which agrees on the database's.
    let (_, again) = scrape(server.address("dashboard"), Some(&bearer));
    expect(
        &again,
        "tlsrpt_inputs_total{source=\"https\",outcome=\"stored\"}",
        2.0,
    );
}

on_both_backends!(the_scrape_says_what_was_ingested);

/// The demo's scrape: what `tlsrpt serve --demo` shows a newcomer, and what the shipped
/// Grafana dashboard needs.
#[test]
fn the_demo_scrape_feeds_the_grafana_dashboard() {
    let sandbox = Sandbox::new();
    let server = Serve::start(
        &sandbox,
        &[
            "--demo",
            "--dashboard",
            "127.0.0.1:0",
            "--check-interval",
            "0",
        ],
        &["dashboard"],
    );
    let (status, text) = scrape(server.address("dashboard"), None);
    assert_eq!(status, 200, "{text}");
    promtool_accepts(&text);
    let scrape_file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo-metrics.txt");
    std::fs::write(&scrape_file, &text).unwrap();

    // "demo: N reports and M recorded checks for …"
    let loaded: f64 = server
        .preamble
        .split("demo: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no demo line in {}", server.preamble));
    expect(
        &text,
        "tlsrpt_inputs_total{source=\"demo\",outcome=\"stored\"}",
        loaded,
    );
    expect(
        &text,
        "tlsrpt_check_verdict{domain=\"ready.example\",verdict=\"pass\"}",
        1.0,
    );
    expect(
        &text,
        "tlsrpt_check_verdict{domain=\"ready.example\",verdict=\"fail\"}",
        0.0,
    );
    let expiry = value(
        &text,
        "tlsrpt_check_certificate_expiry_timestamp_seconds{domain=\"expiring.example\"}",
    )
    .unwrap();
    let days = (expiry - Utc::now().timestamp() as f64) / 86_400.0;
    assert!((4.0..=6.0).contains(&days), "expiring.example: {days} days");
    let failing = value(
        &text,
        "tlsrpt_reported_failed_sessions{domain=\"failing.example\",result_type=\"starttls-not-supported\"}",
    )
    .unwrap();
    assert!(failing > 0.0, "{text}");

    // Every metric the Grafana dashboard queries is in the scrape.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/grafana/tlsrpt.json"
    );
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut exprs = Vec::new();
    collect_exprs(&dashboard, &mut exprs);
    assert!(exprs.len() >= 8, "too few queries in {path}: {exprs:?}");
    let present = names(&text);
    for expr in &exprs {
        for metric in metric_names(expr) {
            assert!(
                present.contains(&metric),
                "{metric} (queried by {expr:?}) is not in the demo scrape"
            );
        }
    }
}

/// Every `expr` of the dashboard's targets and template variables' queries.
fn collect_exprs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("expr", serde_json::Value::String(expr)) => out.push(expr.clone()),
                    ("query", serde_json::Value::Object(q)) => {
                        if let Some(serde_json::Value::String(query)) = q.get("query") {
                            out.push(query.clone());
                        }
                    }
                    _ => collect_exprs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_exprs(v, out)),
        _ => {}
    }
}

/// The `tlsrpt_…` metric names in a PromQL expression.
fn metric_names(expr: &str) -> Vec<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("tlsrpt_"))
        .map(str::to_owned)
        .collect()
}

/// An IMAP watcher's scrape: the mailbox's sync state, its backlog and the latency of its
/// messages, once `serve` has taken the reports from a real Dovecot.
#[tokio::test]
async fn the_scrape_shows_the_health_of_a_watched_mailbox() {
    let dovecot = Dovecot::start();
    let mails: Vec<Vec<u8>> = (0..2)
        .map(|serial| Corpus::new(serial, 5).next(Format::Eml).bytes)
        .collect();
    dovecot.append("INBOX", &mails).await;
    let sandbox = Sandbox::new();
    let password = sandbox.write("imap-password", format!("{PASSWORD}\n").as_bytes());
    let port = dovecot.account(TlsMode::Implicit).port.to_string();
    let ca = dovecot.ca_file().display().to_string();
    let dns = crate::imap::quiet_dns().to_string();
    let server = Serve::start(
        &sandbox,
        &[
            "--imap-host",
            "localhost",
            "--imap-user",
            USER,
            "--imap-port",
            &port,
            "--imap-password-file",
            password.to_str().unwrap(),
            "--imap-ca-file",
            &ca,
            "--dkim-dns-server",
            &dns,
            "--metrics-listen",
            "127.0.0.1:0",
            "--check-interval",
            "0",
        ],
        &["metrics"],
    );
    let mailbox = format!("{USER}@localhost:{port}/INBOX");
    let waiting = format!("tlsrpt_imap_messages_waiting{{mailbox=\"{mailbox}\"}}");
    let latency = "tlsrpt_ingest_duration_seconds_count{source=\"imap\"}";
    let stored = "tlsrpt_inputs_total{source=\"imap\",outcome=\"stored\"}";
    let deadline = Instant::now() + Duration::from_secs(60);
    let text = loop {
        let (status, text) = scrape(server.address("metrics"), None);
        assert_eq!(status, 200, "{text}");
        let done = value(&text, stored) == Some(2.0)
            && value(&text, latency) == Some(2.0)
            && value(&text, &waiting) == Some(0.0);
        if done {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "the two messages were not taken in time:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    promtool_accepts(&text);
    expect(
        &text,
        &format!("tlsrpt_imap_sync_failing{{mailbox=\"{mailbox}\"}}"),
        0.0,
    );
    let synced = value(
        &text,
        &format!("tlsrpt_imap_last_sync_timestamp_seconds{{mailbox=\"{mailbox}\"}}"),
    )
    .unwrap();
    assert!(
        (Utc::now().timestamp() as f64 - synced).abs() < 600.0,
        "{text}"
    );
    assert!(
        !text.contains("tlsrpt_imap_last_error_timestamp_seconds{"),
        "{text}"
    );
}
