//! The dashboard in a real headless Chromium: `tlsrpt serve --demo` as a user starts it,
//! each page loaded and read as a person reads it, a sort header, "re-check now" and an
//! alert's acknowledge and snooze buttons clicked. Screenshots are kept under the target
//! directory as test artefacts.

use std::path::PathBuf;
use std::process::Child;

use tlsrpt_testkit::browser::Browser;
use tlsrpt_testkit::dns::{BackgroundDns, Zone};

use crate::support::{Backend, Sandbox, drain, spawn_until};

/// A running `tlsrpt serve --demo`, killed on drop.
struct Dashboard {
    child: Child,
    url: String,
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `serve --demo` on a free port, its live checks asking `dns` (a loopback server
/// that knows none of the demo domains: the closed network has no internet).
fn start(sandbox: &Sandbox, dns: &BackgroundDns) -> Dashboard {
    let mut command = sandbox.command();
    command
        .args(["serve", "--demo", "--dashboard", "127.0.0.1:0"])
        .arg("--dns-server")
        .arg(dns.addr.to_string())
        .arg("--allow-private-addresses");
    let (child, line, stderr) = spawn_until(&mut command, "dashboard on ");
    drain(stderr);
    let url = line
        .split("dashboard on ")
        .nth(1)
        .unwrap()
        .trim()
        .to_owned();
    Dashboard { child, url }
}

fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
}

#[tokio::test]
async fn a_person_reads_the_demo_dashboard_in_chromium() {
    let sandbox = Sandbox::on(Backend::Sqlite);
    let dns = BackgroundDns::start(Zone::default());
    let server = start(&sandbox, &dns);
    let browser = Browser::start().await;
    let shots = screenshots();

    // The portfolio: every demo domain, each with its verdict and a sparkline.
    browser.open(&format!("{}/", server.url)).await;
    let text = browser.text().await;
    for needle in [
        "ready.example",
        "stale-mx.example",
        "enforced.example",
        "new.example",
        "Ready",
        "Blocked",
        "Insufficient data",
        "Not applicable",
    ] {
        assert!(
            text.contains(needle),
            "the portfolio shows {needle}: {text}"
        );
    }
    assert_eq!(browser.count("tr[data-domain]").await, 6);
    assert_eq!(browser.count("svg.spark polyline").await, 6);
    let portfolio = browser.screenshot(&shots, "portfolio").await;

    // Sorting by the 30-day failure rate, largest first: the stale-MX domain comes first.
    browser.click("th a[data-sort=\"rate30\"]").await;
    browser.wait_for("th a.sorted[data-sort=\"rate30\"]").await;
    let first = browser.attr("tbody tr[data-domain]", "data-domain").await;
    assert_eq!(first.as_deref(), Some("stale-mx.example"));
    assert!(browser.url().await.contains("sort=rate30"));

    // A domain page: the verdict, the checklist, the chart, the MX table.
    browser
        .open(&format!("{}/domains/failing.example", server.url))
        .await;
    let text = browser.text().await;
    assert!(text.contains("Blocked"), "{text}");
    assert!(text.contains("What would enforce have done?"));
    assert!(text.contains("starttls-not-supported"));
    assert!(
        browser.count("#daily-chart rect").await >= 14,
        "one bar a day"
    );
    assert!(
        browser.count("#daily-chart rect.rt-starttls").await >= 13,
        "failures stacked"
    );
    assert_eq!(
        browser
            .count("#by-mx-sessions tr[data-mx=\"mx2.failing.example\"]")
            .await,
        1
    );
    let domain = browser.screenshot(&shots, "domain-failing").await;

    // Re-check now: the live check runs against the closed network, which does not know
    // the demo domain, and the page says so.
    browser
        .open(&format!("{}/domains/ready.example", server.url))
        .await;
    assert!(browser.text().await.contains("Ready"));
    let before = browser.text_of("#checked-at").await;
    browser.click("#recheck").await;
    browser.wait_for("#flash").await;
    let after_text = browser.text().await;
    assert!(
        after_text.contains("Checked just now"),
        "the flash after re-checking: {after_text}"
    );
    let after = browser.text_of("#checked-at").await;
    assert_ne!(before, after, "the live check panel shows the new check");
    assert!(after_text.contains("sts-record-missing"), "{after_text}");
    assert!(
        after_text.contains("sts-record-disappeared"),
        "the change history"
    );
    let rechecked = browser.screenshot(&shots, "domain-rechecked").await;

    // The printable readiness page.
    browser
        .open(&format!(
            "{}/export/readiness.html?domain=expiring.example",
            server.url
        ))
        .await;
    assert!(browser.text().await.contains("expiring.example"));
    let printable = browser.screenshot(&shots, "readiness-printable").await;

    // The alerts the rules raised on the demo data (serve evaluates them at start): an
    // expiring certificate acknowledged, then snoozed, with the buttons a person uses.
    let mut found = 0;
    for _ in 0..50 {
        browser.open(&format!("{}/alerts", server.url)).await;
        found = browser.count("tr[data-rule=\"cert-expiring\"]").await;
        if found > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(found, 1, "the demo's expiring certificate raised one alert");
    let text = browser.text().await;
    assert!(
        text.contains("expiring.example: the certificate of mx2.expiring.example expires in"),
        "{text}"
    );
    assert!(
        text.contains("stale-mx.example: MX inbound.new-provider.example is not covered"),
        "{text}"
    );
    let alerts = browser.screenshot(&shots, "alerts").await;
    browser
        .click("tr[data-rule=\"cert-expiring\"] button.ack")
        .await;
    browser.wait_for("#flash").await;
    let acked = browser.text().await;
    assert!(acked.contains("Acknowledged."), "{acked}");
    assert!(acked.contains("acknowledged by dashboard"), "{acked}");
    assert_eq!(browser.count("button.ack").await, 0, "acknowledged once");
    browser.click("button.snooze").await;
    browser.wait_for("#state").await;
    let snoozed = browser.text_of("#state").await;
    assert!(snoozed.contains("snoozed until"), "{snoozed}");
    assert!(browser.text().await.contains("Snoozed."));

    for shot in [&portfolio, &domain, &rechecked, &printable, &alerts] {
        let size = std::fs::metadata(shot).unwrap().len();
        assert!(size > 10_000, "{} is a real screenshot", shot.display());
        eprintln!("screenshot: {}", shot.display());
    }
    browser.close().await;
}

#[tokio::test]
async fn a_hostile_organisation_name_renders_as_text_in_chromium() {
    let sandbox = Sandbox::on(Backend::Sqlite);
    let dns = BackgroundDns::start(Zone::default());
    let report = crate::support::simple_report(
        "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">",
        "xss-1",
        "ready.example",
        10,
    );
    let path = sandbox.write("xss.json", &report);
    let ingested = sandbox.run([std::ffi::OsStr::new("ingest"), path.as_os_str()]);
    assert_eq!(ingested.code, 0, "{}", ingested.stderr());
    let server = start(&sandbox, &dns);
    let browser = Browser::start().await;
    browser
        .open(&format!("{}/domains/ready.example", server.url))
        .await;
    let title = browser.title().await;
    assert_ne!(title, "pwned", "a script from a report ran");
    let text = browser.text().await;
    assert!(
        text.contains("<script>document.title='pwned'</script>"),
        "the organisation name shows as text: {text}"
    );
    assert_eq!(browser.count("img[src=x]").await, 0);
    browser.close().await;
}
