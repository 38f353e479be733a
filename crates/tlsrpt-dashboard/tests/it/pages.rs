//! The pages over the demo data: what a person reads on each.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;
use tlsrpt_store::{Auth, Candidate, NewInput, Raw};

use crate::support::{Backend, Demo, on_both_backends};

on_both_backends!(
    async: the_portfolio_lists_every_demo_domain_with_its_verdict,
    the_domain_page_shows_verdict_checklist_projection_and_evidence,
    a_report_opens_in_its_parsed_view_with_the_raw_json,
    rejected_inputs_and_sources_are_listed,
    report_strings_are_rendered_as_text,
    an_unknown_domain_is_not_found,
    a_cached_verdict_follows_a_new_check,
);

async fn the_portfolio_lists_every_demo_domain_with_its_verdict(backend: Backend) {
    let demo = Demo::new(backend).await;
    let page = demo.get("/").await;
    for (domain, verdict) in [
        ("enforced.example", "not-applicable"),
        ("ready.example", "ready"),
        ("expiring.example", "not-ready"),
        ("failing.example", "blocked"),
        ("stale-mx.example", "blocked"),
        ("new.example", "insufficient-data"),
    ] {
        let row = page
            .split("<tr data-domain=\"")
            .find(|row| row.starts_with(&format!("{domain}\"")))
            .unwrap_or_else(|| panic!("no row for {domain}"));
        assert!(
            row.contains(&format!("class=\"badge v-{verdict}\"")),
            "{domain} should be {verdict}: {row}"
        );
    }
    // Sorted by failure rate, largest first: the stale-MX domain fails most.
    let sorted = demo.get("/?sort=rate30&dir=desc").await;
    let first = sorted.split("<tr data-domain=\"").nth(1).unwrap();
    assert!(first.starts_with("stale-mx.example"), "{first}");
    // Filtered by verdict.
    let blocked = demo.get("/?verdict=blocked").await;
    assert_eq!(blocked.matches("<tr data-domain=").count(), 2);
    assert!(!blocked.contains("data-domain=\"ready.example\""));
}

