//! `tlsrpt stats`: session and failure totals per (policy-domain, policy-type).

use std::process::ExitCode;

use tlsrpt_store::{StatsFilter, Store};

use crate::cli::StatsArgs;
use crate::output::{print_line, terminal_safe};

pub async fn run(store: &Store, args: StatsArgs) -> anyhow::Result<ExitCode> {
    let filter = StatsFilter {
        domain: args.domain,
        since: args.since,
        until: args.until,
    };
    let domains = store.stats(&filter).await?;
    if args.json {
        print_line(&serde_json::to_string(
            &serde_json::json!({ "domains": domains }),
        )?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if domains.is_empty() {
        print_line("no reports match")?;
        return Ok(ExitCode::SUCCESS);
    }
    print_line(&format!(
        "{:<40} {:<16} {:>8} {:>12} {:>10}  failures by result type",
        "policy domain", "type", "reports", "successful", "failed"
    ))?;
    for d in &domains {
        let failures = d
            .failures_by_result_type
            .iter()
            .map(|(t, n)| format!("{t}={n}"))
            .collect::<Vec<_>>()
            .join(", ");
        print_line(&terminal_safe(&format!(
            "{:<40} {:<16} {:>8} {:>12} {:>10}  {failures}",
            d.policy_domain, d.policy_type, d.reports, d.successful_sessions, d.failed_sessions
        )))?;
    }
    Ok(ExitCode::SUCCESS)
}
