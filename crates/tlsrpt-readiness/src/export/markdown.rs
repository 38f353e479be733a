//! Markdown export (CommonMark with GFM tables), for a ticket or a client email. Every
//! string from a report or a DNS answer is escaped so that it renders as the text it is:
//! no HTML, no link, no emphasis, no table cell break.

use std::fmt::Write;

use crate::assessment::{Assessment, Breakdown};
use crate::live::time;
use crate::projection::percent;

/// At most this many rows per breakdown table.
const MAX_ROWS: usize = 10;

/// The assessments as one Markdown document, one top-level section per domain.
pub fn to_markdown(assessments: &[Assessment]) -> String {
    let mut out = String::new();
    if assessments.len() > 1 {
        out.push_str("# MTA-STS readiness\n\n");
        out.push_str("| Domain | Verdict | Headline |\n|---|---|---|\n");
        for a in assessments {
            let _ = writeln!(
                out,
                "| {} | **{}** | {} |",
                text(&a.domain),
                a.verdict,
                text(&a.headline)
            );
        }
        out.push('\n');
    }
    let level = if assessments.len() > 1 { "##" } else { "#" };
    for a in assessments {
        domain(&mut out, a, level);
    }
    out
}

fn domain(out: &mut String, a: &Assessment, h: &str) {
    let _ = writeln!(out, "{h} MTA-STS readiness: {}\n", text(&a.domain));
    let _ = writeln!(out, "**Verdict: {}.** {}\n", a.verdict, text(&a.headline));
    let w = &a.window;
    let _ = writeln!(
        out,
        "- Window: {} to {} ({} days{})",
        w.since,
        w.until,
        w.days,
        if w.widened {
            ", widened to reach enough reporters"
        } else {
            ""
        }
    );
    let lc = &a.live_check;
    let _ = writeln!(
        out,
        "- Live check: {}{}{}{}",
        lc.status.as_str(),
        lc.checked_at
            .map(|t| format!(", {}", time(t)))
            .unwrap_or_default(),
        lc.mode
            .as_deref()
            .map(|m| format!(", mode {}", text(m)))
            .unwrap_or_default(),
        lc.policy_id
            .as_deref()
            .map(|id| format!(", id {}", text(id)))
            .unwrap_or_default(),
    );
    if let Some(e) = &a.ready_estimate {
        let _ = writeln!(out, "- Estimate: {}", text(e));
    }
    let _ = writeln!(out, "- Generated: {}\n", time(a.generated_at));

    let _ = writeln!(out, "{h}# Criteria\n");
    out.push_str("| Status | Criterion | Summary |\n|---|---|---|\n");
    for c in &a.criteria {
        let _ = writeln!(
            out,
            "| {} | `{}` {} | {} |",
            c.status.as_str().to_ascii_uppercase(),
            c.id,
            c.id.title(),
            text(&c.summary)
        );
    }
    out.push('\n');
    let with_evidence: Vec<_> = a
        .criteria
        .iter()
        .filter(|c| !c.evidence.is_empty())
        .collect();
    if !with_evidence.is_empty() {
        let _ = writeln!(out, "{h}# Evidence\n");
        for c in with_evidence {
            let _ = writeln!(out, "- `{}`", c.id);
            for e in &c.evidence {
                let _ = writeln!(out, "  - {}", text(e));
            }
        }
        out.push('\n');
    }

    projection(out, a, h);
    policies(out, a, h);

    let _ = writeln!(out, "{h}# Plan\n");
    if a.plan.is_empty() {
        out.push_str("Nothing to do.\n\n");
    }
    for s in &a.plan {
        let _ = writeln!(
            out,
            "{}. **{}**: {}",
            s.order,
            text(&s.title),
            text(&s.detail)
        );
        if let Some(t) = &s.text {
            code_block(out, t, "   ");
        }
    }
    out.push('\n');
}

