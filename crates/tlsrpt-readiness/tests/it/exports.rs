//! The exports: attacker-controlled report text stays text in every format, CSV follows
//! RFC 4180 with formula cells neutralised, and one domain or many can be exported.

use tlsrpt_readiness::export::{CSV_COLUMNS, Format, to_csv, to_html, to_json, to_markdown};
use tlsrpt_readiness::{Assessment, Verdict};

use crate::support::*;

const EVIL_ORG: &str = "<script>alert(1)</script>";
const EVIL_REASON: &str = "<img src=x onerror=alert(2)> [click](javascript:alert(3)) | `x`";
const FORMULA_ORG: &str = "=HYPERLINK(\"http://evil.example\",\"x\")";

/// A not-ready domain whose failures come from hostile reporters.
fn hostile() -> Assessment {
    let mut e = clean();
    for org in [EVIL_ORG, FORMULA_ORG] {
        report(
            &mut e,
            ago(2),
            org,
            100,
            &policy_body(tlsrpt_check::Mode::Testing),
        );
        fail(
            &mut e,
            ago(2),
            org,
            "certificate-expired",
            Some("mx1.example.com"),
            50,
        )
        .failure_reason_code = Some(EVIL_REASON.to_owned());
    }
    run(&e)
}

#[test]
fn html_escapes_every_report_string() {
    let a = hostile();
    assert_eq!(a.verdict, Verdict::NotReady);
    let html = to_html(&[a]);
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(html.trim_end().ends_with("</html>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(
        !html.contains("<script"),
        "no script at all, injected or ours"
    );
    assert!(!html.contains("<img"));
    // No tag of the page links anywhere: no link, no external asset.
    for tag in html
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap())
    {
        assert!(!tag.contains("href") && !tag.contains("src"), "<{tag}>");
    }
    assert!(html.contains("<span class=\"verdict not-ready\">not-ready</span>"));
}

/// Markdown outside fenced code blocks.
fn prose(md: &str) -> String {
    let mut out = String::new();
    let mut fence: Option<String> = None;
    for line in md.lines() {
        let trimmed = line.trim_start();
        let ticks: String = trimmed.chars().take_while(|c| *c == '`').collect();
        match &fence {
            Some(open) if ticks == *open && trimmed == open.as_str() => fence = None,
            Some(_) => {}
            None if ticks.len() >= 3 => fence = Some(ticks),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

#[test]
fn markdown_cannot_be_injected() {
    let md = to_markdown(&[hostile()]);
    let prose = prose(&md);
    assert!(prose.contains("\\<script\\>alert(1)\\</script\\>"), "{md}");
    assert!(prose.contains("\\[click\\](javascript:alert(3))"));
    // Every markup character of report text is escaped: no raw `<`, `[` or backtick pair
    // survives outside code blocks, except the criterion ids we put in backticks ourselves.
    for (i, ch) in prose.char_indices() {
        if ch == '<' || ch == '[' {
            assert_eq!(
                &prose[i - 1..i],
                "\\",
                "unescaped {ch} in {}",
                &prose[i.saturating_sub(40)..i + 10]
            );
        }
    }
    // Table rows keep their column count: a `|` in report text is escaped.
    for line in prose.lines().filter(|l| l.starts_with("| ")) {
        let cells = line.replace("\\|", "").matches('|').count();
        assert!(cells == 4 || cells == 5, "{line}");
    }
}

#[test]
fn csv_neutralises_formulas_and_quotes_per_rfc_4180() {
    let a = hostile();
    let (criteria, steps) = (a.criteria.len(), a.plan.len());
    let csv = to_csv(&[a]);
    let rows = parse_csv(&csv);
    assert_eq!(rows[0], CSV_COLUMNS);
    assert_eq!(rows.len(), 1 + criteria + steps);
    assert!(rows.iter().all(|r| r.len() == CSV_COLUMNS.len()));
    for r in &rows {
        for cell in r {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "formula cell {cell:?}"
            );
        }
    }
    let orgs = rows
        .iter()
        .find(|r| r[13] == "criterion" && r[14] == "report-organisations")
        .unwrap();
    assert!(
        orgs[17].contains(FORMULA_ORG),
        "the name is kept, inside the cell"
    );
    assert!(orgs[17].contains(EVIL_ORG));
    let rate = rows.iter().find(|r| r[14] == "tls-failure-rate").unwrap();
    assert_eq!(rate[15], "fail");
    assert_eq!(rate[8], "100");
}

#[test]
fn a_cell_that_is_report_text_starting_with_a_formula_is_prefixed() {
    let mut e = clean();
    e.domain = "-cmd|' /C calc'!A0".to_owned();
    let csv = to_csv(&[run(&e)]);
    let rows = parse_csv(&csv);
    assert_eq!(rows[1][0], "'-cmd|' /C calc'!A0");
}

#[test]
fn one_domain_or_many() {
    let mut other = clean();
    other.domain = "example.net".to_owned();
    other.reporter_days.clear();
    let many = [run(&clean()), run(&other)];

    let md = to_markdown(&many);
    assert!(md.starts_with("# MTA-STS readiness\n"));
    assert!(md.contains("## MTA-STS readiness: example.com"));
    assert!(md.contains("## MTA-STS readiness: example.net"));
    assert!(md.contains("| example.net | **insufficient-data** |"));
    let one = to_markdown(&many[..1]);
    assert!(one.starts_with("# MTA-STS readiness: example.com\n\n**Verdict: ready.**"));

    let html = to_html(&many);
    assert_eq!(html.matches("<section class=\"domain\">").count(), 2);
    assert_eq!(html.matches("<!DOCTYPE html>").count(), 1);

    let json: serde_json::Value = serde_json::from_str(&to_json(&many)).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);
    assert_eq!(json[1]["verdict"], "insufficient-data");

    let rows = parse_csv(&to_csv(&many));
    let domains: std::collections::BTreeSet<&str> =
        rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        domains.into_iter().collect::<Vec<_>>(),
        ["example.com", "example.net"]
    );
}

#[test]
fn the_ready_plan_gives_the_exact_change_in_order() {
    let a = run(&clean());
    let md = Format::Markdown.render(std::slice::from_ref(&a));
    let titles: Vec<&str> = a.plan.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Publish the enforce policy",
            "Check that the new policy is served",
            "Rotate the id in the _mta-sts TXT record",
            "Watch the reports",
            "Raise max_age once stable",
        ]
    );
    assert_eq!(
        a.plan[0].text.as_deref(),
        Some(
            "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: mx2.example.com\nmax_age: 604800\n"
        )
    );
    assert_eq!(
        a.plan[2].text.as_deref(),
        Some("_mta-sts.example.com. IN TXT \"v=STSv1; id=20261122090000\"")
    );
    assert!(
        a.plan[4]
            .text
            .as_deref()
            .unwrap()
            .ends_with("max_age: 1209600\n")
    );
    assert!(
        md.contains("   ```\n   version: STSv1\n   mode: enforce\n"),
        "{md}"
    );
}

#[test]
fn format_names_round_trip() {
    for f in [Format::Markdown, Format::Json, Format::Csv, Format::Html] {
        assert_eq!(f.extension().parse::<Format>(), Ok(f));
    }
    assert!("xlsx".parse::<Format>().is_err());
}
