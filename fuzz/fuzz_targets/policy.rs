//! Fuzzes the MTA-STS policy file parser (RFC 8461 §3.2): it always yields a result
//! (a policy or the first reason it is invalid) and never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlsrpt_check::parse_policy;

fuzz_target!(|body: &[u8]| {
    let parse = parse_policy(body);
    assert!(parse.result.is_some());
});
