//! The JSON and text forms of a report, as `tlsrpt check` prints them.

use tlsrpt_check::DomainReport;

use crate::support::{Cert, Scenario, Smtp, pki};

async fn failing_report() -> DomainReport {
    let mut s = Scenario::good("output.test");
    s.smtp(
        "mx1.output.test",
        Smtp::StartTls(pki().leaf("mx1.output.test", &Cert::Expired)),
    );
    s.run().await
}

#[tokio::test]
async fn json_has_records_policy_mx_tls_and_findings() {
    let report = failing_report().await;
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["domain"], "output.test");
    assert_eq!(json["verdict"], "fail");
    assert_eq!(json["sts_record"]["txt"][0], "v=STSv1; id=20250101T000000");
    assert_eq!(json["sts_record"]["record"]["id"], "20250101T000000");
    assert_eq!(json["policy"]["http_status"], 200);
    assert_eq!(json["policy"]["policy"]["mode"], "enforce");
    assert_eq!(json["policy"]["policy"]["mx"][0]["text"], "mx1.output.test");
    let probe = &json["mx"]["hosts"][0]["addresses"][0];
    assert_eq!(probe["starttls_offered"], true);
    assert_eq!(probe["tls"]["version"], "TLSv1.3");
    assert_eq!(probe["tls"]["certificate"]["chain_trusted"], true);
    assert_eq!(probe["tls"]["certificate"]["name_matches"], true);
    assert!(probe["tls"]["certificate"]["not_after"].is_string());
    assert_eq!(
        json["tlsrpt"]["record"]["rua"][0],
        "mailto:tlsrpt@output.test"
    );
    let finding = &json["findings"][0];
    assert_eq!(finding["code"], "mx-cert-expired");
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["section"], "mx");
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("mx1.output.test at 127.30.")
    );
    assert!(finding["advice"].as_str().unwrap().contains("Renew"));
}

#[tokio::test]
async fn text_groups_by_record_under_a_verdict_line() {
    let report = failing_report().await;
    let text = report.to_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "output.test: FAIL (1 error, 0 warnings)");
    let sts = text.find("_mta-sts TXT record").unwrap();
    let policy = text.find("\n  policy").unwrap();
    let mx = text.find("MX hosts").unwrap();
    let finding = text.find("error   mx-cert-expired").unwrap();
    let tlsrpt = text.find("_smtp._tls TLS-RPT record").unwrap();
    assert!(
        sts < policy && policy < mx && mx < finding && finding < tlsrpt,
        "{text}"
    );
    assert!(text.contains("mode: enforce, max_age: 604800, mx: mx1.output.test"));
}

#[tokio::test]
async fn a_stored_json_report_loads_back_unchanged() {
    let report = failing_report().await;
    let json = serde_json::to_string(&report).unwrap();
    let back: DomainReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
    assert!(back.policy.as_ref().unwrap().body.is_some());
    assert!(back.mx.hosts[0].addresses[0].tls.is_some());
}
