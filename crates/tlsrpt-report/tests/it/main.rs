//! Integration tests of the RFC 8460 §4 report parser: one test per real-world quirk on a
//! hand-written fixture, the rejections with their exact reasons, never-panic properties, and
//! the strict fast path held to the tolerant parser's results.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod hostile;
mod props;
mod quirks;
mod reject;
mod strict;

use chrono::{DateTime, Utc};
use tlsrpt_report::{Limits, Report, parse};

/// The bytes of `fixtures/quirks/<name>`.
fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../fixtures/quirks/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// Parses `fixtures/quirks/<name>` with the default limits; the fixture must be accepted.
fn parse_fixture(name: &str) -> Report {
    parse(&fixture(name), &Limits::default()).unwrap_or_else(|e| panic!("{name} was rejected: {e}"))
}

/// An RFC 3339 timestamp in UTC.
fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}
