//! Fuzzes content detection and bounded decompression: any bytes handed over as a file
//! (JSON, gzip, zip, base64, mail, mbox) go through `extract`, which must never panic
//! and must always say what it found.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlsrpt_ingest::{Claim, Limits, extract};

fuzz_target!(|data: &[u8]| {
    let found = extract(data, Claim::Operator, &Limits::default());
    assert!(!found.is_empty());
});
