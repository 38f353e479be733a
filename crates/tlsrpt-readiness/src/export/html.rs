//! HTML export: one complete, printable page with inline CSS, no script and no external
//! asset. Every string is HTML-escaped, numbers included, so report text renders as text.

use std::fmt::Write;

use crate::assessment::{Assessment, Breakdown, Status, Verdict};
use crate::live::time;
use crate::projection::percent;

const STYLE: &str = "\
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d1d1f;margin:2em auto;max-width:60em;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.35em;margin-top:2em;border-bottom:2px solid #ccc}h3{font-size:1.1em;margin-top:1.5em}
table{border-collapse:collapse;width:100%;margin:.5em 0 1em}th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}
.verdict{display:inline-block;white-space:nowrap;padding:.1em .6em;border-radius:.3em;font-weight:bold;color:#fff}
.ready{background:#1a7f37}.not-ready{background:#b35900}.insufficient-data{background:#6e7781}.blocked{background:#cf222e}.not-applicable{background:#0969da}
.pass{color:#1a7f37;font-weight:bold}.warn{color:#9a6700;font-weight:bold}.fail{color:#cf222e;font-weight:bold}
pre{background:#f6f8fa;border:1px solid #ddd;padding:.6em;white-space:pre-wrap;word-break:break-all}
ul.evidence{margin:.3em 0 0;padding-left:1.2em;color:#444}
.bars td{border:none;padding:1px 4px}.bar{height:.9em;background:#8c959f}.bar.r{background:#cf222e}.bar.u{background:#bf8700}
del{color:#cf222e}ins{color:#1a7f37}
@media print{body{margin:0;max-width:none}section.domain{break-before:page}section.domain:first-of-type{break-before:auto}}
";

/// The assessments as one standalone HTML page.
pub fn to_html(assessments: &[Assessment]) -> String {
    let title = match assessments {
        [one] => format!("MTA-STS readiness: {}", one.domain),
        _ => "MTA-STS readiness".to_owned(),
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&title)
    );
    if assessments.len() > 1 {
        out.push_str("<table><thead><tr><th>Domain</th><th>Verdict</th><th>Headline</th></tr></thead><tbody>\n");
        for a in assessments {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&a.domain),
                verdict(a.verdict),
                esc(&a.headline)
            );
        }
        out.push_str("</tbody></table>\n");
    }
    for a in assessments {
        domain(&mut out, a, assessments.len() > 1);
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn domain(out: &mut String, a: &Assessment, many: bool) {
    out.push_str("<section class=\"domain\">\n");
    if many {
        let _ = writeln!(out, "<h2>{}</h2>", esc(&a.domain));
    }
    let _ = writeln!(out, "<p>{} {}</p>", verdict(a.verdict), esc(&a.headline));
    let w = &a.window;
    let lc = &a.live_check;
    out.push_str("<table>\n");
    row(
        out,
        "Window",
        &format!(
            "{} to {} ({} days{})",
            w.since,
            w.until,
            w.days,
            if w.widened { ", widened" } else { "" }
        ),
    );
    let mut live = lc.status.as_str().to_owned();
    if let Some(t) = lc.checked_at {
        live.push_str(&format!(", {}", time(t)));
    }
    if let Some(m) = &lc.mode {
        live.push_str(&format!(", mode {m}"));
    }
    if let Some(id) = &lc.policy_id {
        live.push_str(&format!(", id {id}"));
    }
    row(out, "Live check", &live);
    if let Some(e) = &a.ready_estimate {
        row(out, "Estimate", e);
    }
    row(out, "Generated", &time(a.generated_at));
    out.push_str("</table>\n");

    out.push_str("<h3>Criteria</h3>\n<table><thead><tr><th>Status</th><th>Criterion</th><th>Summary and evidence</th></tr></thead><tbody>\n");
    for c in &a.criteria {
        let _ = write!(
            out,
            "<tr><td class=\"{s}\">{s}</td><td><code>{}</code><br>{}</td><td>{}",
            esc(c.id.as_str()),
            esc(c.id.title()),
            esc(&c.summary),
            s = status(c.status)
        );
        if !c.evidence.is_empty() {
            out.push_str("<ul class=\"evidence\">");
            for e in &c.evidence {
                let _ = write!(out, "<li>{}</li>", esc(e));
            }
            out.push_str("</ul>");
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody></table>\n");

    projection(out, a);
    policies(out, a);

    out.push_str("<h3>Plan</h3>\n");
    if a.plan.is_empty() {
        out.push_str("<p>Nothing to do.</p>\n");
    } else {
        out.push_str("<ol>\n");
        for s in &a.plan {
            let _ = write!(
                out,
                "<li><strong>{}</strong><p>{}</p>",
                esc(&s.title),
                esc(&s.detail)
            );
            if let Some(t) = &s.text {
                let _ = write!(out, "<pre>{}</pre>", esc(t));
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</section>\n");
}

fn projection(out: &mut String, a: &Assessment) {
    let p = &a.projection;
    out.push_str("<h3>What enforce would have done</h3>\n<table>\n");
    row(out, "Sessions reported", &p.total_sessions.to_string());
    row(
        out,
        "Would have been refused",
        &format!(
            "{} ({})",
            p.would_refuse_sessions,
            percent(p.would_refuse_share)
        ),
    );
    row(
        out,
        "Unprotected (policy fetch failed)",
        &format!(
            "{} ({})",
            p.unprotected_sessions,
            percent(p.unprotected_share)
        ),
    );
    row(
        out,
        "Other failures (DANE, unknown, outside the policy)",
        &p.other_failed_sessions.to_string(),
    );
    out.push_str("</table>\n");

    // A bar per day, scaled to the busiest day: grey for all sessions, red for refused,
    // amber for unprotected.
    let busiest = p
        .by_day
        .iter()
        .map(|d| d.successful_sessions.saturating_add(d.failed_sessions))
        .max()
        .unwrap_or(0);
    if busiest > 0 {
        out.push_str("<table class=\"bars\" aria-label=\"Sessions per day\"><tbody>\n");
        for d in &p.by_day {
            let total = d.successful_sessions.saturating_add(d.failed_sessions);
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"n\">{}</td><td style=\"width:70%\">{}{}{}</td></tr>",
                d.day,
                total,
                bar("", total, busiest),
                bar(" r", d.would_refuse_sessions, busiest),
                bar(" u", d.unprotected_sessions, busiest),
            );
        }
        out.push_str("</tbody></table>\n");
    }
    breakdown(out, "Reporter", &p.by_reporter);
    breakdown(out, "Receiving MX", &p.by_mx);
    breakdown(out, "Sending IP", &p.by_sending_ip);
}

fn bar(class: &str, value: u64, max: u64) -> String {
    if value == 0 {
        return String::new();
    }
    let width = (crate::projection::share(value, max) * 100.0).clamp(0.5, 100.0);
    format!("<div class=\"bar{class}\" style=\"width:{width:.1}%\"></div>")
}

fn breakdown(out: &mut String, label: &str, rows: &[Breakdown]) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<table><thead><tr><th>{}</th><th>Would refuse</th><th>Unprotected</th><th>Share</th></tr></thead><tbody>",
        esc(label)
    );
    for b in rows {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&b.key),
            b.would_refuse_sessions,
            b.unprotected_sessions,
            esc(&percent(b.share))
        );
    }
    out.push_str("</tbody></table>\n");
}

fn policies(out: &mut String, a: &Assessment) {
    let c = &a.policy_comparison;
    if c.live.is_none() && c.seen.is_empty() {
        return;
    }
    out.push_str("<h3>Policies seen by reporters</h3>\n");
    if let Some(live) = &c.live {
        let _ = writeln!(
            out,
            "<p>The live policy:</p><pre>{}</pre>",
            esc(&live.join("\n"))
        );
    }
    if c.seen.is_empty() {
        return;
    }
    out.push_str("<table><thead><tr><th>Reporter</th><th>Seen</th><th>Sessions</th><th>Compared with the live policy</th></tr></thead><tbody>\n");
    for s in &c.seen {
        let mut diff = match s.matches_live {
            Some(true) => "same".to_owned(),
            Some(false) => String::new(),
            None => "not compared".to_owned(),
        };
        for l in &s.only_seen {
            let _ = write!(diff, "<del>{}</del><br>", esc(l));
        }
        for l in &s.only_live {
            let _ = write!(diff, "<ins>{}</ins><br>", esc(l));
        }
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{} to {}{}</td><td class=\"n\">{}</td><td>{diff}</td></tr>",
            esc(&s.organization),
            s.first_seen,
            s.last_seen,
            if s.latest { " (latest)" } else { "" },
            s.sessions
        );
    }
    out.push_str("</tbody></table>\n");
}

fn row(out: &mut String, label: &str, value: &str) {
    let _ = writeln!(
        out,
        "<tr><th>{}</th><td>{}</td></tr>",
        esc(label),
        esc(value)
    );
}

fn verdict(v: Verdict) -> String {
    format!("<span class=\"verdict {0}\">{0}</span>", v.as_str())
}

fn status(s: Status) -> &'static str {
    s.as_str()
}

/// Escapes text for element content and quoted attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn every_markup_character_is_escaped() {
        assert_eq!(
            esc("<script>alert('x&y')</script>\""),
            "&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt;&quot;"
        );
    }
}
