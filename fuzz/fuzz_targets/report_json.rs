//! Fuzzes the RFC 8460 report JSON parser: it returns a report or a reason, never panics,
//! a parsed report's domains are never empty, and the strict fast path returns a report
//! only when the tolerant parser returns the very same one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlsrpt_report::{Limits, parse, parse_strict, parse_tolerant};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let parsed = parse(data, &limits);
    if let Ok(report) = &parsed {
        for policy in &report.policies {
            assert!(!policy.policy.policy_domain.is_empty());
        }
    }
    let tolerant = parse_tolerant(data, &limits);
    if let Some(strict) = parse_strict(data, &limits) {
        assert_eq!(Ok(&strict), tolerant.as_ref(), "the fast path disagrees");
        assert!(strict.quirks.is_empty());
    }
    assert_eq!(parsed, tolerant, "parse differs from the tolerant parser");
});
