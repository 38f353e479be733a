//! Fuzzes the tolerant RFC 8460 report JSON parser: it returns a report or a reason,
//! never panics, and a parsed report's domains are never empty.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlsrpt_report::{Limits, parse};

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = parse(data, &Limits::default()) {
        for policy in &report.policies {
            assert!(!policy.policy.policy_domain.is_empty());
        }
    }
});
