//! Fuzzes MIME extraction: bytes received as a mail message (IMAP, HTTPS POST) go
//! through `extract` under the transport's TLS-report claim and through the header
//! reader; neither may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlsrpt_ingest::{Claim, Limits, MessageMeta, extract};

fuzz_target!(|data: &[u8]| {
    let found = extract(data, Claim::Tlsrpt, &Limits::default());
    assert!(!found.is_empty());
    let _ = MessageMeta::read(data);
});
