//! The text of alert email: the subject line, and a body (plain text, and the same as a
//! small HTML page) with the title, the domain, the evidence as readable lines, and the
//! dashboard links.

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

/// The heading of a message: the title, marked when resolved.
fn heading(delivery: &PendingDelivery) -> String {
    if delivery.event == EVENT_RESOLVED {
        format!("Resolved: {}", delivery.alert.title)
    } else {
        delivery.alert.title.clone()
    }
}

/// The facts shown under the heading, as (label, value).
fn facts(alert: &StoredAlert) -> Vec<(&'static str, String)> {
    let rule = if alert.subject.is_empty() {
        alert.rule.clone()
    } else {
        format!("{} ({})", alert.rule, alert.subject)
    };
    let mut facts = vec![
        ("Domain", alert.domain.clone()),
        ("Rule", rule),
        ("Severity", alert.severity.clone()),
        ("Opened", when(alert.opened_at)),
    ];
    facts.push(match alert.resolved_at {
        Some(resolved) => ("Resolved", when(resolved)),
        None => ("Last seen", when(alert.last_seen_at)),
    });
    facts
}

fn footer(delivery: &PendingDelivery) -> String {
    format!(
        "tlsrpt alert {} ({}, notification {})",
        delivery.alert.id, delivery.event, delivery.id
    )
}

/// The plain-text body.
pub fn text_body(delivery: &PendingDelivery, links: Option<&Links>) -> String {
    let alert = &delivery.alert;
    let mut text = String::new();
    let _ = writeln!(text, "{}\n", heading(delivery));
    for (label, value) in facts(alert) {
        let _ = writeln!(text, "{:<11}{value}", format!("{label}:"));
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
    let _ = writeln!(text, "\n-- \n{}", footer(delivery));
    text
}

/// The same as [`text_body`], as a small HTML page (everything from the alert escaped).
pub fn html_body(delivery: &PendingDelivery, links: Option<&Links>) -> String {
    let alert = &delivery.alert;
    let mut html =
        String::from("<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif\">\n");
    let _ = writeln!(html, "<h2>{}</h2>\n<table>", escape(&heading(delivery)));
    for (label, value) in facts(alert) {
        let _ = writeln!(
            html,
            "<tr><th align=\"left\">{label}</th><td>{}</td></tr>",
            escape(&value)
        );
    }
    html.push_str("</table>\n");
    let lines = evidence_lines(&alert.evidence);
    if !lines.is_empty() {
        html.push_str("<h3>Evidence</h3>\n<ul>\n");
        for line in lines {
            let _ = writeln!(html, "<li>{}</li>", escape(&line));
        }
        html.push_str("</ul>\n");
    }
    if let Some(links) = links {
        let _ = writeln!(
            html,
            "<p><a href=\"{}\">Open the alert in the dashboard</a> &middot; \
             <a href=\"{}\">{}</a></p>",
            escape(&links.alert),
            escape(&links.domain),
            escape(&alert.domain)
        );
    }
    let _ = writeln!(
        html,
        "<p style=\"color: gray\">{}</p>\n</body></html>",
        escape(&footer(delivery))
    );
    html
}

fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
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
    fn html_escapes_what_the_alert_says() {
        assert_eq!(
            escape(r#"<b>"mx" & 'co'</b>"#),
            "&lt;b&gt;&quot;mx&quot; &amp; &#39;co&#39;&lt;/b&gt;"
        );
    }

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
