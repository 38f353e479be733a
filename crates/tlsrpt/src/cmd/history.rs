//! `tlsrpt check --history`: the stored checks of domains, newest first, with what changed
//! at each; without domains, the latest check of every checked domain. Also renders the
//! "Changes since" section that `tlsrpt check` prints after a report.

use std::fmt::Write as _;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tlsrpt_check::{Change, normalize_host};
use tlsrpt_store::{Store, StoredCheck};
use tlsrpt_watch::stored_changes;

use crate::output::{print_line, terminal_safe};

/// Lists the stored checks of `domains` (at most `limit` each), or the latest check of
/// every checked domain when `domains` is empty.
pub async fn run(
    store: &Store,
    domains: &[String],
    limit: u32,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let mut listed: Vec<(String, Vec<StoredCheck>)> = Vec::new();
    if domains.is_empty() {
        for check in store.latest_checks().await? {
            listed.push((check.domain.clone(), vec![check]));
        }
    } else {
        for domain in domains {
            let domain = normalize_host(domain).unwrap_or_else(|| domain.to_ascii_lowercase());
            let checks = store.check_history(&domain, i64::from(limit)).await?;
            listed.push((domain, checks));
        }
    }
    if json {
        let domains: Vec<Value> = listed
            .iter()
            .map(|(domain, checks)| {
                json!({
                    "domain": domain,
                    "checks": checks.iter().map(check_json).collect::<Vec<_>>(),
                })
            })
            .collect();
        print_line(&serde_json::to_string_pretty(
            &json!({ "domains": domains }),
        )?)?;
    } else {
        let mut out = String::new();
        if listed.is_empty() {
            out.push_str("no stored check\n");
        }
        for (domain, checks) in &listed {
            history_text(&mut out, domain, checks);
        }
        print_line(terminal_safe(&out).trim_end())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn check_json(check: &StoredCheck) -> Value {
    json!({
        "id": check.id,
        "checked_at": check.checked_at,
        "verdict": check.verdict,
        "sts_id": check.sts_id,
        "mode": check.mode,
        "mx_hosts": check.mx_hosts,
        "errors": check.errors,
        "warnings": check.warnings,
        "changes": stored_changes(check),
    })
}

fn history_text(out: &mut String, domain: &str, checks: &[StoredCheck]) {
    if checks.is_empty() {
        let _ = writeln!(out, "{domain}: no stored check");
        return;
    }
    let _ = writeln!(out, "{domain}:");
    for check in checks {
        let _ = writeln!(
            out,
            "  {}  {:<4}  id={} mode={} mx={}  ({} errors, {} warnings)",
            time(check.checked_at),
            check.verdict,
            check.sts_id.as_deref().unwrap_or("-"),
            check.mode.as_deref().unwrap_or("-"),
            if check.mx_hosts.is_empty() {
                "-".to_owned()
            } else {
                check.mx_hosts.join(",")
            },
            check.errors,
            check.warnings
        );
        for change in stored_changes(check) {
            let _ = writeln!(out, "      {}", change_line(&change));
        }
    }
}

fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// One change as a line: severity, kind, message, and the values before and after.
fn change_line(change: &Change) -> String {
    let values = match (&change.before, &change.after) {
        (None, None) => String::new(),
        (before, after) => format!(
            " [{} -> {}]",
            before.as_deref().unwrap_or("none"),
            after.as_deref().unwrap_or("none")
        ),
    };
    format!(
        "{:<7} {}: {}{values}",
        change.severity.as_str(),
        change.kind,
        change.message
    )
}

/// The "Changes since" section printed after a report.
pub fn changes_text(since: DateTime<Utc>, changes: &[Change]) -> String {
    let mut out = format!("  Changes since {}", time(since));
    if changes.is_empty() {
        out.push_str(": none");
    }
    for change in changes {
        let _ = write!(out, "\n    {}", change_line(change));
    }
    out
}
