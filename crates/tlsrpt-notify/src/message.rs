//! The text of alert email: the subject line, and a plain-text body with the title, the
//! domain, the evidence as readable lines, and the dashboard links.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tlsrpt_store::{EVENT_RESOLVED, PendingDelivery, StoredAlert};

use crate::payload::Links;

/// `[tlsrpt] warning: mx1.example.com's certificate expires in 5 days (example.com)`, or
/// `[tlsrpt] resolved: …` for a resolution.
pub fn subject(event: &str, alert: &StoredAlert) -> String {
    let label = if event == EVENT_RESOLVED {
        "resolved"
    } else {
        alert.severity.as_str()
    };
    let subject = format!("[tlsrpt] {label}: {} ({})", alert.title, alert.domain);
    // One line, whatever the rule put in its title.
    subject.replace(['\r', '\n'], " ")
}

/// The plain-text body.
pub fn text_body(delivery: &PendingDelivery, links: Option<&Links>) -> String {
    let alert = &delivery.alert;
    let mut text = String::new();
    let heading = if delivery.event == EVENT_RESOLVED {
        format!("Resolved: {}", alert.title)
    } else {
        alert.title.clone()
    };
    let _ = writeln!(text, "{heading}\n");
    let _ = writeln!(text, "Domain:    {}", alert.domain);
    let rule = if alert.subject.is_empty() {
        alert.rule.clone()
    } else {
        format!("{} ({})", alert.rule, alert.subject)
    };
    let _ = writeln!(text, "Rule:      {rule}");
    let _ = writeln!(text, "Severity:  {}", alert.severity);
    let _ = writeln!(text, "Opened:    {}", when(alert.opened_at));
    if let Some(resolved) = alert.resolved_at {
        let _ = writeln!(text, "Resolved:  {}", when(resolved));
    } else {
        let _ = writeln!(text, "Last seen: {}", when(alert.last_seen_at));
    }
    let lines = evidence_lines(&alert.evidence);
    if !lines.is_empty() {
        let _ = writeln!(text, "\nEvidence:");
        for line in lines {
            let _ = writeln!(text, "  {line}");
        }
    }
    if let Some(links) = links {
        let _ = writeln!(text, "\nAlert:  {}", links.alert);
        let _ = writeln!(text, "Domain: {}", links.domain);
    }
    let _ = write!(
        text,
        "\n-- \ntlsrpt alert {} ({}, notification {})\n",
        alert.id, delivery.event, delivery.id
    );
    text
}

/// The evidence as `key: value` lines; nested objects as `outer.inner: value`, lists of
/// plain values joined with commas.
pub fn evidence_lines(evidence: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    flatten("", evidence, &mut lines);
    lines
}

fn flatten(prefix: &str, value: &Value, lines: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&key, inner, lines);
            }
        }
        Value::Null if prefix.is_empty() => {}
        other => {
            let shown = plain(other);
            lines.push(if prefix.is_empty() {
                shown
            } else {
                format!("{prefix}: {shown}")
            });
        }
    }
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "none".to_owned(),
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            items.iter().map(plain).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}

fn when(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn evidence_reads_as_lines() {
        let evidence = json!({
            "days_left": 5,
            "not_after": "2026-05-06T00:00:00Z",
            "hosts": ["mx1.example.com", "mx2.example.com"],
            "window": { "failed": 12, "rate": 0.25 },
            "details": [{ "a": 1 }],
        });
        assert_eq!(
            evidence_lines(&evidence),
            [
                "days_left: 5",
                r#"details: [{"a":1}]"#,
                "hosts: mx1.example.com, mx2.example.com",
                "not_after: 2026-05-06T00:00:00Z",
                "window.failed: 12",
                "window.rate: 0.25",
            ]
        );
        assert!(evidence_lines(&Value::Null).is_empty());
        assert_eq!(evidence_lines(&json!("plain text")), ["plain text"]);
    }
}
