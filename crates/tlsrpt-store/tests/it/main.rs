//! Integration tests of the store through its public API, on a temporary SQLite file:
//! de-duplication, atomic batches, lossless bytes, statistics, and opening the file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod alerts;
mod batch;
mod checks;
mod dedupe;
mod lease;
mod open;
mod rollups;
mod sources;
mod support;
