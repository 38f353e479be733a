//! The server-rendered pages: the portfolio, one domain, one report, rejected inputs,
//! the ingest sources and the alerts. Handlers gather data into view structs; the askama
//! templates in `web/templates/` only lay them out, escaping every string.

mod alerts;
mod domain;
mod inputs;
mod portfolio;
mod report;

use tlsrpt_readiness::Verdict;

pub(crate) use alerts::{AlertRow, apply as apply_alert_action, list as list_alerts};
pub use alerts::{AlertsParams, act, alert, alerts};
pub use domain::{domain, recheck, run_check};
pub use inputs::{rejected, sources};
pub use portfolio::{portfolio, portfolio_rows};
pub use report::{ReportParams, report};

pub(crate) const VERDICTS: [(Verdict, &str); 5] = [
    (Verdict::Ready, "Ready"),
    (Verdict::NotReady, "Not ready"),
    (Verdict::Blocked, "Blocked"),
    (Verdict::InsufficientData, "Insufficient data"),
    (Verdict::NotApplicable, "Not applicable"),
];

pub(crate) fn verdict_named(name: &str) -> Option<Verdict> {
    VERDICTS
        .iter()
        .map(|(v, _)| *v)
        .find(|v| v.as_str() == name)
}

pub(crate) fn verdict_label(verdict: Verdict) -> &'static str {
    VERDICTS
        .iter()
        .find(|(v, _)| *v == verdict)
        .map_or("", |(_, label)| label)
}

/// Percent-encodes a query value.
pub(crate) fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