fn projection(out: &mut String, a: &Assessment, h: &str) {
    let p = &a.projection;
    let _ = writeln!(out, "{h}# What enforce would have done\n");
    let _ = writeln!(out, "- Sessions reported: {}", p.total_sessions);
    let _ = writeln!(
        out,
        "- Would have been refused (TLS-negotiation failures against MX hosts the policy covers): {} ({})",
        p.would_refuse_sessions,
        percent(p.would_refuse_share)
    );
    let _ = writeln!(
        out,
        "- Unprotected (the sender could not fetch or use the policy): {} ({})",
        p.unprotected_sessions,
        percent(p.unprotected_share)
    );
    let _ = writeln!(
        out,
        "- Other failures (DANE, unknown result types, hosts outside the policy): {}\n",
        p.other_failed_sessions
    );
    breakdown(out, "Reporter", &p.by_reporter);
    breakdown(out, "Receiving MX", &p.by_mx);
    breakdown(out, "Sending IP", &p.by_sending_ip);
}

fn breakdown(out: &mut String, label: &str, rows: &[Breakdown]) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "| {label} | Would refuse | Unprotected | Share |\n|---|---:|---:|---:|"
    );
    for b in rows.iter().take(MAX_ROWS) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            text(&b.key),
            b.would_refuse_sessions,
            b.unprotected_sessions,
            percent(b.share)
        );
    }
    if rows.len() > MAX_ROWS {
        let _ = writeln!(out, "| ... {} more | | | |", rows.len() - MAX_ROWS);
    }
    out.push('\n');
}

fn policies(out: &mut String, a: &Assessment, h: &str) {
    let c = &a.policy_comparison;
    if c.live.is_none() && c.seen.is_empty() {
        return;
    }
    let _ = writeln!(out, "{h}# Policies seen by reporters\n");
    if let Some(live) = &c.live {
        out.push_str("The live policy:\n");
        code_block(out, &live.join("\n"), "");
    }
    for s in &c.seen {
        let verdict = match s.matches_live {
            Some(true) => "same as the live policy",
            Some(false) => "differs from the live policy",
            None => "not compared",
        };
        let _ = writeln!(
            out,
            "- {}: {} to {}, {} session(s), {verdict}{}",
            text(&s.organization),
            s.first_seen,
            s.last_seen,
            s.sessions,
            if s.latest { " (latest)" } else { "" }
        );
        for l in &s.only_seen {
            let _ = writeln!(out, "  - only seen: {}", text(l));
        }
        for l in &s.only_live {
            let _ = writeln!(out, "  - only live: {}", text(l));
        }
    }
    out.push('\n');
}

/// A fenced code block, its fence longer than any backtick run inside.
fn code_block(out: &mut String, body: &str, indent: &str) {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let _ = writeln!(out, "\n{indent}{fence}");
    for line in body.trim_end_matches('\n').lines() {
        let _ = writeln!(out, "{indent}{line}");
    }
    let _ = writeln!(out, "{indent}{fence}\n");
}

/// Inline text: one line, with every character that Markdown or inline HTML could read as
/// markup escaped by a backslash.
pub(crate) fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // `1. `, `1) `, `- ` or `+ ` at the start would open a list item.
    let blank_at = |i: usize| matches!(s.as_bytes().get(i), None | Some(b' ' | b'\t'));
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let ordered =
        digits > 0 && matches!(s.as_bytes().get(digits), Some(b'.' | b')')) && blank_at(digits + 1);
    let bullet = s.starts_with(['-', '+']) && blank_at(1);
    for (i, ch) in s.chars().enumerate() {
        match ch {
            '\r' | '\n' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '~' | '!' | '#' | '$' => {
                out.push('\\');
                out.push(ch);
            }
            '-' | '+' if bullet && i == 0 => {
                out.push('\\');
                out.push(ch);
            }
            // A line of `=` under text would turn it into a heading.
            '=' if i == 0 => {
                out.push('\\');
                out.push(ch);
            }
            '.' | ')' if ordered && i == digits => {
                out.push('\\');
                out.push(ch);
            }
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            text("<script>alert(1)</script>"),
            "\\<script\\>alert(1)\\</script\\>"
        );
        assert_eq!(text("[x](javascript:y)"), "\\[x\\](javascript:y)");
        assert_eq!(text("a|b\nc"), "a\\|b c");
        assert_eq!(text("- item"), "\\- item");
        assert_eq!(text("1. item"), "1\\. item");
        assert_eq!(
            text("12 sessions at mx-1.example.com"),
            "12 sessions at mx-1.example.com"
        );
    }
}
