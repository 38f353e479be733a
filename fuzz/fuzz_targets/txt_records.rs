//! Fuzzes the `_mta-sts` (RFC 8461 §3.1) and `_smtp._tls` (RFC 8460 §3) TXT record
//! parsers with the same text: each returns a record or an error, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlsrpt_check::{parse_sts_record, parse_tlsrpt_record};

fuzz_target!(|txt: &str| {
    let _ = parse_sts_record(txt);
    let _ = parse_tlsrpt_record(txt);
});
