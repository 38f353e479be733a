//! Prometheus metrics of tlsrpt, served on `/metrics` by `tlsrpt serve`: what the
//! database knows (inputs per source and outcome, IMAP sync state, report times, recent
//! sessions and failures per domain, check results) read at scrape time, and what only
//! the process knows (ingest latency, the report endpoint's answers, IMAP backlog) kept
//! in memory. docs/METRICS.md lists every metric with its labels and bounds.
//!
//! The text exposition format is written by hand ([`text`]): nearly every figure is
//! computed at scrape time from the store, which a client library's registry of
//! long-lived instruments does not fit, and the format is small and stable.

mod scrape;
mod telemetry;
pub mod text;

pub use scrape::{Exporter, OTHER_DOMAINS, Settings};
pub use telemetry::{IngestPath, Telemetry, telemetry};
