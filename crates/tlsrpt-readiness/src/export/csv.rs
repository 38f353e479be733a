//! CSV export (RFC 4180): one row per criterion and one per plan step of every domain,
//! each repeating the domain's verdict and projection totals so that a spreadsheet can
//! filter and sort on any column.
//!
//! A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with a
//! single quote, so that a spreadsheet shows it as text instead of running it as a formula.

use crate::assessment::Assessment;

/// The header row, in order.
pub const CSV_COLUMNS: [&str; 18] = [
    "domain",
    "verdict",
    "headline",
    "window_since",
    "window_until",
    "live_check",
    "live_checked_at",
    "total_sessions",
    "would_refuse_sessions",
    "would_refuse_share",
    "unprotected_sessions",
    "unprotected_share",
    "ready_estimate",
    "row_type",
    "item",
    "status",
    "summary",
    "detail",
];

/// The assessments as CSV with a header row and CRLF line ends.
///
/// `row_type` is `criterion` (then `item` is the criterion id, `status` pass, warn or
/// fail, `summary` its summary, `detail` its evidence, one line each) or `step` (then
/// `item` is the step number, `summary` its title, `detail` its detail followed by the
/// text to publish). Shares are fractions from 0 to 1.
pub fn to_csv(assessments: &[Assessment]) -> String {
    let mut out = String::new();
    push_row(&mut out, CSV_COLUMNS.iter().map(|c| (*c).to_owned()));
    for a in assessments {
        let p = &a.projection;
        let domain_cells = [
            a.domain.clone(),
            a.verdict.as_str().to_owned(),
            a.headline.clone(),
            a.window.since.to_string(),
            a.window.until.to_string(),
            a.live_check.status.as_str().to_owned(),
            a.live_check
                .checked_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
            p.total_sessions.to_string(),
            p.would_refuse_sessions.to_string(),
            p.would_refuse_share.to_string(),
            p.unprotected_sessions.to_string(),
            p.unprotected_share.to_string(),
            a.ready_estimate.clone().unwrap_or_default(),
        ];
        for c in &a.criteria {
            let row = domain_cells.iter().cloned().chain([
                "criterion".to_owned(),
                c.id.as_str().to_owned(),
                c.status.as_str().to_owned(),
                c.summary.clone(),
                c.evidence.join("\n"),
            ]);
            push_row(&mut out, row);
        }
        for s in &a.plan {
            let detail = match &s.text {
                Some(text) => format!("{}\n\n{text}", s.detail),
                None => s.detail.clone(),
            };
            let row = domain_cells.iter().cloned().chain([
                "step".to_owned(),
                s.order.to_string(),
                String::new(),
                s.title.clone(),
                detail,
            ]);
            push_row(&mut out, row);
        }
    }
    out
}

fn push_row(out: &mut String, cells: impl Iterator<Item = String>) {
    let cells: Vec<String> = cells.map(|c| cell(&c)).collect();
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

/// One cell: neutralised against formula injection, then quoted when RFC 4180 needs it.
pub(crate) fn cell(value: &str) -> String {
    let neutral = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if neutral.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("\rx"), "\"'\rx\"");
    }

    #[test]
    fn plain_cells_are_left_alone_and_others_quoted() {
        assert_eq!(cell("example.com"), "example.com");
        assert_eq!(cell(""), "");
        assert_eq!(cell("a, b"), "\"a, b\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("a=b"), "a=b");
    }
}
