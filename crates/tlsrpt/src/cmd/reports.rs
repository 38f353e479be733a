//! `tlsrpt reports`: the stored reports, with how each arrived and whether it is trusted.

use std::process::ExitCode;

use tlsrpt_store::Store;

use crate::cli::ReportsArgs;
use crate::output::{print_line, terminal_safe};

pub async fn run(store: &Store, args: ReportsArgs) -> anyhow::Result<ExitCode> {
    let reports = store
        .reports(args.domain.as_deref(), i64::from(args.limit))
        .await?;
    if args.json {
        #[derive(serde::Serialize)]
        struct Output<'a> {
            reports: &'a [tlsrpt_store::StoredReport],
        }
        print_line(&serde_json::to_string(&Output { reports: &reports })?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if reports.is_empty() {
        print_line("no reports match")?;
    }
    for r in &reports {
        let day = |t: i64| {
            chrono::DateTime::from_timestamp(t, 0)
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        };
        let trust = if r.trusted { "trusted" } else { "NOT trusted" };
        print_line(&terminal_safe(&format!(
            "{} .. {}  {:<28} {}  [{}, {trust}]",
            day(r.start_time),
            day(r.end_time),
            r.organization_name,
            r.report_id,
            r.auth
        )))?;
    }
    Ok(ExitCode::SUCCESS)
}
