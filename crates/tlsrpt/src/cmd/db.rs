//! `tlsrpt db check`: whether the stored data hold together (see
//! `Store::verify_consistency`), with the row counts.

use std::process::ExitCode;

use tlsrpt_store::Store;

use crate::cli::DbCheckArgs;
use crate::output::{print_line, terminal_safe};

pub async fn check(store: &Store, args: DbCheckArgs) -> anyhow::Result<ExitCode> {
    let consistency = store.verify_consistency().await?;
    if args.json {
        print_line(&serde_json::to_string(&consistency)?)?;
    } else {
        let c = &consistency.counts;
        print_line(&format!(
            "{} reports, {} policies, {} failure details, {} inputs; rollups: {} daily, {} domain-day, {} domains",
            c.reports,
            c.policies,
            c.failure_details,
            c.inputs,
            c.daily_rollups,
            c.daily_domain_totals,
            c.domain_activity
        ))?;
        for problem in &consistency.problems {
            print_line(&terminal_safe(&format!("problem: {problem}")))?;
        }
        if consistency.problems.is_empty() {
            print_line("consistent")?;
        }
    }
    Ok(if consistency.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