async fn the_domain_page_shows_verdict_checklist_projection_and_evidence(backend: Backend) {
    let demo = Demo::new(backend).await;
    let page = demo.get("/domains/failing.example").await;
    assert!(page.contains("id=\"verdict\">Blocked<"), "verdict badge");
    // The checklist names the TLS failures; the projection counts them.
    assert!(page.contains("data-criterion="), "criteria rows");
    assert!(
        page.contains("starttls-not-supported"),
        "the failing result type"
    );
    let refused: u64 = page
        .split("id=\"would-refuse\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .and_then(|n| n.parse().ok())
        .expect("the would-refuse figure");
    assert!(
        refused > 0,
        "starttls failures on a policy MX would be refused"
    );
    // The daily chart has bars, and the MX table a row for the failing MX.
    assert!(page.matches("<rect class=\"rt-starttls\"").count() >= 14);
    assert!(page.contains("<tr data-mx=\"mx2.failing.example\">"));
    // The live check panel, the re-check form with its CSRF token, the history.
    assert!(page.contains("mx-starttls-missing"));
    assert!(page.contains("name=\"csrf\" value=\""));
    assert!(page.contains("id=\"changes\""));

    let stale = demo.get("/domains/stale-mx.example").await;
    assert!(stale.contains("id=\"verdict\">Blocked<"));
    assert!(stale.contains("mx-not-in-policy"));
    // The MX moved between the two demo checks: the history says so.
    assert!(stale.contains("<code>mx-added</code>") || stale.contains("<code>mx-removed</code>"));

    let ready = demo.get("/domains/ready.example").await;
    assert!(ready.contains("id=\"verdict\">Ready<"));
    // The plan gives the exact policy file to publish.
    assert!(ready.contains("mode: enforce"));
    // The forged report is stored but not counted.
    assert!(ready.contains("untrusted reports"), "the untrusted note");
}

async fn a_report_opens_in_its_parsed_view_with_the_raw_json(backend: Backend) {
    let demo = Demo::new(backend).await;
    let page = demo.get("/domains/failing.example").await;
    let link = page
        .split("href=\"/report?")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a report link")
        .replace("&amp;", "&");
    let report = demo.get(&format!("/report?{link}")).await;
    assert!(report.contains("id=\"raw-json\""));
    assert!(report.contains("&#34;organization-name&#34;") || report.contains("organization-name"));
    assert!(report.contains("sts policy for failing.example"));
}

async fn rejected_inputs_and_sources_are_listed(backend: Backend) {
    let demo = Demo::new(backend).await;
    demo.store
        .write_batch(&[NewInput {
            source: "imap",
            locator: "imap://rua@mail.example/INBOX/77".into(),
            part: Some("report.json.gz".into()),
            message_id: None,
            received_at: 1_780_000_000,
            candidate: Candidate::Rejected {
                reason: "gzip: invalid header".into(),
                raw: Some(Raw::compress(b"not gzip", 8)),
            },
        }])
        .await
        .unwrap();
    let rejected = demo.get("/rejected").await;
    assert!(rejected.contains("gzip: invalid header"));
    assert!(rejected.contains("imap://rua@mail.example/INBOX/77"));
    let sources = demo.get("/sources").await;
    assert!(sources.contains("<td>demo</td>"), "{sources}");
    assert!(sources.contains("<td>imap</td>"));
    // Both pages export as tables; CSV cells cannot start a formula.
    let csv = demo.get("/export/rejected.csv").await;
    assert!(csv.starts_with("id,received,source,locator,part,outcome,reason,size\r\n"));
    assert!(csv.contains("gzip: invalid header"), "{csv}");
    let markdown = demo.get("/export/sources.md").await;
    assert!(markdown.contains("| demo |"), "{markdown}");
    let json: serde_json::Value =
        serde_json::from_str(&demo.get("/export/sources.json").await).unwrap();
    assert!(
        json.as_array()
            .unwrap()
            .iter()
            .any(|row| row["source"] == "imap")
    );
}

async fn report_strings_are_rendered_as_text(backend: Backend) {
    let demo = Demo::new(backend).await;
    let hostile = json!({
        "organization-name": "<script>alert('org')</script>",
        "date-range": {"start-datetime": chrono::Utc::now().date_naive().pred_opt().unwrap().and_hms_opt(0,0,0).unwrap().and_utc().to_rfc3339(),
                       "end-datetime": chrono::Utc::now().date_naive().and_hms_opt(0,0,0).unwrap().and_utc().to_rfc3339()},
        "contact-info": "=HYPERLINK(\"http://evil.example\")",
        "report-id": "<img src=x onerror=alert(1)>",
        "policies": [{
            "policy": {"policy-type": "sts", "policy-domain": "ready.example",
                       "policy-string": ["version: STSv1", "mode: <b>enforce</b>"]},
            "summary": {"total-successful-session-count": 1, "total-failure-session-count": 1},
            "failure-details": [{"result-type": "<svg onload=alert(2)>", "failed-session-count": 1,
                                 "failure-reason-code": "\"><script>alert(3)</script>",
                                 "receiving-mx-hostname": "<iframe src=//evil>"}]
        }]
    })
    .to_string();
    let report =
        tlsrpt_report::parse(hostile.as_bytes(), &tlsrpt_report::Limits::default()).unwrap();
    demo.store
        .write_batch(&[NewInput {
            source: "file",
            locator: "hostile.json".into(),
            part: None,
            message_id: None,
            received_at: 1_780_000_000,
            candidate: Candidate::Report {
                report: Box::new(report),
                raw_json: Raw::compress(hostile.as_bytes(), hostile.len() as u64),
                auth: Auth::Operator,
            },
        }])
        .await
        .unwrap();
    let page = demo.get("/domains/ready.example").await;
    for raw in [
        "<script>alert",
        "<img src=x",
        "<svg onload",
        "<iframe",
        "<b>enforce",
    ] {
        assert!(!page.contains(raw), "unescaped {raw} on the domain page");
    }
    assert!(
        page.contains("&#60;script&#62;alert("),
        "the organisation shows as text"
    );
    let report = demo
        .get("/report?org=%3Cscript%3Ealert(%27org%27)%3C%2Fscript%3E&id=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
        .await;
    for raw in ["<script>alert", "<img src=x", "<svg onload", "<iframe"] {
        assert!(!report.contains(raw), "unescaped {raw} on the report page");
    }
    let (_, headers, _) = demo
        .send(Request::get("/").body(Body::empty()).unwrap())
        .await;
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
}

async fn an_unknown_domain_is_not_found(backend: Backend) {
    let demo = Demo::new(backend).await;
    let (status, _, body) = demo
        .send(
            Request::get("/domains/nothing-here.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("no report and no check"));
}

async fn a_cached_verdict_follows_a_new_check(backend: Backend) {
    let demo = Demo::new(backend).await;
    let row = |page: &str, domain: &str| {
        page.split("<tr data-domain=\"")
            .find(|row| row.starts_with(&format!("{domain}\"")))
            .unwrap()
            .to_owned()
    };
    let page = demo.get("/").await;
    assert!(row(&page, "ready.example").contains("v-ready"));
    let cached = demo.store.cached_assessments(true).await.unwrap();
    assert_eq!(cached.len(), 6, "every verdict is cached after one view");

    // A new live check finds the MX without STARTTLS: the next view says so, although
    // the cached verdict was computed earlier today.
    let mut check = tlsrpt_dashboard::demo::checks(chrono::Utc::now())
        .into_iter()
        .rev()
        .find(|c| c.domain == "ready.example")
        .unwrap();
    check.checked_at = chrono::Utc::now() + chrono::Duration::seconds(1);
    for probe in &mut check.mx.hosts[0].addresses {
        probe.starttls_offered = Some(false);
        probe.tls = None;
    }
    check.findings.push(tlsrpt_check::Finding {
        section: tlsrpt_check::Section::Mx,
        code: tlsrpt_check::Code::MxStarttlsMissing,
        severity: tlsrpt_check::Severity::Error,
        message: "mx1.ready.example does not offer STARTTLS.".into(),
        advice: "Enable STARTTLS.".into(),
    });
    check.verdict = tlsrpt_check::Verdict::Fail;
    tlsrpt_watch::record(&demo.store, &check).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let page = demo.get("/").await;
    assert!(
        row(&page, "ready.example").contains("v-blocked"),
        "{}",
        row(&page, "ready.example")
    );
}
