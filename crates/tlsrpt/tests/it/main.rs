//! Integration tests of the `tlsrpt` binary: each test runs the real executable on its own
//! temporary database and checks its output, exit status and what it stored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod abuse;
mod alerts;
mod bad_input;
mod check_history;
mod compose;
mod control_chars;
mod corpus;
mod crash;
mod dashboard;
mod database;
mod duplicates;
mod forged;
mod held_memory;
mod help;
mod https;
mod imap;
mod lease;
mod metrics;
mod readiness;
mod rejected;
mod sanitise;
mod stats;
mod storage_faults;
mod summary;
mod support;
